INSERT INTO cairn_replay_generations (handler, generation, checkpoint, created_at) VALUES ($1, $2, $3, $4)
