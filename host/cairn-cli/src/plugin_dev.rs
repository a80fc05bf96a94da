//! `cairn dev [DIR]`: the plugin author's loop. It tests, builds and adds
//! the project in DIR to the store, then does it again each time a source
//! file changes; a running `cairn serve` on that store swaps the new
//! version in within its registry refresh. One line per cycle. A build
//! whose tests fail is never registered.
//!
//! Changes are found by comparing the project's files' sizes and
//! modification times every [`POLL`]: no watcher library, and it behaves
//! the same on every file system, network mounts included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use clap::Args;

use super::Cli;
use cairn::plugins::PluginSource;

/// How often the sources are compared.
const POLL: Duration = Duration::from_millis(300);

/// Folders that hold build output and installed tools, not sources.
const NOT_SOURCES: &[&str] = &["target", "node_modules", ".venv", ".stage", "__pycache__", ".git"];

#[derive(Debug, Args)]
pub struct DevArgs {
    /// The plugin project
    #[arg(default_value = ".")]
    directory: PathBuf,
    /// Stop after this many cycles [default: run until interrupted]
    #[arg(long)]
    cycles: Option<u64>,
}

pub async fn run(cli: &Cli, args: &DevArgs) -> anyhow::Result<()> {
    // Checked before the first cycle, so a wrong directory fails at once.
    super::plugin_project::script_command(&args.directory, "build")?;
    let plugins = cli.open_plugins(false).await?;
    let mut sources = snapshot(&args.directory);
    let mut cycle = 0u64;
    loop {
        cycle += 1;
        let line = run_cycle(&plugins, &args.directory).await;
        println!("cycle {cycle}: {line}");
        if args.cycles.is_some_and(|cycles| cycle >= cycles) {
            return Ok(());
        }
        loop {
            tokio::time::sleep(POLL).await;
            let now = snapshot(&args.directory);
            if now != sources {
                sources = now;
                break;
            }
        }
    }
}

/// Test, build, add: what happened, on one line.
async fn run_cycle(plugins: &std::sync::Arc<cairn::plugins::PluginHost>, directory: &Path) -> String {
    let (started, cycle_began) = (Instant::now(), SystemTime::now());
    if let Err(problem) = run_step(directory, "test") {
        return format!("tests failed, nothing registered: {problem}");
    }
    if let Err(problem) = run_step(directory, "build") {
        return format!("tests passed; the build failed: {problem}");
    }
    let built = started.elapsed();
    let Some(component) = newest_component(directory, cycle_began) else {
        return format!("tests passed and the build succeeded, but wrote no .wasm into {}; check its build script", directory.display());
    };
    let bytes = match std::fs::read(&component) {
        Ok(bytes) => bytes,
        Err(error) => return format!("cannot read {}: {error}", component.display()),
    };
    let file_stem = component.file_stem().map(|stem| stem.to_string_lossy().to_lowercase());
    match plugins.add(PluginSource { bytes, requested_name: None, file_stem }).await {
        Ok(added) if added.already_active => format!("tests passed, built in {:.1} s; {} version {} already has these bytes", built.as_secs_f64(), added.record.name, added.record.version),
        Ok(added) => format!("tests passed, built in {:.1} s; registered {} version {}", built.as_secs_f64(), added.record.name, added.record.version),
        Err(error) => format!("tests passed, built in {:.1} s; not registered: {error}", built.as_secs_f64()),
    }
}

/// Runs a script with its output captured; the first line that reads like
/// an error (else the last line) when it fails.
fn run_step(directory: &Path, script: &str) -> Result<(), String> {
    let mut command = super::plugin_project::script_command(directory, script).map_err(|error| error.0)?;
    let output = command.output().map_err(|error| format!("cannot run {script}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|line| !line.is_empty()).collect();
    Err(format!("{} (`cairn plugin {script} {}` shows all)", first_error(&lines), directory.display()))
}

/// The most telling line of a failed step: a Rust panic with its message
/// (the line after), else the first error or failure line, else the last.
fn first_error(lines: &[&str]) -> String {
    if let Some(index) = lines.iter().position(|line| line.contains("panicked at")) {
        return lines[index..].iter().take(2).copied().collect::<Vec<_>>().join(" ");
    }
    let telling = |line: &&&str| ["error", "Error", "FAILED", "failed", "not ok"].iter().any(|word| line.contains(word));
    lines.iter().find(telling).or(lines.last()).map_or_else(|| "no output".to_owned(), |line| (*line).to_owned())
}

/// The `.wasm` the build wrote: the newest one modified since it started.
fn newest_component(directory: &Path, since: SystemTime) -> Option<PathBuf> {
    std::fs::read_dir(directory)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|extension| extension == "wasm"))
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .filter(|(modified, _)| *modified >= since)
        .max()
        .map(|(_, path)| path)
}

/// Every source file's size and modification time.
fn snapshot(directory: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut folders = vec![directory.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let (path, name) = (entry.path(), entry.file_name().to_string_lossy().into_owned());
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                if !NOT_SOURCES.contains(&name.as_str()) {
                    folders.push(path);
                }
            } else if !name.ends_with(".wasm") {
                files.insert(path, (metadata.len(), metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
    }
    files
}
