SELECT (pg_total_relation_size('cairn_events') + pg_total_relation_size('cairn_log_head'))::bigint
