//! Several `cairn serve` processes on one PostgreSQL schema: the live
//! projections spread over them, each on exactly one host; a killed host's
//! work is taken over; a host stopped past its lease commits nothing after
//! it resumes; and the read models end as one host alone would leave them.
#![cfg(cairn_postgres)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::serve::{get, post, Server};
use super::{assert_exit, json_lines, Cairn};

const HANDLERS: [&str; 6] = ["account-summary", "audit-log", "event-counter", "migration-stats", "opportunity-summary", "stream-index"];

fn start_hosts(cairn: &Cairn, count: usize) -> Vec<Server> {
    (0..count).map(|_| Server::start(cairn, &["--lease-ttl", "2s"])).collect()
}

/// The handlers whose projection runs on `server`, by its `/health`.
fn running_on(server: &Server) -> Vec<String> {
    let (_, health) = get(server, "/health");
    health["projections"].as_array().unwrap().iter().filter(|projection| projection["state"] == "running").map(|projection| projection["handler"].as_str().unwrap().to_owned()).collect()
}

fn host_name(server: &Server) -> String {
    get(server, "/health").1["host"].as_str().unwrap().to_owned()
}

/// Unexpired projection leases by handler: (holder, token).
fn holders(cairn: &Cairn) -> BTreeMap<String, (String, u64)> {
    json_lines(&cairn.run(&["cluster", "status", "--json"]))
        .into_iter()
        .filter(|line| line["expired"] == false)
        .filter_map(|line| Some((line["name"].as_str()?.strip_prefix("projection:")?.to_owned(), (line["holder"].as_str()?.to_owned(), line["token"].as_u64()?))))
        .collect()
}

/// Whether every projection has caught up with the log's head.
fn caught_up(cairn: &Cairn) -> bool {
    let lines = json_lines(&cairn.run(&["cluster", "status", "--json"]));
    let lags: Vec<&Value> = lines.iter().filter(|line| line["name"].as_str().is_some_and(|name| name.starts_with("projection:"))).map(|line| &line["lag"]).collect();
    lags.len() == HANDLERS.len() && lags.iter().all(|lag| *lag == &json!(0))
}

fn command(server: &Server, account: usize, command_type: &str, payload: Value) {
    let (status, answer) = post(server, &format!("/commands/bank-account/acc-{account}"), json!({"command_type": command_type, "payload": payload}));
    assert_eq!(status, 200, "{answer}");
}

/// A whole read model: (collection, key, document) in order.
type Documents = Vec<(String, String, String)>;

/// Each handler's live read model, and the one a single run of the same
/// handler over the whole log builds into a generation of its own.
fn live_and_single_host_read_models(cairn: &Cairn) -> Vec<(String, Documents, Documents)> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = cairn::store::open(&cairn::StoreUrl::parse(&cairn.store).unwrap(), cairn::StoreLimits::default()).await.unwrap();
        let host = crate::support::plugin_host(store.clone()).await;
        let mut compared = Vec::new();
        for handler in HANDLERS {
            let options = cairn::replay::ReplayOptions { checkpoint: cairn::replay::CheckpointChoice::Named(format!("single-host:{handler}")), ..Default::default() };
            let single = cairn::replay::replay(&host, handler, &options, |_| {}).await.unwrap();
            let scan = |generation: Option<u64>| {
                let store = store.clone();
                async move { store.read_model_scan(handler, generation, &(String::new(), String::new()), 1_000_000).await.unwrap() }
            };
            compared.push((handler.to_owned(), scan(None).await, scan(Some(single.generation)).await));
        }
        compared
    })
}

fn assert_read_models_match_a_single_host(cairn: &Cairn) {
    for (handler, live, single) in live_and_single_host_read_models(cairn) {
        // Two of them want only opportunity and migration events.
        assert!(!live.is_empty() || ["opportunity-summary", "migration-stats"].contains(&handler.as_str()), "{handler} built a read model");
        assert_eq!(live, single, "{handler}'s read model differs from a single host's");
    }
}

#[test]
fn three_hosts_share_the_projections_take_over_a_killed_one_and_end_as_one_host_would() {
    let cairn = Cairn::with_postgres();
    cairn.add_plugin("bank-account");
    for handler in HANDLERS {
        cairn.add_plugin(handler);
    }
    let mut hosts = start_hosts(&cairn, 3);
    super::serve::wait_for("each of the three hosts runs two projections", || hosts.iter().all(|host| running_on(host).len() == 2));
    let mut everywhere: Vec<String> = hosts.iter().flat_map(running_on).collect();
    everywhere.sort();
    assert_eq!(everywhere, HANDLERS, "each projection runs on exactly one host");

    for account in 0..30 {
        let server = &hosts[account % 3];
        command(server, account, "Open", json!({"owner": format!("owner {account}")}));
        command(server, account, "Deposit", json!({"amount": 100 + account}));
    }
    let victim = hosts.remove(0);
    let victim_name = host_name(&victim);
    let victims_work: Vec<String> = running_on(&victim);
    let mut victim = victim;
    assert_exit(&std::process::Command::new("kill").args(["-9", &victim.child.id().to_string()]).output().unwrap(), 0);
    victim.child.wait().unwrap();
    let killed = Instant::now();
    super::serve::wait_for("the other hosts took over the killed host's projections", || {
        let holders = holders(&cairn);
        holders.len() == HANDLERS.len() && holders.values().all(|(holder, _)| *holder != victim_name)
    });
    assert!(killed.elapsed() < Duration::from_secs(10), "the take-over took {:?}, beyond 10 s with 2 s leases", killed.elapsed());
    for handler in &victims_work {
        assert!(hosts.iter().any(|host| running_on(host).contains(handler)), "{handler} runs again");
    }
    for account in 0..30 {
        command(&hosts[account % 2], account, "Withdraw", json!({"amount": 1}));
    }
    cairn.wait_until("every projection caught up with the log", caught_up);
    super::serve::wait_for("each handler's projection runs on exactly one host, by the hosts' own metrics", || {
        HANDLERS.iter().all(|handler| hosts.iter().filter(|host| projection_running_metric(host, handler)).count() == 1)
    });
    assert_read_models_match_a_single_host(&cairn);
}

/// Whether `server`'s `/metrics` says it runs `handler`'s projection.
fn projection_running_metric(server: &Server, handler: &str) -> bool {
    let response = super::serve::agent().get(&server.url("/metrics")).call().unwrap().into_string().unwrap();
    let series = format!("cairn_projection_running{{handler=\"{handler}\"}} 1");
    response.lines().any(|line| line == series)
}

#[test]
fn a_host_stopped_past_its_lease_commits_nothing_after_it_resumes() {
    let cairn = Cairn::with_postgres();
    cairn.add_plugin("bank-account");
    for handler in HANDLERS {
        cairn.add_plugin(handler);
    }
    let hosts = start_hosts(&cairn, 2);
    super::serve::wait_for("each host runs three projections", || hosts.iter().all(|host| running_on(host).len() == 3));
    for account in 0..20 {
        command(&hosts[account % 2], account, "Open", json!({"owner": "Ann"}));
    }
    let (stalled, other) = (&hosts[0], &hosts[1]);
    let stalled_name = host_name(stalled);
    let before = holders(&cairn);
    let pid = stalled.child.id().to_string();
    assert_exit(&std::process::Command::new("kill").args(["-STOP", &pid]).output().unwrap(), 0);
    super::serve::wait_for("the running host took over the stopped host's leases", || {
        let after = holders(&cairn);
        after.len() == HANDLERS.len() && after.values().all(|(holder, _)| *holder != stalled_name)
    });
    for (handler, (holder, token)) in holders(&cairn) {
        if before[&handler].0 == stalled_name {
            assert!(token > before[&handler].1, "{handler}'s take-over raised its token from {} to {token} ({holder})", before[&handler].1);
        }
    }
    for account in 0..20 {
        command(other, account, "Deposit", json!({"amount": 10}));
    }
    assert_exit(&std::process::Command::new("kill").args(["-CONT", &pid]).output().unwrap(), 0);
    // Its old projections stop (a commit under their old tokens is fenced
    // off); it may take some back under new tokens as the work rebalances.
    super::serve::wait_for("the resumed host runs only projections whose leases it holds now", || {
        let held = holders(&cairn);
        running_on(stalled).iter().all(|handler| held.get(handler).is_some_and(|(holder, token)| *holder == stalled_name && *token > before[handler].1))
    });
    for account in 0..20 {
        command(stalled, account, "Deposit", json!({"amount": 1}));
    }
    cairn.wait_until("every projection caught up with the log", caught_up);
    assert_read_models_match_a_single_host(&cairn);
}

/// `cairn bench cluster` runs end to end, small, and cleans up after itself.
#[cfg(cairn_nats)]
#[test]
fn bench_cluster_measures_every_row_beside_its_baseline() {
    let base = crate::support::postgres_base_url();
    let nats = std::env::var("CAIRN_TEST_NATS_URL").unwrap();
    let (report, scratch) = super::plugins::run_bench(&["cluster", "--postgres", &base, "--nats", &nats, "--seconds", "0.3", "--clients", "2", "--backlog", "500"]);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 11, "{report}");
    let baselines = rows.iter().filter(|row| row["versus_baseline"] == "baseline").count();
    assert_eq!(baselines, 5, "each group of rows has its baseline: {report}");
    assert!(rows[4]["measure"].as_str().unwrap().starts_with("a plugin uploaded to one host until active on another"), "{report}");
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its scratch directory");
}
