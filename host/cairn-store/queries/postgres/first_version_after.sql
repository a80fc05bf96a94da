-- The lowest version of one stream whose timestamp is after an instant.
SELECT MIN(stream_version) FROM cairn_events
WHERE aggregate_type = $1 AND aggregate_id = $2 AND timestamp > $3
