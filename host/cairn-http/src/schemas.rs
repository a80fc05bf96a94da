//! Schemas of the OpenAPI document that say exactly what the server takes,
//! so that a client generated from the document (or a fuzzer reading it)
//! sends only what is accepted, and the server accepts all it documents.
//! Only the document uses these types; handlers read bodies into their own.

#![allow(dead_code)]

use std::borrow::Cow;

use serde::Deserialize;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// What a name may be: an aggregate type or id, an event type, a schema
/// version, a correlation, causation or user id, a source, a command type
/// or id, a checkpoint. Not blank, no control characters, at most 64
/// characters (the server accepts up to 256 bytes).
const NAME_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";

/// RFC 3339 in years 1000 to 8999 (so that no offset crosses out of 0001 to
/// 9999), with days that every month has, with a `T` and an offset.
const INSTANT_PATTERN: &str = r"^[1-8]\d{3}-((0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$";

/// A UUID, hyphenated.
const UUID_PATTERN: &str = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Schemas with constraints utoipa's derive cannot state, written out.
macro_rules! written_schema {
    ($name:ident, $description:literal, $schema:expr) => {
        #[doc = $description]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let schema: ObjectBuilder = $schema;
                schema.description(Some($description)).into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

written_schema!(
    Name,
    "A name: an aggregate type or id, an event type, a schema version, a correlation, causation or user id, a source, a command type or id, a checkpoint. Not blank, no control characters, at most 64 characters.",
    ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(64)).pattern(Some(NAME_PATTERN))
);
written_schema!(
    PluginName,
    "A plugin's name: 1 to 64 lowercase letters, digits, `-`, `_` or `.`, starting with a letter or digit.",
    ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^[a-z0-9][a-z0-9._-]{0,63}$"))
);
written_schema!(
    Instant,
    "An instant in RFC 3339, such as 2026-05-01T12:00:00Z or 2026-05-01T14:00:00.5+02:00, from year 0001 to 9999. (The server takes every RFC 3339 time in those years; the pattern leaves out 29 February.)",
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).pattern(Some(INSTANT_PATTERN))
);
written_schema!(
    UuidText,
    "A UUID, such as 0192f0c4-7a52-7cc3-8d7e-2f1f3f6b9a10.",
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))).pattern(Some(UUID_PATTERN))
);
written_schema!(
    IdempotencyKey,
    "A command's id in the Idempotency-Key header: 1 to 256 visible ASCII characters (spaces inside), such as a UUID; a key in double quotes, as the IETF draft writes it, is taken too.",
    ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(256)).pattern(Some(r"^[!#-~]([ -~]*[!#-~])?$"))
);
written_schema!(AnyJson, "Any JSON value.", ObjectBuilder::new().schema_type(SchemaType::AnyValue));
written_schema!(
    Position,
    "A whole number from 0 that fits a signed 64-bit integer: a global position, a stream version.",
    ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))).minimum(Some(0)).maximum(Some(i64::MAX))
);

/// `any`, `no-stream` (the stream has no event yet), `exists`, or the
/// stream's exact current version.
#[derive(ToSchema, Deserialize)]
#[serde(untagged)]
pub enum ExpectedVersion {
    Named(ExpectedCondition),
    #[schema(value_type = Position)]
    Exact(u64),
}

#[derive(ToSchema, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectedCondition {
    Any,
    NoStream,
    Exists,
}

/// One event to append: the fields of a `cairn log` line. Payload and
/// metadata are stored byte for byte as sent.
#[derive(ToSchema)]
#[schema(example = json!({"aggregate_type": "account", "aggregate_id": "acc-2", "event_type": "AccountOpened", "payload": {"owner": "Bo", "currency": "EUR"}, "metadata": {"user_id": "clerk-7"}}))]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// The event's id; a new UUID v7 without it. Re-sending an id with the
    /// same content is a no-op; with other content, a conflict.
    #[schema(value_type = Option<UuidText>)]
    id: Option<uuid::Uuid>,
    #[schema(value_type = Name)]
    aggregate_type: String,
    #[schema(value_type = Name)]
    aggregate_id: String,
    #[schema(value_type = Name)]
    event_type: String,
    /// Any JSON value, up to --max-payload-bytes.
    #[schema(value_type = AnyJson)]
    payload: serde_json::Value,
    /// A JSON object of up to 64 KiB.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
    /// "1.0" when absent.
    #[schema(value_type = Option<Name>)]
    schema_version: Option<String>,
    /// When it happened (RFC 3339); the time of the append when absent.
    #[schema(value_type = Option<Instant>)]
    timestamp: Option<String>,
    /// The stream version the event must land at (a copy between stores).
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    stream_version: Option<u64>,
    #[schema(value_type = Option<Name>)]
    correlation_id: Option<String>,
    #[schema(value_type = Option<Name>)]
    causation_id: Option<String>,
    #[schema(value_type = Option<Name>)]
    user_id: Option<String>,
    #[schema(value_type = Option<Name>)]
    source: Option<String>,
    /// Printed by `cairn log`; accepted and ignored.
    #[schema(value_type = Option<Position>)]
    global_position: Option<u64>,
    /// Printed by `cairn log`; accepted and ignored.
    #[schema(value_type = Option<Instant>)]
    recorded_at: Option<String>,
}

/// `POST /events`: an event, and what its stream must be before it. Its
/// schema is `EventInput`'s with one more property, written out because
/// `allOf` with `additionalProperties: false` would refuse every field.
pub struct EventWithExpectation;

impl PartialSchema for EventWithExpectation {
    fn schema() -> RefOr<Schema> {
        let mut schema = EventInput::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.properties.insert("expected_version".to_owned(), RefOr::Ref(utoipa::openapi::Ref::from_schema_name(ExpectedVersion::name())));
            object.description = Some("One event, in the shape `cairn log` prints, and the version its stream must be at: `any` (the default), `no-stream`, `exists` or a number.".to_owned());
        }
        schema
    }
}

impl ToSchema for EventWithExpectation {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ExpectedVersion::name().into_owned(), ExpectedVersion::schema()));
        schemas.push((ExpectedCondition::name().into_owned(), ExpectedCondition::schema()));
        schemas.push((Name::name().into_owned(), Name::schema()));
        schemas.push((Position::name().into_owned(), Position::schema()));
    }
}

/// Which events: every field narrows; lists match any of their values.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogFilterInput {
    #[serde(default)]
    #[schema(value_type = Vec<Name>)]
    event_types: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Name>)]
    aggregate_types: Vec<String>,
    #[schema(value_type = Option<Name>)]
    aggregate_id: Option<String>,
    #[schema(value_type = Option<Name>)]
    correlation_id: Option<String>,
    #[schema(value_type = Option<Name>)]
    causation_id: Option<String>,
    #[schema(value_type = Option<Name>)]
    user_id: Option<String>,
    /// Events at or after this instant (RFC 3339).
    #[schema(value_type = Option<Instant>)]
    since: Option<String>,
    /// Events at or before this instant (RFC 3339).
    #[schema(value_type = Option<Instant>)]
    until: Option<String>,
    /// Events at or below this global position.
    #[schema(value_type = Option<Position>)]
    to_position: Option<u64>,
}

written_schema!(
    PageSize,
    "How many items per answer: 1 to 10,000.",
    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(10_000))
);
written_schema!(
    ComponentBytes,
    "The bytes of a WebAssembly component (`.wasm`).",
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
);
written_schema!(
    DeadLetterId,
    "A dead letter's id, as `GET /dead-letters` lists it.",
    ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))).minimum(Some(1)).maximum(Some(i64::MAX))
);

/// What to do with a dead letter: run it again, or drop it unhandled.
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
pub enum DeadLetterActionName {
    Retry,
    Skip,
}

/// `POST /events/batch`: a stream's expected version before the batch.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    #[schema(value_type = Name)]
    aggregate_type: String,
    #[schema(value_type = Name)]
    aggregate_id: String,
    #[schema(value_type = ExpectedVersion)]
    expected_version: ExpectedVersion,
}

/// `POST /events/batch`: events appended atomically, all or none.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// Events in the shape of `POST /events`, without expected_version.
    #[schema(min_items = 1)]
    events: Vec<EventInput>,
    #[serde(default)]
    expectations: Vec<Expectation>,
}

/// `POST /commands/…`: a command for the aggregate's plugin.
#[derive(ToSchema)]
#[schema(example = json!({"command_type": "Deposit", "payload": {"amount": 25}, "metadata": {"user_id": "clerk-7"}, "command_id": "deposit-2026-05-01-001"}))]
#[serde(deny_unknown_fields)]
pub struct CommandInput {
    #[schema(value_type = Name)]
    command_type: String,
    /// The command's fields, as the plugin reads them; `{}` when absent.
    #[schema(value_type = Option<Object>)]
    payload: Option<serde_json::Value>,
    /// Copied onto the events: user_id, correlation_id, source and more.
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
    /// Makes the command idempotent: a re-sent id answers with the events
    /// it wrote the first time.
    #[schema(value_type = Option<Name>)]
    command_id: Option<String>,
}

/// `POST /snapshots`: which aggregate, and at which version.
#[derive(ToSchema)]
#[schema(example = json!({"aggregate_type": "bank-account", "aggregate_id": "acc-1"}))]
#[serde(deny_unknown_fields)]
pub struct SnapshotInput {
    #[schema(value_type = Name)]
    aggregate_type: String,
    #[schema(value_type = Name)]
    aggregate_id: String,
    /// The stream version to snapshot, from 1; the latest without it.
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    at_version: Option<u64>,
}

/// `POST /validate-sequence`: a stream and the event types it should hold.
#[derive(ToSchema)]
#[schema(example = json!({"aggregate_type": "account", "aggregate_id": "acc-1", "expected": ["AccountOpened", "MoneyDeposited"]}))]
#[serde(deny_unknown_fields)]
pub struct SequenceInput {
    #[schema(value_type = Name)]
    aggregate_type: String,
    #[schema(value_type = Name)]
    aggregate_id: String,
    /// The event types the stream should hold, in order.
    #[schema(value_type = Vec<Name>)]
    expected: Vec<String>,
}

/// `POST /replay`: which handlers, over which events, how.
#[derive(ToSchema)]
#[schema(example = json!({"handlers": ["account-summary"], "filter": {"aggregate_types": ["account"]}, "checkpoint": "audit-2026", "batch_size": 500}))]
#[serde(deny_unknown_fields)]
pub struct ReplayInput {
    #[schema(value_type = Vec<PluginName>, min_items = 1)]
    handlers: Vec<String>,
    #[serde(default)]
    filter: LogFilterInput,
    /// The first global position to replay; the checkpoint's by default.
    #[schema(value_type = Option<Position>)]
    from_position: Option<u64>,
    /// A checkpoint of the job's own, so the live projection is untouched;
    /// the job then writes a read-model generation of its own.
    #[schema(value_type = Option<Name>)]
    checkpoint: Option<String>,
    /// Events per batch: 1 to 10,000 (500 by default).
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    batch_size: Option<u64>,
    /// Parallel workers: 1 to four per core (1 by default).
    #[schema(value_type = Option<u64>, minimum = 1)]
    workers: Option<u64>,
    /// Retries of a failing event before it is dead-lettered: 0 to 100.
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 100)]
    max_retries: Option<u32>,
    /// Stop the job at the first dead letter.
    #[serde(default)]
    stop_on_error: bool,
}

/// `POST /session`: the bearer token to log in with.
#[derive(ToSchema)]
#[schema(example = json!({"token": "cairn_0123456789abcdef"}))]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    /// A token configured with `--tokens-file` or `CAIRN_TOKENS`.
    #[schema(min_length = 1, max_length = 1024)]
    token: String,
}
