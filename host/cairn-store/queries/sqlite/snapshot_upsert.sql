INSERT INTO cairn_snapshots (aggregate_type, aggregate_id, stream_version, state, plugin_content_hash, state_version, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (aggregate_type, aggregate_id, stream_version) DO UPDATE SET
    state = excluded.state,
    plugin_content_hash = excluded.plugin_content_hash,
    state_version = excluded.state_version,
    created_at = excluded.created_at
