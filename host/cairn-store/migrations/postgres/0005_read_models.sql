-- Read models: JSON documents that handler plugins keep, by handler,
-- collection and key. A handler's writes for a batch commit together with
-- its checkpoint.
CREATE TABLE cairn_read_models (
    handler    TEXT        NOT NULL,
    collection TEXT        NOT NULL,
    key        TEXT        NOT NULL,
    value      TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (handler, collection, key)
);
