-- Read-model keys compare byte by byte, whatever the database's collation:
-- listing by prefix scans from the prefix and stops at the first key that
-- does not start with it, which a collation that ignores punctuation or
-- case would break (it would sort "a1" between "a-1" and "a-2").
ALTER TABLE cairn_read_models ALTER COLUMN key TYPE TEXT COLLATE "C";
ALTER TABLE cairn_read_models ALTER COLUMN collection TYPE TEXT COLLATE "C";
