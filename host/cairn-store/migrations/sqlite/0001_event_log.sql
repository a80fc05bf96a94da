-- The event log. global_position is the rowid, so the table itself is
-- ordered by position and a read of the whole log is a sequential scan.
-- Times are microseconds since the Unix epoch, UTC.
CREATE TABLE cairn_events (
    global_position INTEGER PRIMARY KEY,
    id              BLOB    NOT NULL,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    schema_version  TEXT    NOT NULL,
    timestamp       INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    correlation_id  TEXT,
    causation_id    TEXT,
    user_id         TEXT,
    source          TEXT
);

CREATE UNIQUE INDEX cairn_events_by_id ON cairn_events (id);
CREATE UNIQUE INDEX cairn_events_by_stream ON cairn_events (aggregate_type, aggregate_id, stream_version);
CREATE INDEX cairn_events_by_type ON cairn_events (event_type, global_position);
CREATE INDEX cairn_events_by_correlation ON cairn_events (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX cairn_events_by_timestamp ON cairn_events (timestamp);
