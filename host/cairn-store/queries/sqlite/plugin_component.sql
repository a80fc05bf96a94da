SELECT component FROM cairn_plugins WHERE name = ?1 AND version = ?2
