-- Lets lease ?1 of holder ?2 with token ?3 expire now (?4); the row stays so that tokens keep growing.
UPDATE cairn_leases SET expires_at = ?4 WHERE name = ?1 AND holder = ?2 AND token = ?3
