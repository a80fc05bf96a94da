-- Lets lease $1 of holder $2 with token $3 expire now; the row stays so that tokens keep growing.
UPDATE cairn_leases SET expires_at = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT WHERE name = $1 AND holder = $2 AND token = $3
