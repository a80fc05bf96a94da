-- Extends lease $1 of holder $2 with token $3 for $4 microseconds from now (the server's clock), if that token is still current.
UPDATE cairn_leases SET expires_at = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT + $4 WHERE name = $1 AND holder = $2 AND token = $3
