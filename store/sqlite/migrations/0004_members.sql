-- Herald schema 4: the nodes of a cluster and the paused schedules as
-- tables of their own (they were JSON documents of kv_state, rewritten
-- whole by every node's heartbeat under a compare-and-swap), and on each
-- job the configuration revision and the node that recorded its fire.

-- One row per node, replaced by its heartbeat. Times are Unix nanoseconds.
CREATE TABLE nodes (
    id           TEXT    PRIMARY KEY,
    address      TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    revision     TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL,
    dry_run      INTEGER NOT NULL,
    redis_health TEXT    NOT NULL,
    store_health TEXT    NOT NULL,
    in_flight    INTEGER NOT NULL
);

-- One row per paused schedule; until_at NULL: until resumed.
CREATE TABLE pauses (
    schedule_id TEXT    PRIMARY KEY,
    note        TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    until_at    INTEGER
);

-- Jobs recorded before this migration keep them empty (their creation
-- event still names the node).
ALTER TABLE jobs ADD COLUMN revision TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN fired_by TEXT NOT NULL DEFAULT '';

-- The pauses document (id -> {"note", "at", "until"}, instants in RFC 3339
-- with up to nine fractional digits) moves to its table, exact to the
-- nanosecond: whole seconds from unixepoch (which ignores the fraction),
-- the fraction from its digits (between the "." and the zone, "Z" or
-- "+hh:mm"). The nodes document is dropped: every node records itself
-- again within one heartbeat.
INSERT INTO pauses (schedule_id, note, at, until_at)
SELECT t.id, t.note, t.at_s * 1000000000 + t.at_f, t.until_s * 1000000000 + t.until_f
FROM (
    SELECT p.key AS id,
        coalesce(json_extract(p.value, '$.note'), '') AS note,
        unixepoch(json_extract(p.value, '$.at')) AS at_s,
        CAST(substr(substr(json_extract(p.value, '$.at'), 21,
            CASE WHEN substr(json_extract(p.value, '$.at'), 20, 1) = '.'
                THEN length(json_extract(p.value, '$.at')) - 20
                    - CASE WHEN json_extract(p.value, '$.at') LIKE '%Z' THEN 1 ELSE 6 END
                ELSE 0 END) || '000000000', 1, 9) AS INTEGER) AS at_f,
        unixepoch(json_extract(p.value, '$.until')) AS until_s,
        CAST(substr(substr(json_extract(p.value, '$.until'), 21,
            CASE WHEN substr(json_extract(p.value, '$.until'), 20, 1) = '.'
                THEN length(json_extract(p.value, '$.until')) - 20
                    - CASE WHEN json_extract(p.value, '$.until') LIKE '%Z' THEN 1 ELSE 6 END
                ELSE 0 END) || '000000000', 1, 9) AS INTEGER) AS until_f
    FROM kv_state k, json_each(CAST(k.value AS TEXT)) p
    WHERE k.key = 'engine/pauses' AND json_extract(p.value, '$.at') IS NOT NULL
) t;
DELETE FROM kv_state WHERE key IN ('engine/pauses', 'engine/nodes');
