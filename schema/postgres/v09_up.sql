-- V09 up — mirrors lib/oban/migrations/postgres/v09.ex up/1 (v2.23.1; v2.18.3 on PG >= 12).
-- ADD VALUE runs inside the migration transaction, as in Oban's Ecto migration; nothing in the
-- same run uses the new label, which PostgreSQL 12+ requires.

-- name: add_columns
ALTER TABLE {prefix}.oban_jobs
  ADD COLUMN IF NOT EXISTS meta jsonb DEFAULT '{{}}',
  ADD COLUMN IF NOT EXISTS cancelled_at timestamp;

-- name: add_cancelled_label
-- a no-op when V01 created all 8 labels
ALTER TYPE {prefix}.oban_job_state ADD VALUE IF NOT EXISTS 'cancelled';

-- name: create_state_queue_priority_scheduled_at_id_index
CREATE INDEX IF NOT EXISTS oban_jobs_state_queue_priority_scheduled_at_id_index
ON {prefix}.oban_jobs (state, queue, priority, scheduled_at, id);
