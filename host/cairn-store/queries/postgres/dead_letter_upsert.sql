INSERT INTO cairn_dead_letters (handler, generation, aggregate_type, aggregate_id, event_id, global_position, event_type, status, error, attempts, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
ON CONFLICT (handler, generation, event_id) DO UPDATE SET status = excluded.status, error = excluded.error, attempts = excluded.attempts, updated_at = excluded.updated_at
