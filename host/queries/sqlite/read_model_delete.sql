DELETE FROM cairn_read_models WHERE handler = ?1 AND collection = ?2 AND key = ?3
