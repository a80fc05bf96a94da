-- Every lease, with the time ?1 it is read at.
SELECT name, holder, token, acquired_at, expires_at, ?1 FROM cairn_leases ORDER BY name
