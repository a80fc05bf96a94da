DELETE FROM cairn_dead_letters WHERE id = $1 AND handler = $2
