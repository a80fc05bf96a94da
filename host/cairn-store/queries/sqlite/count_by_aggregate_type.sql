SELECT aggregate_type, COUNT(*) FROM cairn_events GROUP BY aggregate_type ORDER BY COUNT(*) DESC, aggregate_type
