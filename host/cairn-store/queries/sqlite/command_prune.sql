DELETE FROM cairn_commands WHERE recorded_at < ?1
