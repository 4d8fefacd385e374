-- V07 down — mirrors lib/oban/migrations/postgres/v07.ex down/1 (v2.23.1).

-- name: drop_attempted_at_id_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_attempted_at_id_index;
