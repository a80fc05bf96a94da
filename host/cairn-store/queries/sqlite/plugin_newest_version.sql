SELECT MAX(version) FROM cairn_plugins WHERE name = ?1
