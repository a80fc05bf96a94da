DELETE FROM cairn_dead_letters WHERE handler = $1 AND generation > $2
    AND generation NOT IN (SELECT generation FROM cairn_replay_generations WHERE handler = $1)
