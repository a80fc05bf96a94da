-- After a removal: the newest remaining version becomes active, unless one already is.
UPDATE cairn_plugins SET active = TRUE
WHERE name = $1
  AND version = (SELECT MAX(version) FROM cairn_plugins WHERE name = $1)
  AND NOT EXISTS (SELECT 1 FROM cairn_plugins WHERE name = $1 AND active)
