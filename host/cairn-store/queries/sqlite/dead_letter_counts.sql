-- Dead letters per handler: failed ones (waiting for retry or skip) and those parked behind them.
SELECT handler, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, SUM(CASE WHEN status = 'parked' THEN 1 ELSE 0 END) AS parked
FROM cairn_dead_letters GROUP BY handler ORDER BY handler
