-- Herald schema 1: jobs, their transition events, and per-schedule fire
-- counters. Instants are bigint Unix nanoseconds (UTC): exact, where
-- timestamptz would keep microseconds, and the same as in SQLite.
-- to_timestamp(col / 1e9) reads one in psql.

-- One row per schedule that ever fired: the run counter (so a new job's run
-- number costs one primary-key lookup) and the latest scheduled planned
-- instant (so LatestFires is one lookup per schedule, not a scan of jobs).
CREATE TABLE schedule_fires (
    schedule_id     text   PRIMARY KEY,
    last_run        bigint NOT NULL,
    last_planned_at bigint -- NULL while the schedule has only manual jobs
);

CREATE TABLE jobs (
    id             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id    text    NOT NULL,
    planned_at     bigint  NOT NULL,
    due_at         bigint  NOT NULL,
    status         text    NOT NULL CHECK (status IN
                   ('planned', 'running', 'succeeded', 'retrying', 'dead', 'unknown', 'cancelled', 'missed')),
    attempt        integer NOT NULL DEFAULT 0,
    run            bigint  NOT NULL,
    trigger_kind   text    NOT NULL CHECK (trigger_kind IN ('scheduled', 'catchup', 'manual')),
    correlation_id text    NOT NULL DEFAULT '',
    node           text    NOT NULL DEFAULT '',
    lease_until    bigint, -- NULL unless running
    post_ids       text[]  NOT NULL DEFAULT '{}',
    last_error     text    NOT NULL DEFAULT '',
    dead_reason    text    NOT NULL DEFAULT '',
    created_at     bigint  NOT NULL,
    updated_at     bigint  NOT NULL,
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

-- job_id has no foreign key: events are only written in the transaction of
-- the job change they record, and the per-row key check (and key-share lock
-- on the job) cost a third of a 10,000-fire burst. Pruning deletes events
-- with their jobs.
CREATE TABLE job_events (
    id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint  NOT NULL,
    at          bigint  NOT NULL,
    from_status text    NOT NULL, -- '' for creation
    to_status   text    NOT NULL,
    node        text    NOT NULL,
    attempt     integer NOT NULL,
    detail      text    NOT NULL
);

CREATE INDEX job_events_job ON job_events (job_id, id);
