-- Named checkpoints: how far a reader (a replay, a projection) has come.
-- Times are microseconds since the Unix epoch, UTC.
CREATE TABLE cairn_checkpoints (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
