-- The catalog's columns without the component: SQLite keeps a row's columns
-- in order, so reading size_bytes, added_at or active from cairn_plugins
-- walks the component's whole overflow chain (an 18 MB Python plugin read
-- twice by every process listing the active plugins). Every catalog query
-- reads this covering index instead, and only plugin_component.sql reads
-- the table's bytes.
CREATE INDEX cairn_plugins_catalog ON cairn_plugins (name, version, kind, content_hash, description, size_bytes, added_at, active);
