-- Replay jobs, so that any process can list them and show their results.
-- The request and the result are JSON written by the replay engine; the
-- store keeps them as opaque text.
CREATE TABLE cairn_replay_jobs (
    id          UUID        PRIMARY KEY,
    handlers    TEXT        NOT NULL,
    request     TEXT        NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stopped')),
    position    BIGINT      NOT NULL,
    head        BIGINT      NOT NULL,
    result      TEXT,
    error       TEXT,
    started_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX cairn_replay_jobs_by_start ON cairn_replay_jobs (started_at);
