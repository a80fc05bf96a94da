SELECT COALESCE(MAX(global_position), 0) FROM cairn_events
