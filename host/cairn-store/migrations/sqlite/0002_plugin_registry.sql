-- The plugin registry: every version of every plugin, with its component
-- bytes, so that every host process sharing this database runs the same
-- plugins. The store treats components as opaque bytes and `kind` and
-- `description` as opaque text; only the plugin runtime interprets them.
-- Times are microseconds since the Unix epoch, UTC.
CREATE TABLE cairn_plugins (
    name         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    component    BLOB    NOT NULL,
    size_bytes   INTEGER NOT NULL,
    added_at     INTEGER NOT NULL,
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    PRIMARY KEY (name, version)
);

-- At most one active version per name, whatever a writer does.
CREATE UNIQUE INDEX cairn_plugins_one_active ON cairn_plugins (name) WHERE active = 1;
