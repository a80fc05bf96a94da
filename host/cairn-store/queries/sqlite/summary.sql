-- total events, streams (each stream has exactly one version-1 event), the
-- head, first and latest timestamp. Each figure is its own subquery so that
-- each takes its cheapest path: the counts scan an index, never the table
-- (whose pages hold the payloads), and the rest are single index lookups.
SELECT (SELECT COUNT(*) FROM cairn_events),
       (SELECT COUNT(*) FROM cairn_events INDEXED BY cairn_events_by_stream WHERE stream_version = 1),
       (SELECT COALESCE(MAX(global_position), 0) FROM cairn_events),
       (SELECT MIN(timestamp) FROM cairn_events),
       (SELECT MAX(timestamp) FROM cairn_events)
