-- $1 aggregate types, $2 aggregate ids (parallel arrays)
SELECT s.aggregate_type, s.aggregate_id,
       COALESCE((SELECT MAX(e.stream_version) FROM cairn_events e
                 WHERE e.aggregate_type = s.aggregate_type AND e.aggregate_id = s.aggregate_id), 0)
FROM UNNEST($1::text[], $2::text[]) AS s(aggregate_type, aggregate_id)
