-- The engine-limit command: one single-row INSERT, committed on its own
-- (autocommit: one round trip and one WAL flush).
INSERT INTO cairn_bench_raw (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::json, $11::json, $12, $13, $14, $15)
