INSERT INTO cairn_projections (handler, live_generation, building_generation, updated_at) VALUES (?1, 0, NULL, ?2)
ON CONFLICT (handler) DO NOTHING
