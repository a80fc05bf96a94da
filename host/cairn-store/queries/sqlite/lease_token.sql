-- The current token of lease ?1, checked by a commit made under it.
SELECT token FROM cairn_leases WHERE name = ?1
