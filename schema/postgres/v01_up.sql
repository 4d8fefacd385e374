-- V01 up — mirrors lib/oban/migrations/postgres/v01.ex up/1 (v2.23.1; v2.18.3 for the 6-label enum).
-- Statements are separated by `-- name:` lines; bridge/ops/schema.py decides which conditional
-- ones run. `{prefix}` is the quoted schema identifier; literal braces would be doubled.

-- name: create_schema
-- only when prefix != 'public' — mirrors postgres.ex with_defaults/2 (create_schema) and v01.ex up/1
CREATE SCHEMA IF NOT EXISTS {prefix};

-- name: create_enum
-- target >= 14 and no enum yet — mirrors v01.ex up/1 @v2.21.0+ (commit 561170c5: all 8 labels)
CREATE TYPE {prefix}.oban_job_state AS ENUM (
  'available',
  'suspended',
  'scheduled',
  'executing',
  'retryable',
  'completed',
  'discarded',
  'cancelled'
);

-- name: create_enum_legacy
-- target < 14 and no enum yet — mirrors v01.ex up/1 @v2.18.3 (6 labels; V09 appends 'cancelled')
CREATE TYPE {prefix}.oban_job_state AS ENUM (
  'available',
  'scheduled',
  'executing',
  'retryable',
  'completed',
  'discarded'
);

-- name: create_jobs
-- mirrors v01.ex up/1 create_if_not_exists table(:oban_jobs) — args has no default until V10
CREATE TABLE IF NOT EXISTS {prefix}.oban_jobs (
  id bigserial,
  state {prefix}.oban_job_state NOT NULL DEFAULT 'available',
  queue text NOT NULL DEFAULT 'default',
  worker text NOT NULL,
  args jsonb NOT NULL,
  errors jsonb[] NOT NULL DEFAULT ARRAY[]::jsonb[],
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 20,
  inserted_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
  scheduled_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
  attempted_at timestamp,
  completed_at timestamp,
  PRIMARY KEY (id)
);

-- name: create_queue_index
CREATE INDEX IF NOT EXISTS oban_jobs_queue_index ON {prefix}.oban_jobs (queue);

-- name: create_state_index
CREATE INDEX IF NOT EXISTS oban_jobs_state_index ON {prefix}.oban_jobs (state);

-- name: create_scheduled_at_index
CREATE INDEX IF NOT EXISTS oban_jobs_scheduled_at_index ON {prefix}.oban_jobs (scheduled_at);

-- name: create_notify_function
-- mirrors v01.ex up/1 oban_jobs_notify(); the channel is built from TG_TABLE_SCHEMA (= the
-- prefix) instead of a pasted '<prefix>' literal, so no prefix text ever lands inside $$ … $$.
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
