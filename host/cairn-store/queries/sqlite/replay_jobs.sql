SELECT id, handlers, request, status, position, head, result, error, started_at, updated_at, finished_at FROM cairn_replay_jobs ORDER BY started_at DESC LIMIT ?1
