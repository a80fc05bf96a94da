DELETE FROM cairn_read_models WHERE handler = ?1 AND generation = ?2 AND collection = ?3 AND key = ?4
