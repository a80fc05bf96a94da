-- Newest first, at or below a version (third parameter), at most a limit (fourth).
SELECT aggregate_type, aggregate_id, stream_version, state, plugin_content_hash, state_version, created_at
FROM cairn_snapshots
WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND stream_version <= ?3
ORDER BY stream_version DESC
LIMIT ?4
