DELETE FROM cairn_read_models WHERE handler = $1 AND generation > $2
    AND generation NOT IN (SELECT generation FROM cairn_replay_generations WHERE handler = $1)
