-- The physical-limit baseline: the same columns as cairn_events, no secondary indexes.
CREATE TABLE cairn_bench_raw (
    global_position INTEGER PRIMARY KEY, id BLOB NOT NULL, aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL, stream_version INTEGER NOT NULL, event_type TEXT NOT NULL,
    schema_version TEXT NOT NULL, timestamp INTEGER NOT NULL, recorded_at INTEGER NOT NULL,
    payload TEXT NOT NULL, metadata TEXT NOT NULL, correlation_id TEXT, causation_id TEXT,
    user_id TEXT, source TEXT
)
