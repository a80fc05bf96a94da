-- Under the head's lock (a statement of its own, so its snapshot sees every
-- commit made before the lock was granted): the head, on the row whose
-- stream is NULL, then the current version of each stream a group writes or
-- expects. $1 aggregate types, $2 aggregate ids (parallel arrays).
SELECT NULL::text, NULL::text, last_position FROM cairn_log_head
UNION ALL
SELECT s.aggregate_type, s.aggregate_id,
       COALESCE((SELECT MAX(e.stream_version) FROM cairn_events e
                 WHERE e.aggregate_type = s.aggregate_type AND e.aggregate_id = s.aggregate_id), 0)
FROM UNNEST($1::text[], $2::text[]) AS s(aggregate_type, aggregate_id)
