//! Exit codes and error printing: 0 ok, 1 operational error, 2 usage error,
//! 3 concurrency conflict, 4 a command rejected by its aggregate.

use std::process::ExitCode;

use cairn::StoreError;
use clap::Parser;

use super::{dispatch, Cli};

/// An error in what the user asked for, as opposed to a failure while doing it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG").unwrap_or_else(|_| "warn,sqlx=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", chain(&error));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// The context chain on one line, outermost first.
fn chain(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return 2;
        }
        if cause.downcast_ref::<super::exec::Rejection>().is_some() {
            return 4;
        }
        if let Some(plugin_error) = cause.downcast_ref::<cairn::plugins::PluginHostError>() {
            use cairn::plugins::PluginHostError as E;
            if matches!(
                plugin_error,
                E::InvalidName(_) | E::Refused { .. } | E::KindChanged { .. } | E::ConflictingMigrators(_) | E::AggregateTypeChanged { .. } | E::AggregateTypeTaken { .. } | E::UnknownPlugin { .. } | E::UnknownAggregateType { .. } | E::UnknownHandler { .. }
            ) {
                return 2;
            }
        }
        if let Some(cairn::migrate::StreamMigrationError::EmptySource(_) | cairn::migrate::StreamMigrationError::SameStream(_)) =
            cause.downcast_ref::<cairn::migrate::StreamMigrationError>()
        {
            return 2;
        }
        if let Some(cairn::migrate::StreamMigrationError::Store(StoreError::Conflict { .. })) =
            cause.downcast_ref::<cairn::migrate::StreamMigrationError>()
        {
            return 3;
        }
        if let Some(store_error) = cause.downcast_ref::<StoreError>() {
            return match store_error {
                StoreError::Conflict { .. } => 3,
                StoreError::Invalid(_) | StoreError::DuplicateId { .. } | StoreError::BadUrl(_) => 2,
                _ => 1,
            };
        }
    }
    1
}
