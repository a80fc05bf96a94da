-- The physical-limit baseline: the same columns as cairn_events, no secondary indexes.
CREATE TABLE cairn_bench_raw (
    global_position BIGINT PRIMARY KEY, id UUID NOT NULL, aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL, stream_version BIGINT NOT NULL, event_type TEXT NOT NULL,
    schema_version TEXT NOT NULL, timestamp TIMESTAMPTZ NOT NULL, recorded_at TIMESTAMPTZ NOT NULL,
    payload JSON NOT NULL, metadata JSON NOT NULL, correlation_id TEXT, causation_id TEXT,
    user_id TEXT, source TEXT
)
