DELETE FROM cairn_read_models WHERE handler = $1 AND generation <> $2
