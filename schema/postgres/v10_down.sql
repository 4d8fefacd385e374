-- V10 down — mirrors lib/oban/migrations/postgres/v10.ex down/1 (v2.23.1). Like Oban, it keeps
-- the GIN indexes and does not bring back the V07 index.

-- name: alter_columns
-- Ecto's `default: nil` stores no default, i.e. DROP DEFAULT
ALTER TABLE {prefix}.oban_jobs
  ALTER COLUMN args DROP DEFAULT,
  ALTER COLUMN priority DROP NOT NULL;

-- name: drop_attempt_range
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT IF EXISTS attempt_range;

-- name: drop_positive_max_attempts
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT IF EXISTS positive_max_attempts;

-- name: drop_priority_range
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT IF EXISTS priority_range;
