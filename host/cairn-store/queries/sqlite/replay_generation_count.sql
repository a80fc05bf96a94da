SELECT COUNT(*) FROM cairn_replay_generations WHERE handler = ?1 AND generation = ?2
