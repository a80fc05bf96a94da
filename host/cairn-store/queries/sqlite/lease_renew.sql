-- Extends lease ?1 of holder ?2 with token ?3 to ?4 (now plus its time to live), if that token is still current.
UPDATE cairn_leases SET expires_at = ?4 WHERE name = ?1 AND holder = ?2 AND token = ?3
