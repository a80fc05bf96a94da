DELETE FROM cairn_snapshots WHERE aggregate_type = $1 AND ($2::TEXT IS NULL OR aggregate_id = $2)
