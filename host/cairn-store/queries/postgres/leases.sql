-- Every lease, with the server's time it is read at.
SELECT name, holder, token, acquired_at, expires_at, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT FROM cairn_leases ORDER BY name
