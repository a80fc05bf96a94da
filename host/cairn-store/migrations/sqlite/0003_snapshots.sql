-- Aggregate snapshots: a stream's folded state at a version, written by the
-- host so that loading a long stream applies only the events after it.
-- `state` is JSON text as the plugin produced it; the loader checks it and
-- ignores a row it cannot use. Times are microseconds since the Unix epoch.
CREATE TABLE cairn_snapshots (
    aggregate_type      TEXT    NOT NULL,
    aggregate_id        TEXT    NOT NULL,
    stream_version      INTEGER NOT NULL,
    state               TEXT    NOT NULL,
    plugin_content_hash TEXT    NOT NULL,
    state_version       TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, stream_version)
);
