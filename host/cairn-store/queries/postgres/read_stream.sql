-- $1 aggregate_type, $2 aggregate_id, $3 first version, $4 last version, $5 limit
SELECT global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload::text, metadata::text, correlation_id, causation_id, user_id, source
FROM cairn_events
WHERE aggregate_type = $1 AND aggregate_id = $2 AND stream_version BETWEEN $3 AND $4
ORDER BY stream_version
LIMIT $5
