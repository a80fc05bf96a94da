SELECT name, version, kind, content_hash, description, size_bytes, added_at, active
FROM cairn_plugins
WHERE active
ORDER BY name
