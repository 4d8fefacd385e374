-- V02 up — mirrors lib/oban/migrations/postgres/v02.ex up/1 (v2.23.1).

-- name: drop_scheduled_at_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_scheduled_at_index;

-- name: create_scheduled_at_index
-- "We only need the scheduled_at index for scheduled and available jobs"
CREATE INDEX oban_jobs_scheduled_at_index ON {prefix}.oban_jobs (scheduled_at)
WHERE state in ('available'::{prefix}.oban_job_state, 'scheduled'::{prefix}.oban_job_state);

-- name: add_worker_length
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT worker_length
CHECK (char_length(worker) > 0 AND char_length(worker) < 128);

-- name: add_queue_length
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT queue_length
CHECK (char_length(queue) > 0 AND char_length(queue) < 128);

-- name: create_wrap_id_function
CREATE OR REPLACE FUNCTION {prefix}.oban_wrap_id(value bigint) RETURNS int AS $$
BEGIN
  RETURN (CASE WHEN value > 2147483647 THEN mod(value, 2147483647) ELSE value END)::int;
END;
$$ LANGUAGE plpgsql IMMUTABLE;
