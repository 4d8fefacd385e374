-- V14 up — mirrors lib/oban/migrations/postgres/v14.ex up/1 (v2.21.1+, v2.23.1), not v2.21.0's
-- type swap. A no-op when V01 created all 8 labels; on a 7-label enum 'suspended' gets
-- enumsortorder 1.5, exactly as a 2.18.3 install upgraded by 2.23.1.

-- name: add_suspended_label
ALTER TYPE {prefix}.oban_job_state ADD VALUE IF NOT EXISTS 'suspended' BEFORE 'scheduled';
