UPDATE cairn_plugins SET active = FALSE WHERE name = $1 AND active
