-- Aggregate snapshots: a stream's folded state at a version, written by the
-- host so that loading a long stream applies only the events after it.
-- `state` is JSON text as the plugin produced it (TEXT, not JSON, so that a
-- damaged row can still be read and reported); the loader checks it.
CREATE TABLE cairn_snapshots (
    aggregate_type      TEXT        NOT NULL,
    aggregate_id        TEXT        NOT NULL,
    stream_version      BIGINT      NOT NULL,
    state               TEXT        NOT NULL,
    plugin_content_hash TEXT        NOT NULL,
    state_version       TEXT        NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, stream_version)
);
