-- Every document of a generation in (collection, key) order, after the third and fourth parameters, at most the fifth.
SELECT collection, key, value FROM cairn_read_models WHERE handler = ?1 AND generation = ?2 AND (collection, key) > (?3, ?4) ORDER BY collection, key LIMIT ?5
