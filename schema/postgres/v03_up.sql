-- V03 up — mirrors lib/oban/migrations/postgres/v03.ex up/1 (v2.23.1).

-- name: add_attempted_by
ALTER TABLE {prefix}.oban_jobs ADD COLUMN IF NOT EXISTS attempted_by text[];
