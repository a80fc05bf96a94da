-- Every event of one aggregate type, stream by stream: what a shadow run of an aggregate must read, as one statement.
SELECT aggregate_id, event_type, payload FROM cairn_events WHERE aggregate_type = ?1 ORDER BY aggregate_id, stream_version
