-- Delivered at commit, so a listener is never woken for an invisible event.
SELECT pg_notify('cairn_events', $1)
