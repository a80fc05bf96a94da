//! The `cairn` command: parse flags, validate them into a config, call the
//! library, print. Nothing here knows how the store works.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
