-- Events a handler failed on after its retries ('failed'), and the later
-- events of the same stream held back behind them ('parked') so that the
-- handler sees each stream in order. Times are microseconds since the Unix
-- epoch, UTC.
CREATE TABLE cairn_dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    handler         TEXT    NOT NULL,
    generation      INTEGER NOT NULL,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    global_position INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('failed', 'parked')),
    error           TEXT,
    attempts        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (handler, generation, event_id)
);
CREATE INDEX cairn_dead_letters_by_stream
    ON cairn_dead_letters (handler, generation, aggregate_type, aggregate_id, global_position);
