-- V12 up — mirrors lib/oban/migrations/postgres/v12.ex up/1 (v2.23.1). Notifications move to
-- application code: the trigger and its function are dropped.

-- name: drop_priority_range
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT priority_range;

-- name: add_non_negative_priority
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT non_negative_priority
CHECK (priority >= 0) NOT VALID;

-- name: drop_trigger
DROP TRIGGER IF EXISTS oban_notify ON {prefix}.oban_jobs;

-- name: drop_notify_function
DROP FUNCTION IF EXISTS {prefix}.oban_jobs_notify();
