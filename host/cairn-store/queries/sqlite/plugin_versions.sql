SELECT name, version, kind, content_hash, description, size_bytes, added_at, active
FROM cairn_plugins
ORDER BY name, version
