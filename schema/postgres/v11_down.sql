-- V11 down — mirrors lib/oban/migrations/postgres/v11.ex down/1 (v2.23.1).

-- name: drop_peers
DROP TABLE {prefix}.oban_peers;
