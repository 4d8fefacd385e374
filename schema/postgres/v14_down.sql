-- V14 down — mirrors lib/oban/migrations/postgres/v14.ex down/1 (v2.23.1): the label stays.

-- name: unsuspend
UPDATE {prefix}.oban_jobs SET state = 'scheduled' WHERE state = 'suspended';
