-- The distinct collections of a generation, by name, at most the third parameter.
-- A loose index scan over the primary key (handler, generation, collection, key):
-- one index seek per collection, however many documents each holds.
WITH RECURSIVE collections(name) AS (
    SELECT min(collection) FROM cairn_read_models WHERE handler = $1 AND generation = $2
    UNION ALL
    SELECT (SELECT min(collection) FROM cairn_read_models WHERE handler = $1 AND generation = $2 AND collection > collections.name)
    FROM collections WHERE collections.name IS NOT NULL
)
SELECT name FROM collections WHERE name IS NOT NULL LIMIT $3
