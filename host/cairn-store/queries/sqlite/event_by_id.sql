SELECT global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source
FROM cairn_events
WHERE id = $1
