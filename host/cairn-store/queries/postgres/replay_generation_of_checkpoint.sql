SELECT generation FROM cairn_replay_generations WHERE handler = $1 AND checkpoint = $2
