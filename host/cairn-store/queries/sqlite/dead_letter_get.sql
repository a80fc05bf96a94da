SELECT id, handler, generation, aggregate_type, aggregate_id, event_id, global_position, event_type, status, error, attempts, created_at, updated_at FROM cairn_dead_letters WHERE id = ?1
