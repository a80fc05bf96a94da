-- Takes lease ?1 for holder ?2 at time ?3 for ?4 microseconds: a new lease, an expired one (from another holder: the token grows), or the holder's own (a renewal: the token stays). No row comes back when another holder has it unexpired.
INSERT INTO cairn_leases (name, holder, token, acquired_at, expires_at) VALUES (?1, ?2, 1, ?3, ?3 + ?4)
ON CONFLICT (name) DO UPDATE SET
    token = CASE WHEN cairn_leases.holder = excluded.holder THEN cairn_leases.token ELSE cairn_leases.token + 1 END,
    acquired_at = CASE WHEN cairn_leases.holder = excluded.holder THEN cairn_leases.acquired_at ELSE excluded.acquired_at END,
    holder = excluded.holder,
    expires_at = excluded.expires_at
WHERE cairn_leases.holder = excluded.holder OR cairn_leases.expires_at <= excluded.acquired_at
RETURNING name, holder, token, acquired_at, expires_at, ?3
