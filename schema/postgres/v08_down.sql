-- V08 down — mirrors lib/oban/migrations/postgres/v08.ex down/1 (v2.23.1).

-- name: drop_queue_state_priority_scheduled_at_id_index
-- Oban drops the (queue, state, priority, …) name, which no version creates: a no-op kept as is
DROP INDEX IF EXISTS {prefix}.oban_jobs_queue_state_priority_scheduled_at_id_index;

-- name: create_queue_state_scheduled_at_id_index
CREATE INDEX IF NOT EXISTS oban_jobs_queue_state_scheduled_at_id_index
ON {prefix}.oban_jobs (queue, state, scheduled_at, id);

-- name: drop_columns
ALTER TABLE {prefix}.oban_jobs
  DROP COLUMN IF EXISTS discarded_at,
  DROP COLUMN IF EXISTS priority,
  DROP COLUMN IF EXISTS tags;

-- name: create_notify_function
-- channel from TG_TABLE_SCHEMA (= the prefix), as in v01_up.sql
CREATE OR REPLACE FUNCTION {prefix}.oban_jobs_notify() RETURNS trigger AS $$
DECLARE
  channel text;
  notice json;
BEGIN
  IF (TG_OP = 'INSERT') THEN
    channel = TG_TABLE_SCHEMA || '.oban_insert';
    notice = json_build_object('queue', NEW.queue, 'state', NEW.state);

    -- No point triggering for a job that isn't scheduled to run now
    IF NEW.scheduled_at IS NOT NULL AND NEW.scheduled_at > now() AT TIME ZONE 'utc' THEN
      RETURN null;
    END IF;
  ELSE
    channel = TG_TABLE_SCHEMA || '.oban_update';
    notice = json_build_object('queue', NEW.queue, 'new_state', NEW.state, 'old_state', OLD.state);
  END IF;

  PERFORM pg_notify(channel, notice::text);

  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- name: drop_trigger
DROP TRIGGER IF EXISTS oban_notify ON {prefix}.oban_jobs;

-- name: create_trigger
CREATE TRIGGER oban_notify
AFTER INSERT OR UPDATE OF state ON {prefix}.oban_jobs
FOR EACH ROW EXECUTE PROCEDURE {prefix}.oban_jobs_notify();
