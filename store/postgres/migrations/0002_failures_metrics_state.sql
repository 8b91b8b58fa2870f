-- Herald schema 2: the retry budget of a job, metrics tasks and snapshots,
-- and a small versioned key-value state.

-- Failed attempts since creation or the last operator's retry (attempt counts
-- every claim, rate-limit waits included). Jobs recorded before this
-- migration start with none: no stored number tells failures from waits.
-- A constant default: no table rewrite.
ALTER TABLE jobs ADD COLUMN failures integer NOT NULL DEFAULT 0;

-- Pending metrics captures, created with a job's success, deleted when their
-- snapshot is recorded. stage is a duration in nanoseconds. No foreign key
-- to jobs, as for job_events: tasks are only written in the transaction of
-- the job's success.
CREATE TABLE metrics_tasks (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint  NOT NULL,
    schedule_id text    NOT NULL,
    account     text    NOT NULL,
    post_id     text    NOT NULL,
    stage       bigint  NOT NULL,
    due_at      bigint  NOT NULL,
    tries       integer NOT NULL DEFAULT 0,
    node        text    NOT NULL DEFAULT '',
    lease_until bigint, -- NULL unless leased
    last_error  text    NOT NULL DEFAULT '',
    created_at  bigint  NOT NULL,
    UNIQUE (job_id, post_id, stage)
);

-- ClaimMetricsTasks and NextMetricsDue: an account's queue in due order;
-- MetricsAccounts: the distinct accounts.
CREATE INDEX metrics_tasks_due ON metrics_tasks (account, due_at, id);

-- What was captured, one row per (job, post, stage), kept forever.
-- non_public and organic are JSON objects as text (read back exactly as in
-- SQLite), NULL when not available.
CREATE TABLE metrics_snapshots (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint NOT NULL,
    post_id     text   NOT NULL,
    stage       bigint NOT NULL,
    due_at      bigint NOT NULL,
    captured_at bigint NOT NULL,
    likes       bigint NOT NULL,
    reposts     bigint NOT NULL,
    replies     bigint NOT NULL,
    quotes      bigint NOT NULL,
    bookmarks   bigint NOT NULL,
    impressions bigint NOT NULL,
    non_public  text,
    organic     text,
    detail      text   NOT NULL,
    UNIQUE (job_id, post_id, stage)
);

-- Versioned entries (OAuth refresh tokens, encrypted by the caller; cursors).
CREATE TABLE kv_state (
    key        text   PRIMARY KEY,
    value      bytea  NOT NULL,
    version    bigint NOT NULL,
    updated_at bigint NOT NULL
);
