-- Serializes registrations of one name across processes for the rest of the transaction.
SELECT pg_advisory_xact_lock(hashtextextended('cairn_plugins:' || $1, 0))
