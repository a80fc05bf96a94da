INSERT INTO cairn_bench_raw (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata, correlation_id, causation_id, user_id, source)
SELECT * FROM UNNEST(
    $1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[],
    $8::timestamptz[], $9::timestamptz[], $10::json[], $11::json[],
    $12::text[], $13::text[], $14::text[], $15::text[]
)
