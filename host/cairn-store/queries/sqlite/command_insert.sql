INSERT INTO cairn_commands (command_id, aggregate_type, aggregate_id, command_type, digest, plugin, plugin_version,
                            result, first_position, last_position, stream_version, message, recorded_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
