-- $1 after position, $2 limit; optional predicates from store::filter replace the marker
SELECT global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload::text, metadata::text, correlation_id, causation_id, user_id, source
FROM cairn_events
WHERE global_position > $1 /* filter */
ORDER BY global_position
LIMIT $2
