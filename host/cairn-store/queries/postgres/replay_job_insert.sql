INSERT INTO cairn_replay_jobs (id, handlers, request, status, position, head, started_at, updated_at) VALUES ($1, $2, $3, 'running', 0, $4, $5, $5)
