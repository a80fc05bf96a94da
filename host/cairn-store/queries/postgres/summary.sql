-- total events, streams (each stream has exactly one version-1 event), the
-- head, first and latest timestamp. Each figure is its own subquery so that
-- the timestamps are single index lookups instead of part of a full scan.
SELECT (SELECT COUNT(*) FROM cairn_events),
       (SELECT COUNT(*) FROM cairn_events WHERE stream_version = 1),
       (SELECT last_position FROM cairn_log_head),
       (SELECT MIN(timestamp) FROM cairn_events),
       (SELECT MAX(timestamp) FROM cairn_events)
