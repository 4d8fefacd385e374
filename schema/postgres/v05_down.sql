-- V05 down — mirrors lib/oban/migrations/postgres/v05.ex down/1 (v2.23.1).

-- name: drop_queue_state_scheduled_at_id_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_queue_state_scheduled_at_id_index;

-- name: create_queue_index
CREATE INDEX IF NOT EXISTS oban_jobs_queue_index ON {prefix}.oban_jobs (queue);

-- name: create_state_index
CREATE INDEX IF NOT EXISTS oban_jobs_state_index ON {prefix}.oban_jobs (state);

-- name: create_scheduled_at_index
CREATE INDEX oban_jobs_scheduled_at_index ON {prefix}.oban_jobs (scheduled_at)
WHERE state in ('available'::{prefix}.oban_job_state, 'scheduled'::{prefix}.oban_job_state);
