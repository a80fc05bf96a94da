DELETE FROM cairn_plugins WHERE name = $1 AND ($2::BIGINT IS NULL OR version = $2)
