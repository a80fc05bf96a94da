-- Keeps the newest N snapshots of one stream (N is the third parameter).
DELETE FROM cairn_snapshots
WHERE aggregate_type = ?1 AND aggregate_id = ?2
  AND stream_version NOT IN (
      SELECT stream_version FROM cairn_snapshots
      WHERE aggregate_type = ?1 AND aggregate_id = ?2
      ORDER BY stream_version DESC
      LIMIT ?3
  )
