-- One job's life as Herald writes it (record the fire, claim it, record
-- the outcome, each with its event), one statement at a time and one
-- transaction per step: the unbatched baseline for `make bench-pgbench`.
-- A pgbench "transaction" of this script is one job through the state
-- machine, so its TPS compares with Herald's jobs per second.
\set sid random(1, 1000000000)
\set now random(1, 1000000000000)
BEGIN;
INSERT INTO schedule_fires (schedule_id, last_run, last_planned_at) VALUES ('s' || :sid, 1, :now)
  ON CONFLICT (schedule_id) DO UPDATE SET last_run = schedule_fires.last_run + 1, last_planned_at = EXCLUDED.last_planned_at
  RETURNING last_run AS run \gset
INSERT INTO jobs (schedule_id, planned_at, due_at, status, run, trigger_kind, correlation_id, created_at, updated_at)
  VALUES ('s' || :sid, :now, :now, 'planned', :run, 'scheduled', 'c', :now, :now)
  ON CONFLICT (schedule_id, planned_at) DO NOTHING RETURNING id \gset
INSERT INTO job_events (job_id, at, from_status, to_status, node, attempt, detail) VALUES (:id, :now, '', 'planned', 'bench', 0, '');
COMMIT;
BEGIN;
UPDATE jobs SET status = 'running', attempt = attempt + 1, node = 'bench', lease_until = :now + 60000000000, updated_at = :now
  WHERE id = :id AND status IN ('planned', 'retrying') AND due_at <= :now;
INSERT INTO job_events (job_id, at, from_status, to_status, node, attempt, detail) VALUES (:id, :now, 'planned', 'running', 'bench', 1, '');
COMMIT;
BEGIN;
UPDATE jobs SET status = 'succeeded', post_ids = array_append(post_ids, 'p'), lease_until = NULL, updated_at = :now
  WHERE id = :id AND status = 'running' AND node = 'bench' AND attempt = 1;
INSERT INTO job_events (job_id, at, from_status, to_status, node, attempt, detail) VALUES (:id, :now, 'running', 'succeeded', 'bench', 1, '');
COMMIT;
