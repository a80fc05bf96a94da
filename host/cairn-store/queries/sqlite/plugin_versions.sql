-- Read from the covering index, never the rows, which carry the components (migration 0012).
SELECT name, version, kind, content_hash, description, size_bytes, added_at, active
FROM cairn_plugins INDEXED BY cairn_plugins_catalog
ORDER BY name, version
