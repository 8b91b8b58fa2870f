-- Herald schema 2: the retry budget of a job, metrics tasks and snapshots,
-- and a small versioned key-value state.

-- Failed attempts since creation or the last operator's retry (attempt counts
-- every claim, rate-limit waits included). Jobs recorded before this
-- migration start with none: no stored number tells failures from waits.
ALTER TABLE jobs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

-- Pending metrics captures, created with a job's success, deleted when their
-- snapshot is recorded. stage is a duration in nanoseconds.
CREATE TABLE metrics_tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    schedule_id TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    post_id     TEXT    NOT NULL,
    stage       INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    node        TEXT    NOT NULL DEFAULT '',
    lease_until INTEGER, -- NULL unless leased
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (job_id, post_id, stage)
);

-- ClaimMetricsTasks and NextMetricsDue: an account's queue in due order;
-- MetricsAccounts: the distinct accounts.
CREATE INDEX metrics_tasks_due ON metrics_tasks (account, due_at, id);

-- What was captured, one row per (job, post, stage), kept forever.
-- non_public and organic are JSON objects, NULL when not available.
CREATE TABLE metrics_snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    post_id     TEXT    NOT NULL,
    stage       INTEGER NOT NULL,
    due_at      INTEGER NOT NULL,
    captured_at INTEGER NOT NULL,
    likes       INTEGER NOT NULL,
    reposts     INTEGER NOT NULL,
    replies     INTEGER NOT NULL,
    quotes      INTEGER NOT NULL,
    bookmarks   INTEGER NOT NULL,
    impressions INTEGER NOT NULL,
    non_public  TEXT,
    organic     TEXT,
    detail      TEXT    NOT NULL,
    UNIQUE (job_id, post_id, stage)
);

-- Versioned entries (OAuth refresh tokens, encrypted by the caller; cursors).
CREATE TABLE kv_state (
    key        TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    version    INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
