-- Herald schema 4: the nodes of a cluster and the paused schedules as
-- tables of their own (they were JSON documents of kv_state, rewritten
-- whole by every node's heartbeat under a compare-and-swap), and on each
-- job the configuration revision and the node that recorded its fire.

-- One row per node, replaced by its heartbeat. Times are Unix nanoseconds.
CREATE TABLE nodes (
    id           text    PRIMARY KEY,
    address      text    NOT NULL,
    version      text    NOT NULL,
    revision     text    NOT NULL,
    started_at   bigint  NOT NULL,
    last_seen    bigint  NOT NULL,
    dry_run      boolean NOT NULL,
    redis_health text    NOT NULL,
    store_health text    NOT NULL,
    in_flight    integer NOT NULL
);

-- One row per paused schedule; until_at NULL: until resumed.
CREATE TABLE pauses (
    schedule_id text   PRIMARY KEY,
    note        text   NOT NULL,
    at          bigint NOT NULL,
    until_at    bigint
);

-- Constant defaults: no table rewrite. Jobs recorded before this
-- migration keep them empty (their creation event still names the node).
ALTER TABLE jobs ADD COLUMN revision text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN fired_by text NOT NULL DEFAULT '';

-- The pauses document (id -> {"note", "at", "until"}, instants in RFC 3339
-- with up to nine fractional digits) moves to its table, exact to the
-- nanosecond: the seconds from the instant without its fraction, the
-- fraction from its digits. The nodes document is dropped: every node
-- records itself again within one heartbeat.
CREATE OR REPLACE FUNCTION pg_temp.herald_nanos(s text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN s IS NULL OR s = '' THEN NULL ELSE
        extract(epoch FROM regexp_replace(s, '\.\d+', '')::timestamptz)::bigint * 1000000000
        + coalesce(rpad(substring(s FROM '\.(\d+)'), 9, '0')::bigint, 0)
    END
$$;
INSERT INTO pauses (schedule_id, note, at, until_at)
SELECT p.key, coalesce(p.value->>'note', ''), pg_temp.herald_nanos(p.value->>'at'), pg_temp.herald_nanos(p.value->>'until')
FROM kv_state k, jsonb_each(convert_from(k.value, 'UTF8')::jsonb) p
WHERE k.key = 'engine/pauses' AND p.value->>'at' IS NOT NULL;
DELETE FROM kv_state WHERE key IN ('engine/pauses', 'engine/nodes');
DROP FUNCTION pg_temp.herald_nanos(text);
