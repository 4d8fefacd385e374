-- V10 up — mirrors lib/oban/migrations/postgres/v10.ex up/1 (v2.23.1).

-- name: alter_columns
-- "These didn't have defaults out of consideration for older PG versions"
ALTER TABLE {prefix}.oban_jobs
  ALTER COLUMN args SET DEFAULT '{{}}',
  ALTER COLUMN priority SET NOT NULL;

-- name: add_priority_range
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT priority_range CHECK (priority between 0 and 3);

-- name: add_positive_max_attempts
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT positive_max_attempts CHECK (max_attempts > 0);

-- name: add_attempt_range
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT attempt_range
CHECK (attempt between 0 and max_attempts);

-- name: drop_args_vector
-- "These are unused or unnecessary"
DROP INDEX IF EXISTS {prefix}.oban_jobs_args_vector;

-- name: drop_worker_gist
DROP INDEX IF EXISTS {prefix}.oban_jobs_worker_gist;

-- name: drop_attempted_at_id_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_attempted_at_id_index;

-- name: create_args_index
-- "These are necessary to keep unique checks fast in large tables"
CREATE INDEX IF NOT EXISTS oban_jobs_args_index ON {prefix}.oban_jobs USING gin (args);

-- name: create_meta_index
CREATE INDEX IF NOT EXISTS oban_jobs_meta_index ON {prefix}.oban_jobs USING gin (meta);
