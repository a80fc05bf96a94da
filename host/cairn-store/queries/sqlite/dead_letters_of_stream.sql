SELECT id, handler, generation, aggregate_type, aggregate_id, event_id, global_position, event_type, status, error, attempts, created_at, updated_at FROM cairn_dead_letters
WHERE handler = ?1 AND generation = ?2 AND aggregate_type = ?3 AND aggregate_id = ?4 ORDER BY global_position
