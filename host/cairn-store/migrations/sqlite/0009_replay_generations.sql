-- Generations that replays which are not a handler's live projection write
-- into (a replay filtered by content, or resuming a checkpoint of its own),
-- so that re-running history never applies effects twice to the live read
-- model. A named checkpoint keeps its generation across runs; rebuilds
-- leave these generations alone. Times are microseconds since the Unix epoch.
CREATE TABLE cairn_replay_generations (
    handler    TEXT    NOT NULL,
    generation INTEGER NOT NULL,
    checkpoint TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (handler, generation)
);
CREATE UNIQUE INDEX cairn_replay_generations_by_checkpoint ON cairn_replay_generations (handler, checkpoint) WHERE checkpoint IS NOT NULL;
