SELECT id, handlers, request, status, position, head, result, error, started_at, updated_at, finished_at FROM cairn_replay_jobs WHERE id = ?1
