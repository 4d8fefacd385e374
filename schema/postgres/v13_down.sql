-- V13 down — mirrors lib/oban/migrations/postgres/v13.ex down/1 (v2.23.1).

-- name: drop_state_discarded_at_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_state_discarded_at_index;

-- name: drop_state_cancelled_at_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_state_cancelled_at_index;
