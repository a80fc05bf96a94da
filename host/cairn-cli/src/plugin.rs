use std::path::PathBuf;

use anyhow::Context;
use cairn::plugins::PluginSource;
use clap::{Args, Subcommand};

use super::exit::UsageError;
use super::Cli;

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Validate a component and store it as the active version of its plugin
    Add(AddArgs),
    /// List every version of every plugin
    List(ListArgs),
    /// Delete a plugin (every version, or one with --version)
    #[command(disable_version_flag = true)]
    Remove(RemoveArgs),
    /// Create a plugin project from a template: names filled in, a passing test, a build script
    New(super::plugin_project::NewArgs),
    /// Build a plugin project into NAME.wasm with its language's pinned toolchain (its `build` script)
    Build(super::plugin_project::ProjectArgs),
    /// Run a plugin project's tests (its `test` script)
    Test(super::plugin_project::ProjectArgs),
    /// Shadow-run a candidate version over stored history beside the active one and report the differences; writes nothing
    Try(super::plugin_try::TryArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A WebAssembly component exporting one Cairn world
    file: PathBuf,
    /// The plugin's name [default: the aggregate type, the handler's name, or the file name for a migrator]
    #[arg(long)]
    name: Option<String>,
    /// Shadow-run it over stored history first (as `plugin try`), and register it only if no stream would fold differently
    #[arg(long)]
    shadow: bool,
    /// With --shadow: register it even when streams differ (the differences are still printed)
    #[arg(long, requires = "shadow")]
    accept_differences: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// JSON lines instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    name: String,
    /// Remove only this version; if it was active, the newest remaining one becomes active
    #[arg(long)]
    version: Option<u64>,
}

pub async fn run(cli: &Cli, command: &PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Add(args) => add(cli, args).await,
        PluginCommand::List(args) => list(cli, args).await,
        PluginCommand::Remove(args) => remove(cli, args).await,
        PluginCommand::New(args) => super::plugin_project::new(args),
        PluginCommand::Build(args) => super::plugin_project::build(args),
        PluginCommand::Test(args) => super::plugin_project::test(args),
        PluginCommand::Try(args) => super::plugin_try::run(cli, args).await,
    }
}

async fn add(cli: &Cli, args: &AddArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .map_err(|error| UsageError(format!("cannot read {}: {error}", args.file.display())))?;
    let file_stem = args.file.file_stem().map(|stem| stem.to_string_lossy().to_lowercase());
    let plugins = cli.open_plugins(false).await?;
    if args.shadow {
        super::plugin_try::check_before_adding(&plugins, &args.file, args.name.as_deref(), &bytes, args.accept_differences).await?;
    }
    let added = plugins
        .add(PluginSource { bytes, requested_name: args.name.clone(), file_stem })
        .await
        .with_context(|| format!("cannot add {}", args.file.display()))?;
    let record = &added.record;
    if added.already_active {
        println!("{} version {} already has these exact bytes and is active; nothing changed", record.name, record.version);
    } else {
        println!(
            "added {} version {} ({}, contract cairn:plugin@{}, sha256 {}, {} bytes); it is now active",
            record.name,
            record.version,
            record.kind,
            contract_of(record),
            record.content_hash,
            record.size_bytes
        );
    }
    Ok(())
}

async fn list(cli: &Cli, args: &ListArgs) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    let versions = store.plugin_versions().await?;
    if args.json {
        for record in &versions {
            println!("{}", serde_json::to_string(record)?);
        }
        return Ok(());
    }
    if versions.is_empty() {
        println!("no plugins registered; add one with `cairn plugin add FILE.wasm`");
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(["name", "version", "active", "kind", "contract", "describes", "sha256", "bytes", "added"]);
    for record in &versions {
        table.add_row([
            record.name.clone(),
            record.version.to_string(),
            if record.active { "yes".to_owned() } else { String::new() },
            record.kind.clone(),
            contract_of(record),
            summarize_description(&record.description),
            record.content_hash[..12.min(record.content_hash.len())].to_owned(),
            record.size_bytes.to_string(),
            record.added_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        ]);
    }
    println!("{table}");
    Ok(())
}

/// The contract version a registered component exports, from its stored
/// description; "?" when the description cannot be read (the table still
/// lists the plugin, and loading it names the problem).
fn contract_of(record: &cairn::store::PluginVersionRecord) -> String {
    cairn::runtime::PluginKind::parse(&record.kind)
        .and_then(|kind| cairn::plugins::Description::decode(kind, &record.description).ok())
        .map_or_else(|| "?".to_owned(), |description| description.contract.to_string())
}

/// One short line from a stored `describe` answer.
fn summarize_description(description: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(description) else { return String::new() };
    if let Some(aggregate_type) = value["aggregate_type"].as_str() {
        return format!("aggregate type {aggregate_type}");
    }
    if let Some(steps) = value["steps"].as_array() {
        let steps: Vec<String> = steps
            .iter()
            .map(|step| format!("{} {}→{}", step["event_type"].as_str().unwrap_or("?"), step["from_version"].as_str().unwrap_or("?"), step["to_version"].as_str().unwrap_or("?")))
            .collect();
        return steps.join(", ");
    }
    if let Some(name) = value["name"].as_str() {
        return format!("handler {name}");
    }
    String::new()
}

async fn remove(cli: &Cli, args: &RemoveArgs) -> anyhow::Result<()> {
    let plugins = cli.open_plugins(false).await?;
    let removed = plugins.remove(&args.name, args.version).await?;
    match args.version {
        Some(version) => println!("removed {} version {version}", args.name),
        None => println!("removed {} ({removed} version{})", args.name, if removed == 1 { "" } else { "s" }),
    }
    Ok(())
}
