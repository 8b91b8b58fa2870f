-- Herald schema 5: an index for retention. PruneJobs takes the oldest
-- terminal jobs (and old dead letters) by their last change; without it
-- each batch would scan the whole table. Partial: the jobs still in flight,
-- the ones fires write, are not in it and pay nothing for it. Building it
-- reads the table once, at the upgrade.
CREATE INDEX IF NOT EXISTS jobs_prune ON jobs (updated_at, id) WHERE status IN ('succeeded', 'cancelled', 'missed', 'dead');
