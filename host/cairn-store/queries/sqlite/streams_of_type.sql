-- Streams of one aggregate type with their versions, by id, after an id, at most a limit.
SELECT aggregate_id, MAX(stream_version)
FROM cairn_events
WHERE aggregate_type = ?1 AND aggregate_id > ?2
GROUP BY aggregate_id
ORDER BY aggregate_id
LIMIT ?3
