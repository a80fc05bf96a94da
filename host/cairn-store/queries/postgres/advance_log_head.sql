UPDATE cairn_log_head SET last_position = $1
