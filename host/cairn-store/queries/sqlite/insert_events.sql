-- Multi-row insert: the rows marker below becomes one tuple of 15 placeholders per event.
INSERT INTO cairn_events (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source)
VALUES {rows}
