//! Exit codes and error printing. Every library error has a kind
//! (`cairn::ErrorKind`); [`exit_code`] is the one table from kinds to exit
//! codes, so a failure exits the same way whichever command meets it, and
//! agrees with the HTTP status `cairn serve` answers for it.
//!
//! 0 ok, 1 failed (unavailable or internal), 2 usage (bad input, or refused
//! by Cairn's rules), 3 conflict, 4 rejected by an aggregate, 5 a check found
//! problems, 6 not found.

use std::process::ExitCode;

use cairn::{Classified, ErrorKind};
use clap::Parser;

use super::{dispatch, Cli};

/// An error in what the user asked for, as opposed to a failure while doing it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Classified for UsageError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}

/// Something the user named that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFoundError(pub String);

impl Classified for NotFoundError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::NotFound
    }
}

/// A check (`migrate check`, `validate-sequence`) that ran and found
/// problems: not a failure of the command, so it has an exit code of its own.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProblemsFound(pub String);

pub const EXIT_PROBLEMS_FOUND: u8 = 5;

/// The one table from error kinds to exit codes.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Unavailable | ErrorKind::Internal => 1,
        ErrorKind::Invalid | ErrorKind::Refused => 2,
        ErrorKind::Conflict => 3,
        ErrorKind::Rejected => 4,
        ErrorKind::NotFound => 6,
    }
}

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
            if error.chain().any(|cause| cause.downcast_ref::<ProblemsFound>().is_some()) {
                return ExitCode::from(EXIT_PROBLEMS_FOUND);
            }
            ExitCode::from(exit_code(kind_of(&error)))
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

/// The kind of the outermost classified error in the chain; an error no
/// library classified (an I/O error printing output, say) is a failure.
pub fn kind_of(error: &anyhow::Error) -> ErrorKind {
    error.chain().find_map(classify).unwrap_or(ErrorKind::Internal)
}

fn classify(cause: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    macro_rules! first_of {
        ($($error:ty),+ $(,)?) => {
            $(if let Some(error) = cause.downcast_ref::<$error>() {
                return Some(error.kind());
            })+
        };
    }
    first_of!(
        UsageError,
        NotFoundError,
        cairn::StoreError,
        cairn::plugins::PluginHostError,
        cairn::command::CommandError,
        cairn::replay::ReplayError,
        cairn::read::ReadError,
        cairn::migrate::UpcastError,
        cairn::migrate::StreamMigrationError,
        cairn::runtime::PluginCallError,
        cairn::runtime::PluginLoadError,
    );
    None
}
