-- Herald schema 1: jobs, their transition events, and per-schedule fire
-- counters. Instants are INTEGER Unix nanoseconds (UTC), exact.

-- One row per schedule that ever fired: the run counter (so a new job's run
-- number costs one primary-key lookup) and the latest scheduled planned
-- instant (so LatestFires is one lookup per schedule, not a scan of jobs).
CREATE TABLE schedule_fires (
    schedule_id     TEXT    PRIMARY KEY,
    last_run        INTEGER NOT NULL,
    last_planned_at INTEGER -- NULL while the schedule has only manual jobs
);

CREATE TABLE jobs (
    -- AUTOINCREMENT: IDs are never reused, even after deletes.
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id    TEXT    NOT NULL,
    planned_at     INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN
                   ('planned', 'running', 'succeeded', 'retrying', 'dead', 'unknown', 'cancelled', 'missed')),
    attempt        INTEGER NOT NULL DEFAULT 0,
    run            INTEGER NOT NULL,
    trigger_kind   TEXT    NOT NULL CHECK (trigger_kind IN ('scheduled', 'catchup', 'manual')),
    correlation_id TEXT    NOT NULL DEFAULT '',
    node           TEXT    NOT NULL DEFAULT '',
    lease_until    INTEGER, -- NULL unless running
    post_ids       TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    last_error     TEXT    NOT NULL DEFAULT '',
    dead_reason    TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    -- The fire's identity: recording a fire twice is a no-op.
    UNIQUE (schedule_id, planned_at)
);

-- ClaimJobs: the due queue.
CREATE INDEX jobs_due ON jobs (due_at, id) WHERE status IN ('planned', 'retrying');
-- ExpireLeases and ReleaseLeases.
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE status = 'running';
-- ListJobs without a schedule, and by status (dead letters).
CREATE INDEX jobs_planned ON jobs (planned_at, id);
CREATE INDEX jobs_status_planned ON jobs (status, planned_at, id);

CREATE TABLE job_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    from_status TEXT    NOT NULL, -- '' for creation
    to_status   TEXT    NOT NULL,
    node        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    detail      TEXT    NOT NULL
);

CREATE INDEX job_events_job ON job_events (job_id, id);
