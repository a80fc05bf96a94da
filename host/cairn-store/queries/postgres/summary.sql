-- total events, streams (each stream has exactly one version-1 event), first and latest timestamp
SELECT COUNT(*),
       (SELECT COUNT(*) FROM cairn_events WHERE stream_version = 1),
       (SELECT last_position FROM cairn_log_head),
       MIN(timestamp),
       MAX(timestamp)
FROM cairn_events
