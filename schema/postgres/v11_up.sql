-- V11 up — mirrors lib/oban/migrations/postgres/v11.ex up/1 (v2.23.1).

-- name: create_peers
CREATE TABLE IF NOT EXISTS {prefix}.oban_peers (
  name text NOT NULL,
  node text NOT NULL,
  started_at timestamp NOT NULL,
  expires_at timestamp NOT NULL,
  PRIMARY KEY (name)
);

-- name: set_unlogged
-- skipped with unlogged=False, as Oban's `unlogged: false` option
ALTER TABLE {prefix}.oban_peers SET UNLOGGED;
