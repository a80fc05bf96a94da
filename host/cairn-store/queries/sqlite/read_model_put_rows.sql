-- Multi-row upsert: the rows marker below becomes one tuple of 6 placeholders
-- (handler, generation, collection, key, value, updated_at) per document.
INSERT INTO cairn_read_models (handler, generation, collection, key, value, updated_at)
VALUES {rows}
ON CONFLICT (handler, generation, collection, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
