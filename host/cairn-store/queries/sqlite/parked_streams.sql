SELECT DISTINCT aggregate_type, aggregate_id FROM cairn_dead_letters WHERE handler = ?1 AND generation = ?2
