-- Multi-row insert into the baseline table, like insert_events.sql.
INSERT INTO cairn_bench_raw (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source)
VALUES {rows}
