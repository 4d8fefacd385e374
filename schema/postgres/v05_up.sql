-- V05 up — mirrors lib/oban/migrations/postgres/v05.ex up/1 (v2.23.1).

-- name: drop_scheduled_at_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_scheduled_at_index;

-- name: drop_queue_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_queue_index;

-- name: drop_state_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_state_index;

-- name: create_queue_state_scheduled_at_id_index
CREATE INDEX IF NOT EXISTS oban_jobs_queue_state_scheduled_at_id_index
ON {prefix}.oban_jobs (queue, state, scheduled_at, id);
