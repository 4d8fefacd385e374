-- V08 up — mirrors lib/oban/migrations/postgres/v08.ex up/1 (v2.23.1).

-- name: add_columns
ALTER TABLE {prefix}.oban_jobs
  ADD COLUMN IF NOT EXISTS discarded_at timestamp,
  ADD COLUMN IF NOT EXISTS priority integer,
  ADD COLUMN IF NOT EXISTS tags text[];

-- name: set_defaults
ALTER TABLE {prefix}.oban_jobs
  ALTER COLUMN priority SET DEFAULT 0,
  ALTER COLUMN tags SET DEFAULT ARRAY[]::text[];

-- name: drop_queue_state_scheduled_at_id_index
DROP INDEX IF EXISTS {prefix}.oban_jobs_queue_state_scheduled_at_id_index;

-- name: create_state_queue_priority_scheduled_at_id_index
CREATE INDEX IF NOT EXISTS oban_jobs_state_queue_priority_scheduled_at_id_index
ON {prefix}.oban_jobs (state, queue, priority, scheduled_at, id);

-- name: create_notify_function
-- channel from TG_TABLE_SCHEMA (= the prefix), as in v01_up.sql
CREATE OR REPLACE FUNCTION {prefix}.oban_jobs_notify() RETURNS trigger AS $$
DECLARE
  channel text;
  notice json;
BEGIN
  IF NEW.state = 'available' THEN
    channel = TG_TABLE_SCHEMA || '.oban_insert';
    notice = json_build_object('queue', NEW.queue);

    PERFORM pg_notify(channel, notice::text);
  END IF;

  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- name: drop_trigger
DROP TRIGGER IF EXISTS oban_notify ON {prefix}.oban_jobs;

-- name: create_trigger
CREATE TRIGGER oban_notify
AFTER INSERT ON {prefix}.oban_jobs
FOR EACH ROW EXECUTE PROCEDURE {prefix}.oban_jobs_notify();
