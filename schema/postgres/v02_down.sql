-- V02 down — mirrors lib/oban/migrations/postgres/v02.ex down/1 (v2.23.1).

-- name: drop_queue_length
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT IF EXISTS queue_length;

-- name: drop_worker_length
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT IF EXISTS worker_length;

-- name: drop_scheduled_at_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_scheduled_at_index;

-- name: create_scheduled_at_index
CREATE INDEX oban_jobs_scheduled_at_index ON {prefix}.oban_jobs (scheduled_at);

-- name: drop_wrap_id_function
DROP FUNCTION IF EXISTS {prefix}.oban_wrap_id(value bigint);
