-- V04 down — mirrors lib/oban/migrations/postgres/v04.ex down/1 (v2.23.1).

-- name: create_wrap_id_function
CREATE OR REPLACE FUNCTION {prefix}.oban_wrap_id(value bigint) RETURNS int AS $$
BEGIN
  RETURN (CASE WHEN value > 2147483647 THEN mod(value, 2147483647) ELSE value END)::int;
END;
$$ LANGUAGE plpgsql IMMUTABLE;
