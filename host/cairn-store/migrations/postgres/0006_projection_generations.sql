-- Copies of a handler's read model. Readers see the live generation; a
-- blue/green rebuild fills the building one from position 0 and then makes
-- it live in one transaction. Read-model rows gain their generation.
CREATE TABLE cairn_projections (
    handler             TEXT        PRIMARY KEY,
    live_generation     BIGINT      NOT NULL,
    building_generation BIGINT,
    updated_at          TIMESTAMPTZ NOT NULL
);

ALTER TABLE cairn_read_models ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cairn_read_models DROP CONSTRAINT cairn_read_models_pkey;
ALTER TABLE cairn_read_models ADD PRIMARY KEY (handler, generation, collection, key);
ALTER TABLE cairn_read_models ALTER COLUMN generation DROP DEFAULT;
