-- The one-statement append, sent on its own (its own transaction): under
-- the head's lock, and only if the head is still at $18, where this
-- process's writer last left it, it writes the group's events, moves the
-- head to $16 and notifies channel $17. A head that moved means another
-- writer committed since; then nothing is written and `written` is false.
-- Taking the lock waits for any writer holding it and then reads the head
-- as that writer left it, so a commit made during the wait is seen.
WITH head AS (
    SELECT last_position FROM cairn_log_head FOR UPDATE
),
unmoved AS (
    SELECT 1 FROM head WHERE last_position = $18
),
inserted AS (
    INSERT INTO cairn_events (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source)
    SELECT * FROM UNNEST(
        $1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
        $8::timestamptz[], $9::timestamptz[], $10::json[], $11::json[],
        $12::text[], $13::text[], $14::text[], $15::text[]
    )
    WHERE EXISTS (SELECT 1 FROM unmoved)
),
advanced AS (
    UPDATE cairn_log_head SET last_position = $16 WHERE EXISTS (SELECT 1 FROM unmoved)
),
notified AS (
    SELECT pg_notify($17, $16::text) FROM unmoved
)
SELECT EXISTS (SELECT 1 FROM unmoved) AS written, (SELECT count(*) FROM notified) AS notifications
