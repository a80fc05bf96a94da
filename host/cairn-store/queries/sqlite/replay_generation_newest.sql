SELECT COALESCE(MAX(generation), 0) FROM cairn_replay_generations WHERE handler = ?1
