-- V13 up — mirrors lib/oban/migrations/postgres/v13.ex up/1 (v2.23.1; first shipped in v2.20.0).

-- name: create_state_cancelled_at_index
CREATE INDEX IF NOT EXISTS oban_jobs_state_cancelled_at_index
ON {prefix}.oban_jobs (state, cancelled_at);

-- name: create_state_discarded_at_index
CREATE INDEX IF NOT EXISTS oban_jobs_state_discarded_at_index
ON {prefix}.oban_jobs (state, discarded_at);
