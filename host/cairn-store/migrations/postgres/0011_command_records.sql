-- Commands that ran with a caller's id, so that the id runs once: written in
-- the transaction that appends the command's events (or, for a command that
-- decided nothing or was rejected, on its own, under the log head's lock).
-- The primary key makes a second run of one id impossible however the runs
-- race, across every host sharing this store. `digest` is the SHA-256 of the
-- command's type, stream and payload, so that an id re-used for another
-- command is told apart.
CREATE TABLE cairn_commands (
    command_id     TEXT        NOT NULL PRIMARY KEY,
    aggregate_type TEXT        NOT NULL,
    aggregate_id   TEXT        NOT NULL,
    command_type   TEXT        NOT NULL,
    digest         TEXT        NOT NULL,
    plugin         TEXT        NOT NULL,
    plugin_version BIGINT      NOT NULL,
    -- appended, nothing_to_do or rejected
    result         TEXT        NOT NULL CHECK (result IN ('appended', 'nothing_to_do', 'rejected')),
    first_position BIGINT,
    last_position  BIGINT,
    stream_version BIGINT,
    message        TEXT,
    recorded_at    TIMESTAMPTZ NOT NULL
);

-- Pruning by age (--command-ttl).
CREATE INDEX cairn_commands_recorded_at ON cairn_commands (recorded_at);
