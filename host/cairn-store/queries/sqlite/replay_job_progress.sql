UPDATE cairn_replay_jobs SET position = ?2, head = ?3, updated_at = ?4 WHERE id = ?1
