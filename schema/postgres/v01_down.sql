-- V01 down — mirrors lib/oban/migrations/postgres/v01.ex down/1 (v2.23.1). The schema itself is
-- left in place, as Oban leaves it.

-- name: drop_trigger
DROP TRIGGER IF EXISTS oban_notify ON {prefix}.oban_jobs;

-- name: drop_notify_function
DROP FUNCTION IF EXISTS {prefix}.oban_jobs_notify();

-- name: drop_jobs
DROP TABLE IF EXISTS {prefix}.oban_jobs;

-- name: drop_enum
DROP TYPE IF EXISTS {prefix}.oban_job_state;
