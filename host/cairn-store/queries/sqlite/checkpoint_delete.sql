DELETE FROM cairn_checkpoints WHERE name = ?1
