INSERT INTO cairn_read_models (handler, generation, collection, key, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (handler, generation, collection, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
