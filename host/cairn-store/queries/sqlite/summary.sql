-- total events, streams (each stream has exactly one version-1 event), first and latest timestamp
SELECT COUNT(*),
       (SELECT COUNT(*) FROM cairn_events WHERE stream_version = 1),
       COALESCE(MAX(global_position), 0),
       MIN(timestamp),
       MAX(timestamp)
FROM cairn_events
