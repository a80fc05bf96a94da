-- Lets lease $1 of holder $2 with token $3 expire now, and announces it on channel $4 (at commit) so that another host takes it at once; the row stays so that tokens keep growing.
WITH released AS (
    UPDATE cairn_leases SET expires_at = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT WHERE name = $1 AND holder = $2 AND token = $3 RETURNING name
)
SELECT pg_notify($4, name) FROM released
