-- Copies of a handler's read model. Readers see the live generation; a
-- blue/green rebuild fills the building one from position 0 and then makes
-- it live in one transaction. Read-model rows gain their generation.
CREATE TABLE cairn_projections (
    handler             TEXT    PRIMARY KEY,
    live_generation     INTEGER NOT NULL,
    building_generation INTEGER,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE cairn_read_models_by_generation (
    handler    TEXT    NOT NULL,
    generation INTEGER NOT NULL,
    collection TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (handler, generation, collection, key)
);
INSERT INTO cairn_read_models_by_generation (handler, generation, collection, key, value, updated_at)
    SELECT handler, 0, collection, key, value, updated_at FROM cairn_read_models;
DROP TABLE cairn_read_models;
ALTER TABLE cairn_read_models_by_generation RENAME TO cairn_read_models;
