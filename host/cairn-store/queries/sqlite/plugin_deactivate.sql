UPDATE cairn_plugins SET active = 0 WHERE name = ?1 AND active = 1
