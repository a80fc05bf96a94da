-- Leases: which process runs each piece of exclusive work (a live
-- projection, the publisher) and, as `host:<holder>`, which processes are
-- alive. A holder keeps a lease by renewing it before `expires_at`; once it
-- has expired, any process may take it, and taking it from another holder
-- increments `token`. Commits made under a lease name the token they hold
-- and are refused when it is no longer the current one (fencing). Rows are
-- never deleted while they fence anything, so tokens only grow. Times are
-- microseconds since the epoch (one machine, one clock).
CREATE TABLE cairn_leases (
    name        TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    token       INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
