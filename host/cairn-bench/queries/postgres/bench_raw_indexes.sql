-- The second baseline: the raw table with the event log's secondary indexes,
-- to separate what indexing costs from what the event-store logic costs.
CREATE UNIQUE INDEX cairn_bench_raw_by_id ON cairn_bench_raw (id);
CREATE UNIQUE INDEX cairn_bench_raw_by_stream ON cairn_bench_raw (aggregate_type, aggregate_id, stream_version);
CREATE INDEX cairn_bench_raw_by_type ON cairn_bench_raw (event_type, global_position);
CREATE INDEX cairn_bench_raw_by_correlation ON cairn_bench_raw (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX cairn_bench_raw_by_timestamp ON cairn_bench_raw (timestamp);
