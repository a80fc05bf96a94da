-- The engine-limit cold load: one stream's rows, every column, in version order.
SELECT global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source
FROM cairn_bench_raw WHERE aggregate_type = ?1 AND aggregate_id = ?2 ORDER BY stream_version
