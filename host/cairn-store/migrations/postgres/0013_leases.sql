-- Leases: which host runs each piece of exclusive work (a live projection,
-- the publisher) and, as `host:<holder>`, which hosts are alive. A holder
-- keeps a lease by renewing it before `expires_at`; once it has expired,
-- any host may take it, and taking it from another holder increments
-- `token`. Commits made under a lease name the token they hold and are
-- refused when it is no longer the current one (fencing), so a host that
-- stalled past its lease cannot commit after another took over. Rows are
-- never deleted while they fence anything, so tokens only grow. Times are
-- the database server's clock, in microseconds since the epoch, so hosts'
-- clocks never matter.
CREATE TABLE cairn_leases (
    name        TEXT   NOT NULL PRIMARY KEY,
    holder      TEXT   NOT NULL,
    token       BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
