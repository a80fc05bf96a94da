-- The event log. Payload and metadata are JSON, not JSONB, so the stored
-- bytes are exactly what the writer sent, as on SQLite. Positions come from cairn_log_head, whose single row every
-- writer locks for the rest of its transaction: see ARCHITECTURE.md, "Global
-- order on PostgreSQL", for why that makes positions commit-ordered.
CREATE TABLE cairn_events (
    global_position BIGINT      PRIMARY KEY,
    id              UUID        NOT NULL,
    aggregate_type  TEXT        NOT NULL,
    aggregate_id    TEXT        NOT NULL,
    stream_version  BIGINT      NOT NULL,
    event_type      TEXT        NOT NULL,
    schema_version  TEXT        NOT NULL,
    timestamp       TIMESTAMPTZ NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL,
    payload         JSON        NOT NULL,
    metadata        JSON        NOT NULL,
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

CREATE TABLE cairn_log_head (
    singleton     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    last_position BIGINT  NOT NULL
);
INSERT INTO cairn_log_head (singleton, last_position) VALUES (TRUE, 0);
