-- Keys from the fourth parameter onwards (a prefix's first key), at most the fifth parameter.
SELECT key, value FROM cairn_read_models WHERE handler = ?1 AND generation = ?2 AND collection = ?3 AND key >= ?4 ORDER BY key LIMIT ?5
