-- Keys from the third parameter onwards (a prefix's first key), at most the fourth parameter.
SELECT key, value FROM cairn_read_models WHERE handler = $1 AND collection = $2 AND key >= $3 ORDER BY key LIMIT $4
