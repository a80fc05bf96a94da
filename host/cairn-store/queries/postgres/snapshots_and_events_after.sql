-- A load's first read, in one round trip: a stream's newest snapshots at or
-- below $3 (at most $4), and its events after the newest of them up to $5.
-- Event rows fill the event columns (as read_stream.sql orders them);
-- snapshot rows fill column 5 (the stream version) and the snapshot's own
-- columns after the event ones. Snapshots come first. $1 aggregate_type,
-- $2 aggregate_id.
WITH snapshots AS (
    SELECT stream_version, state, plugin_content_hash, state_version, created_at
    FROM cairn_snapshots
    WHERE aggregate_type = $1 AND aggregate_id = $2 AND stream_version <= $3
    ORDER BY stream_version DESC
    LIMIT $4
)
SELECT NULL::bigint, NULL::uuid, NULL::text, NULL::text, stream_version, NULL::text, NULL::text, NULL::timestamptz, NULL::timestamptz,
       NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
       TRUE AS is_snapshot, state, plugin_content_hash, state_version, created_at
FROM snapshots
UNION ALL
SELECT global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at,
       payload::text, metadata::text, correlation_id, causation_id, user_id, source,
       FALSE, NULL, NULL, NULL, NULL
FROM cairn_events
WHERE aggregate_type = $1 AND aggregate_id = $2
  AND stream_version > COALESCE((SELECT MAX(stream_version) FROM snapshots), 0)
  AND stream_version <= $5
ORDER BY 16 DESC, 5
