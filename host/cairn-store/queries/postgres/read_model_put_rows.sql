-- Multi-row upsert of one handler generation's documents; no document may
-- appear twice (the caller coalesces).
INSERT INTO cairn_read_models (handler, generation, collection, key, value, updated_at)
SELECT $1, $2, collection, key, value, $6 FROM UNNEST($3::text[], $4::text[], $5::text[]) AS documents(collection, key, value)
ON CONFLICT (handler, generation, collection, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
