//! `cairn cluster status`: the hosts sharing the store, and which holds
//! each piece of exclusive work, with each projection's lag.

use clap::{Args, Subcommand};
use serde_json::json;

use super::Cli;
use cairn::cluster::{hosts_alive, projection_of_lease};
use cairn::replay::live_checkpoint_name;
use cairn::store::HOST_LEASE_PREFIX;

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The hosts alive, and every lease: its holder, token, expiry and (for a projection) its lag
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// JSON lines instead of tables: one per host, then one per lease
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, command: &ClusterCommand) -> anyhow::Result<()> {
    let ClusterCommand::Status(args) = command;
    let store = cli.open_store().await?;
    let (leases, head) = (store.leases().await?, store.head_position().await?);
    let hosts = hosts_alive(&leases);
    let mut work = Vec::new();
    for lease in leases.iter().filter(|lease| !lease.name.starts_with(HOST_LEASE_PREFIX)) {
        let position = match projection_of_lease(&lease.name) {
            Some(handler) => store.checkpoint(&live_checkpoint_name(handler)).await?.map(|checkpoint| checkpoint.position),
            None => None,
        };
        work.push((lease, position));
    }
    if args.json {
        for host in &hosts {
            println!("{}", json!({ "host": host }));
        }
        for (lease, position) in &work {
            let mut line = serde_json::to_value(lease)?;
            line["position"] = json!(position);
            line["lag"] = json!(position.map(|position| head.saturating_sub(position)));
            println!("{line}");
        }
        return Ok(());
    }
    println!("{} hosts alive: {}", hosts.len(), if hosts.is_empty() { "none".to_owned() } else { hosts.join(", ") });
    if work.is_empty() {
        println!("no leases yet: no `cairn serve` has run projections on this store");
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["work", "holder", "token", "expires", "lag"]);
    for (lease, position) in &work {
        table.add_row([
            lease.name.clone(),
            if lease.expired { format!("(expired) {}", lease.holder) } else { lease.holder.clone() },
            lease.token.to_string(),
            super::output::format_time(&lease.expires_at),
            position.map_or_else(String::new, |position| head.saturating_sub(position).to_string()),
        ]);
    }
    println!("{table}");
    Ok(())
}
