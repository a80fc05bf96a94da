SELECT event_type, COUNT(*) FROM cairn_events GROUP BY event_type ORDER BY COUNT(*) DESC, event_type
