-- V09 down — mirrors lib/oban/migrations/postgres/v09.ex down/1 (v2.23.1): the 'cancelled'
-- label stays in the enum (PostgreSQL cannot drop enum labels).

-- name: drop_columns
ALTER TABLE {prefix}.oban_jobs
  DROP COLUMN IF EXISTS meta,
  DROP COLUMN IF EXISTS cancelled_at;

-- name: discard_cancelled
UPDATE {prefix}.oban_jobs SET state = 'discarded' WHERE state = 'cancelled';
