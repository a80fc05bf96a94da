-- The caller's BEGIN IMMEDIATE already serialises writers.
SELECT position, events FROM cairn_checkpoints WHERE name = ?1
