-- The caller's BEGIN IMMEDIATE already serialises writers.
SELECT live_generation, building_generation FROM cairn_projections WHERE handler = ?1
