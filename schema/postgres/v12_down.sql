-- V12 down — mirrors lib/oban/migrations/postgres/v12.ex down/1 (v2.23.1).

-- name: drop_non_negative_priority
ALTER TABLE {prefix}.oban_jobs DROP CONSTRAINT non_negative_priority;

-- name: add_priority_range
ALTER TABLE {prefix}.oban_jobs ADD CONSTRAINT priority_range
CHECK (priority between 0 and 3) NOT VALID;

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

-- name: create_trigger
CREATE TRIGGER oban_notify
AFTER INSERT ON {prefix}.oban_jobs
FOR EACH ROW EXECUTE PROCEDURE {prefix}.oban_jobs_notify();
