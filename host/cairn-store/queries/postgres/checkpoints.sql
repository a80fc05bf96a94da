SELECT name, position, events, updated_at FROM cairn_checkpoints ORDER BY name
