INSERT INTO cairn_plugins (name, version, kind, content_hash, description, component, size_bytes, added_at, active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE)
