-- Named checkpoints: how far a reader (a replay, a projection) has come.
CREATE TABLE cairn_checkpoints (
    name       TEXT        PRIMARY KEY,
    position   BIGINT      NOT NULL,
    events     BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
