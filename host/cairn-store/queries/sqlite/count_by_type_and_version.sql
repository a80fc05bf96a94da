SELECT event_type, schema_version, COUNT(*) FROM cairn_events GROUP BY event_type, schema_version ORDER BY event_type, schema_version
