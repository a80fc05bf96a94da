//! Every error variant of every library, through both front ends: the CLI's
//! exit code and the HTTP status must both be the ones of the error's kind.
//! The `match`es without a wildcard make this file fail to compile when a
//! variant is added and not listed here.

use std::time::Duration;

use cairn::command::CommandError;
use cairn::migrate::{StreamMigrationError, UpcastError};
use cairn::plugins::PluginHostError;
use cairn::read::ReadError;
use cairn::replay::ReplayError;
use cairn::runtime::{FailureReason, PluginCallError, PluginLoadError};
use cairn::{Classified, ErrorKind, ExpectedVersion, Problem, StoreError, StreamId};
use cairn_http::ApiError;

use super::exit::{exit_code, kind_of, NotFoundError, UsageError};

fn stream() -> StreamId {
    StreamId::new("account", "a-1")
}

fn store_errors() -> Vec<StoreError> {
    let all = vec![
        StoreError::Conflict { stream: stream(), expected: ExpectedVersion::Exact(1), actual: 2 },
        StoreError::Invalid(vec![Problem::new("event 1", "payload is not JSON")]),
        StoreError::DuplicateId { id: uuid::Uuid::nil(), difference: "payload differs".into() },
        StoreError::Unreachable { url: "sqlite://x".into(), reason: "gone".into() },
        StoreError::NotACairnStore { location: "x".into(), reason: "other tables".into() },
        StoreError::NewerSchema { location: "x".into(), found: 99, known: 9 },
        StoreError::BadUrl("mysql://".into()),
        StoreError::Database(sqlx::Error::PoolTimedOut),
        StoreError::Database(sqlx::Error::RowNotFound),
        StoreError::Busy("a lock stayed held".into()),
        StoreError::Sqlite(rusqlite::Error::InvalidQuery),
        StoreError::Bug("a read panicked".into()),
        StoreError::Migration(sqlx::migrate::MigrateError::VersionMissing(1)),
        StoreError::GenerationRetired { handler: "h".into(), generation: 1 },
        StoreError::CheckpointMoved { name: "c".into(), expected: 1, actual: 2 },
        StoreError::LeaseLost { lease: "projection:h".into(), token: 1, current: Some(2) },
        StoreError::CorruptRow("bad id".into()),
        StoreError::RegistryRefused("an aggregate type has two plugins".into()),
    ];
    for error in &all {
        match error {
            StoreError::Conflict { .. }
            | StoreError::Invalid(_)
            | StoreError::DuplicateId { .. }
            | StoreError::Unreachable { .. }
            | StoreError::NotACairnStore { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::BadUrl(_)
            | StoreError::Database(_)
            | StoreError::Sqlite(_)
            | StoreError::Bug(_)
            | StoreError::Busy(_)
            | StoreError::Migration(_)
            | StoreError::GenerationRetired { .. }
            | StoreError::CheckpointMoved { .. }
            | StoreError::LeaseLost { .. }
            | StoreError::CorruptRow(_)
            | StoreError::RegistryRefused(_) => {}
        }
    }
    all
}

fn call_errors() -> Vec<PluginCallError> {
    let reasons = vec![
        FailureReason::Timeout(Duration::from_secs(1)),
        FailureReason::OutOfMemory(64),
        FailureReason::Trap("unreachable".into()),
        FailureReason::Malformed("not JSON".into()),
        FailureReason::OverLimit("it decided 20000 events".into()),
        FailureReason::Rejected("insufficient funds".into()),
        FailureReason::Invalid("unknown command".into()),
        FailureReason::Internal("bug".into()),
    ];
    for reason in &reasons {
        match reason {
            FailureReason::Timeout(_)
            | FailureReason::OutOfMemory(_)
            | FailureReason::Trap(_)
            | FailureReason::Malformed(_)
            | FailureReason::OverLimit(_)
            | FailureReason::Rejected(_)
            | FailureReason::Invalid(_)
            | FailureReason::Internal(_) => {}
        }
    }
    reasons.into_iter().map(|reason| PluginCallError { plugin: "bank-account".into(), function: "decide", reason }).collect()
}

fn load_errors() -> Vec<PluginLoadError> {
    let all = vec![
        PluginLoadError::NotAComponent("core module".into()),
        PluginLoadError::NoKnownWorld("nothing".into()),
        PluginLoadError::SeveralWorlds("aggregate, handler".into()),
        PluginLoadError::MissingFunctions { export: "cairn:plugin/aggregate@0.2.0".into(), missing: "decide".into(), contract: cairn::runtime::ContractVersion::V0_2 },
        PluginLoadError::ForbiddenImports("wasi:filesystem".into()),
        PluginLoadError::Instantiation("trap".into()),
        PluginLoadError::Cache("disk full".into()),
        PluginLoadError::Call(call_errors().remove(2)),
    ];
    for error in &all {
        match error {
            PluginLoadError::NotAComponent(_)
            | PluginLoadError::NoKnownWorld(_)
            | PluginLoadError::SeveralWorlds(_)
            | PluginLoadError::MissingFunctions { .. }
            | PluginLoadError::ForbiddenImports(_)
            | PluginLoadError::Instantiation(_)
            | PluginLoadError::Cache(_)
            | PluginLoadError::Call(_) => {}
        }
    }
    all
}

fn host_errors() -> Vec<PluginHostError> {
    let mut all = vec![
        PluginHostError::InvalidName("Bad Name".into()),
        PluginHostError::KindChanged { name: "x".into(), existing: "aggregate".into(), new: "handler".into() },
        PluginHostError::MigratorNeedsName,
        PluginHostError::AggregateTypeChanged { name: "x".into(), existing: "a".into(), new: "b".into() },
        PluginHostError::AggregateTypeTaken { aggregate_type: "a".into(), owner: "x".into() },
        PluginHostError::UnknownPlugin { name: "x".into(), version: None, registered: Vec::new() },
        PluginHostError::UnknownHandler { name: "x".into(), registered: Vec::new() },
        PluginHostError::UnknownAggregateType { aggregate_type: "a".into(), registered: Vec::new() },
        PluginHostError::Unloadable { name: "x".into(), version: 1, reason: "gone".into() },
        PluginHostError::ConflictingMigrators(vec!["both migrate T".into()]),
        PluginHostError::RemovalRefused { name: "m".into(), reason: "both migrate T".into() },
        PluginHostError::NothingToCompare { handler: "h".into() },
        PluginHostError::ShadowLimitOnHandler,
    ];
    all.extend(load_errors().into_iter().map(|source| PluginHostError::Refused { name: "x".into(), source }));
    all.extend(call_errors().into_iter().map(PluginHostError::Call));
    all.extend(store_errors().into_iter().map(PluginHostError::Store));
    for error in &all {
        match error {
            PluginHostError::InvalidName(_)
            | PluginHostError::Refused { .. }
            | PluginHostError::KindChanged { .. }
            | PluginHostError::MigratorNeedsName
            | PluginHostError::AggregateTypeChanged { .. }
            | PluginHostError::AggregateTypeTaken { .. }
            | PluginHostError::UnknownPlugin { .. }
            | PluginHostError::UnknownHandler { .. }
            | PluginHostError::UnknownAggregateType { .. }
            | PluginHostError::Unloadable { .. }
            | PluginHostError::ConflictingMigrators(_)
            | PluginHostError::RemovalRefused { .. }
            | PluginHostError::NothingToCompare { .. }
            | PluginHostError::ShadowLimitOnHandler
            | PluginHostError::Call(_)
            | PluginHostError::Store(_) => {}
        }
    }
    all
}

fn upcast_error() -> UpcastError {
    UpcastError {
        event_id: uuid::Uuid::nil(),
        event_type: "T".into(),
        from_version: "1.0".into(),
        to_version: "2.0".into(),
        migrator: "m".into(),
        reason: call_errors().remove(2),
    }
}

fn read_errors() -> Vec<ReadError> {
    let mut all = vec![ReadError::Upcast(upcast_error()), ReadError::Runtime(PluginLoadError::Instantiation("no engine".into()))];
    all.extend(store_errors().into_iter().map(ReadError::Store));
    all.extend(host_errors().into_iter().map(ReadError::Plugins));
    for error in &all {
        match error {
            ReadError::Store(_) | ReadError::Upcast(_) | ReadError::Plugins(_) | ReadError::Runtime(_) => {}
        }
    }
    all
}

fn command_errors() -> Vec<CommandError> {
    let mut all = vec![
        CommandError::Invalid(vec!["aggregate id is empty".into()]),
        CommandError::Rejected { plugin: "bank-account".into(), message: "insufficient funds".into() },
        CommandError::Conflict { attempts: 4, source: store_errors().remove(0) },
        CommandError::VersionBeyondEnd { stream: stream(), requested: 9, current: 2 },
        CommandError::EmptyStream(stream()),
        CommandError::CommandIdReused { command_id: "deposit-1".into(), difference: "another payload".into() },
        CommandError::Upcast(upcast_error()),
    ];
    all.extend(call_errors().into_iter().map(CommandError::Plugin));
    all.extend(read_errors().into_iter().map(CommandError::Read));
    all.extend(host_errors().into_iter().map(CommandError::Plugins));
    all.extend(store_errors().into_iter().map(CommandError::Store));
    for error in &all {
        match error {
            CommandError::Invalid(_)
            | CommandError::Rejected { .. }
            | CommandError::Conflict { .. }
            | CommandError::VersionBeyondEnd { .. }
            | CommandError::EmptyStream(_)
            | CommandError::CommandIdReused { .. }
            | CommandError::Plugin(_)
            | CommandError::Upcast(_)
            | CommandError::Read(_)
            | CommandError::Plugins(_)
            | CommandError::Store(_) => {}
        }
    }
    all
}

fn replay_errors() -> Vec<ReplayError> {
    let mut all = vec![
        ReplayError::Upcast(upcast_error()),
        ReplayError::CheckpointAhead { name: "c".into(), position: 9, head: 2 },
        ReplayError::Invalid("batch size 0".into()),
        ReplayError::NotFound("no dead letter 9".into()),
        ReplayError::Conflict("parked behind 8".into()),
        ReplayError::Stopped("ten failures in a row".into()),
    ];
    all.extend(host_errors().into_iter().map(ReplayError::Plugins));
    all.extend(read_errors().into_iter().map(ReplayError::Read));
    all.extend(store_errors().into_iter().map(ReplayError::Store));
    for error in &all {
        match error {
            ReplayError::Plugins(_)
            | ReplayError::Upcast(_)
            | ReplayError::Read(_)
            | ReplayError::Store(_)
            | ReplayError::CheckpointAhead { .. }
            | ReplayError::Invalid(_)
            | ReplayError::NotFound(_)
            | ReplayError::Conflict(_)
            | ReplayError::Stopped(_) => {}
        }
    }
    all
}

fn stream_migration_errors() -> Vec<StreamMigrationError> {
    let mut all = vec![StreamMigrationError::EmptySource(stream()), StreamMigrationError::SameStream(stream()), StreamMigrationError::Upcast(upcast_error())];
    all.extend(store_errors().into_iter().map(StreamMigrationError::Store));
    for error in &all {
        match error {
            StreamMigrationError::EmptySource(_) | StreamMigrationError::SameStream(_) | StreamMigrationError::Upcast(_) | StreamMigrationError::Store(_) => {}
        }
    }
    all
}

/// One error as the CLI sees it (its exit code) and as HTTP answers it.
struct Seen {
    description: String,
    kind: ErrorKind,
    exit: u8,
    status: u16,
}

/// How both front ends see `error`; `twin` is an identical copy for HTTP,
/// since each front end takes its error by value.
fn seen<E>(error: E, twin: E) -> Seen
where
    E: Classified + std::error::Error + Send + Sync + 'static,
    ApiError: From<E>,
{
    let description = format!("{error:?}");
    let kind = error.kind();
    let status = ApiError::from(twin).status.as_u16();
    // The CLI meets library errors wrapped in context, as `?` leaves them.
    let exit = exit_code(kind_of(&anyhow::Error::new(error).context("while running the command")));
    Seen { description, kind, exit, status }
}

#[test]
fn the_cli_and_http_agree_on_every_error_variant() {
    let mut all: Vec<Seen> = Vec::new();
    macro_rules! through_both {
        ($errors:expr, $again:expr) => {
            all.extend($errors.into_iter().zip($again).map(|(error, twin)| seen(error, twin)));
        };
    }
    through_both!(store_errors(), store_errors());
    through_both!(host_errors(), host_errors());
    through_both!(command_errors(), command_errors());
    through_both!(replay_errors(), replay_errors());
    through_both!(read_errors(), read_errors());
    through_both!(vec![upcast_error()], vec![upcast_error()]);
    for (error, kind) in stream_migration_errors().into_iter().map(|error| {
        let kind = error.kind();
        (error, kind)
    }) {
        // No HTTP endpoint migrates streams; its kind still decides its exit code.
        let description = format!("{error:?}");
        all.push(Seen { description, kind, exit: exit_code(kind_of(&anyhow::Error::new(error))), status: cairn_http::status_of(kind).as_u16() });
    }
    for (error, kind) in [(anyhow::Error::new(UsageError("bad flag".into())), ErrorKind::Invalid), (anyhow::Error::new(NotFoundError("no job".into())), ErrorKind::NotFound)] {
        all.push(Seen { description: error.to_string(), kind, exit: exit_code(kind_of(&error)), status: cairn_http::status_of(kind).as_u16() });
    }
    let mut kinds_seen = std::collections::BTreeSet::new();
    for seen in &all {
        kinds_seen.insert(seen.kind);
        assert_eq!(seen.exit, exit_code(seen.kind), "the CLI exits {} for {}", seen.exit, seen.description);
        assert_eq!(seen.status, cairn_http::status_of(seen.kind).as_u16(), "HTTP answers {} for {}", seen.status, seen.description);
    }
    assert_eq!(kinds_seen.into_iter().collect::<Vec<_>>(), ErrorKind::ALL.to_vec(), "every kind has an error that has it");
    let mut pairs = std::collections::BTreeMap::new();
    for kind in ErrorKind::ALL {
        let pair = (exit_code(kind), cairn_http::status_of(kind).as_u16());
        assert!(pair.0 != 0 && pair.1 >= 400, "{kind} must fail in both front ends");
        pairs.insert(kind, pair);
    }
    // A kind means one thing: the same exit code never pairs with two statuses' families.
    assert_eq!(pairs[&ErrorKind::Conflict], (3, 409));
    assert_eq!(pairs[&ErrorKind::Rejected], (4, 422));
    assert_eq!(pairs[&ErrorKind::NotFound], (6, 404));
}
