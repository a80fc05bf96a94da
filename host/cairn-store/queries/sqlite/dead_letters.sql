-- Of one handler when the first parameter is set; parked ones too when the second is true.
SELECT id, handler, generation, aggregate_type, aggregate_id, event_id, global_position, event_type, status, error, attempts, created_at, updated_at FROM cairn_dead_letters
WHERE (?1 IS NULL OR handler = ?1) AND (?2 OR status = 'failed')
ORDER BY handler, generation, global_position LIMIT ?3
