-- V04 up — mirrors lib/oban/migrations/postgres/v04.ex up/1 (v2.23.1).

-- name: drop_wrap_id_function
DROP FUNCTION IF EXISTS {prefix}.oban_wrap_id(value bigint);
