SELECT COALESCE(MAX(stream_version), 0) FROM cairn_events WHERE aggregate_type = $1 AND aggregate_id = $2
