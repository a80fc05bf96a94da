UPDATE cairn_replay_jobs SET status = ?2, result = ?3, error = ?4, updated_at = ?5, finished_at = ?5 WHERE id = ?1
