-- Replay jobs, so that any process can list them and show their results.
-- The request and the result are JSON written by the replay engine; the
-- store keeps them as opaque text. Times are microseconds since the Unix
-- epoch, UTC.
CREATE TABLE cairn_replay_jobs (
    id          TEXT    PRIMARY KEY,
    handlers    TEXT    NOT NULL,
    request     TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stopped')),
    position    INTEGER NOT NULL,
    head        INTEGER NOT NULL,
    result      TEXT,
    error       TEXT,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX cairn_replay_jobs_by_start ON cairn_replay_jobs (started_at);
