SELECT live_generation, building_generation FROM cairn_projections WHERE handler = $1 FOR UPDATE
