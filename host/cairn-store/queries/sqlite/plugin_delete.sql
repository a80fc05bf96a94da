DELETE FROM cairn_plugins WHERE name = ?1 AND (?2 IS NULL OR version = ?2)
