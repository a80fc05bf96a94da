SELECT name, position, events, updated_at FROM cairn_checkpoints WHERE name = ?1
