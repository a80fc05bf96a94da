-- The current token of lease $1, checked by a commit made under it; the share lock keeps a take-over waiting until the commit ends.
SELECT token FROM cairn_leases WHERE name = $1 FOR SHARE
