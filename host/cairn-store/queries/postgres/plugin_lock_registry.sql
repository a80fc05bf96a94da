-- Serializes registry changes across processes for the rest of the
-- transaction: versions of one name are numbered one after the other, and
-- the check of the active set a change leaves sees every change before it.
-- One lock per store (schema), whatever the plugin's name.
SELECT pg_advisory_xact_lock(hashtextextended('cairn_plugins:' || current_schema(), 0))
