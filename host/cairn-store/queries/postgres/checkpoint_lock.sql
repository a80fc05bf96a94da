SELECT position, events FROM cairn_checkpoints WHERE name = $1 FOR UPDATE
