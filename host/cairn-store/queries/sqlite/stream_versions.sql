-- $1 a JSON array of [aggregate_type, aggregate_id] pairs; one round trip for every stream of an append
SELECT json_extract(s.value, '$[0]'), json_extract(s.value, '$[1]'),
       COALESCE((SELECT MAX(e.stream_version) FROM cairn_events e
                 WHERE e.aggregate_type = json_extract(s.value, '$[0]')
                   AND e.aggregate_id = json_extract(s.value, '$[1]')), 0)
FROM json_each($1) AS s
