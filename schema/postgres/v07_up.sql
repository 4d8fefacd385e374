-- V07 up — mirrors lib/oban/migrations/postgres/v07.ex up/1 (v2.23.1).

-- name: create_attempted_at_id_index
CREATE INDEX IF NOT EXISTS oban_jobs_attempted_at_id_index
ON {prefix}.oban_jobs (attempted_at desc, id)
WHERE state in ('completed', 'discarded');
