SELECT command_id, aggregate_type, aggregate_id, command_type, digest, plugin, plugin_version,
       result, first_position, last_position, stream_version, message, recorded_at
FROM cairn_commands
WHERE command_id = ?1
