-- Announces a registry change on channel $1 to every listening process; PostgreSQL delivers it when the transaction commits, and never if it rolls back.
SELECT pg_notify($1, '')
