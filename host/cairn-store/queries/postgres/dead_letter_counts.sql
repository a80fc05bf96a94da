-- Dead letters per handler: failed ones (waiting for retry or skip) and those parked behind them.
SELECT handler, COUNT(*) FILTER (WHERE status = 'failed') AS failed, COUNT(*) FILTER (WHERE status = 'parked') AS parked
FROM cairn_dead_letters GROUP BY handler ORDER BY handler
