-- Takes lease $1 for holder $2 for $3 microseconds by the server's clock: a new lease, an expired one (from another holder: the token grows), or the holder's own (a renewal: the token stays). No row comes back when another holder has it unexpired.
WITH clock AS (SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT AS now)
INSERT INTO cairn_leases AS lease (name, holder, token, acquired_at, expires_at)
SELECT $1, $2, 1, clock.now, clock.now + $3 FROM clock
ON CONFLICT (name) DO UPDATE SET
    token = CASE WHEN lease.holder = excluded.holder THEN lease.token ELSE lease.token + 1 END,
    acquired_at = CASE WHEN lease.holder = excluded.holder THEN lease.acquired_at ELSE excluded.acquired_at END,
    holder = excluded.holder,
    expires_at = excluded.expires_at
WHERE lease.holder = excluded.holder OR lease.expires_at <= excluded.acquired_at
RETURNING name, holder, token, acquired_at, expires_at, (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT
