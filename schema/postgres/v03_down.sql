-- V03 down — mirrors lib/oban/migrations/postgres/v03.ex down/1 (v2.23.1).

-- name: drop_attempted_by
ALTER TABLE {prefix}.oban_jobs DROP COLUMN IF EXISTS attempted_by;
