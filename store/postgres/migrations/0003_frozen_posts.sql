-- Herald schema 3: the post frozen for each job, the instants a job may
-- have sent a post from, and the queue of unknown jobs to reconcile.

-- The JSON of store.FrozenPost (texts, account, media), written when the
-- fire is recorded or at the job's first claim; NULL until frozen, as for
-- every job recorded before this migration. Text, not jsonb: nothing
-- queries into it, and jsonb's parse on every insert and rendering on
-- every read of a job cost a burst of 2,000 fires tens of milliseconds.
-- Nullable columns without a default: no table rewrite.
ALTER TABLE jobs ADD COLUMN post text;
-- The earliest instant the current (or last) attempt may have sent: set by
-- every claim and when the media are recorded. NULL before the first claim.
ALTER TABLE jobs ADD COLUMN send_floor bigint;
-- When the job first sent (or may have sent) a post, over all attempts;
-- set once. NULL while it never sent.
ALTER TABLE jobs ADD COLUMN first_sent_at bigint;

-- ClaimUnknown: unknown jobs in the order of their next check.
CREATE INDEX jobs_unknown_due ON jobs (due_at, id) WHERE status = 'unknown';

-- Jobs in flight when Herald was upgraded were claimed without a send
-- floor; their creation is a safe one (no attempt sends before it). Those
-- that may have sent (unknown, or with posts published) get it as their
-- first send, so reconciliation does not take them for jobs that never did.
UPDATE jobs SET send_floor = created_at WHERE status = 'running';
UPDATE jobs SET first_sent_at = created_at
WHERE status = 'unknown' OR (status IN ('running', 'retrying', 'dead') AND post_ids <> '{}');
