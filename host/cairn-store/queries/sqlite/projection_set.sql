UPDATE cairn_projections SET live_generation = ?2, building_generation = ?3, updated_at = ?4 WHERE handler = ?1
