INSERT INTO cairn_checkpoints (name, position, events, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET position = excluded.position, events = excluded.events, updated_at = excluded.updated_at
