-- One statement writes a whole group's events, moves the head to $16 and
-- notifies channel $17 with the new head (delivered at commit, so a
-- listener is never woken for an invisible event).
WITH inserted AS (
    INSERT INTO cairn_events (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source)
    SELECT * FROM UNNEST(
        $1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
        $8::timestamptz[], $9::timestamptz[], $10::json[], $11::json[],
        $12::text[], $13::text[], $14::text[], $15::text[]
    )
),
advanced AS (
    UPDATE cairn_log_head SET last_position = $16
)
SELECT pg_notify($17, $16::text)
