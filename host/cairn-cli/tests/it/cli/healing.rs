//! Projections and the registry heal: a migrator that fails on one event
//! costs only the handlers that want it, and its removal heals them without
//! a restart; a store outage is waited out; registry changes cannot race
//! past the registry's rules.

use std::process::{Command, Stdio};

use serde_json::Value;

use super::serve::{get, Server};
use super::{assert_exit, json_lines, stderr, Cairn};

crate::on_both_backends!(
    a_failing_migrator_costs_only_the_handlers_that_want_its_event_and_removing_it_heals_them,
    concurrent_uploads_of_one_aggregate_type_under_different_names_let_exactly_one_win,
    a_removal_that_would_reactivate_a_conflicting_version_is_refused_whole,
);

fn dead_letters(cairn: &Cairn) -> Vec<Value> {
    json_lines(&cairn.run(&["dead-letter", "list", "--parked", "--json"]))
}

fn document(cairn: &Cairn, handler: &str, collection: &str, key: &str) -> Option<Value> {
    let output = cairn.run(&["read-model", "get", handler, collection, key]);
    output.status.success().then(|| json_lines(&output).remove(0))
}

fn a_failing_migrator_costs_only_the_handlers_that_want_its_event_and_removing_it_heals_them(cairn: Cairn) {
    for plugin in ["bank-account", "account-summary", "picky-handler", "test-migrator"] {
        cairn.add_plugin(plugin);
    }
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Open", r#"{"owner":"Ann"}"#]), 0);
    assert_exit(&cairn.run(&["append", "fragile", "f-1", "Fragile", r#"{"do":"trap"}"#]), 0);
    assert_exit(&cairn.run(&["append", "fragile", "f-2", "Fragile", r#"{"do":"nothing"}"#]), 0);
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":5}"#]), 0);
    let server = Server::start(&cairn, &[]);
    cairn.wait_until("account-summary, which wants no Fragile event, projected everything", |cairn| {
        document(cairn, "account-summary", "accounts", "acc-1").is_some_and(|account| account["balance"] == 5)
    });
    cairn.wait_until("picky dead-lettered only the event its migrator cannot upcast", |cairn| {
        document(cairn, "picky", "seen", "bank-account:acc-1").is_some_and(|seen| seen == serde_json::json!([1, 2]))
            && document(cairn, "picky", "seen", "fragile:f-2").is_some()
            && dead_letters(cairn).len() == 1
    });
    let letter = &dead_letters(&cairn)[0];
    assert!(letter["error"].as_str().unwrap().starts_with("cannot upcast event"), "{letter}");
    let (status, health) = get(&server, "/health/ready");
    assert_eq!(status, 200, "no projection failed: {health}");

    assert_exit(&cairn.run(&["plugin", "remove", "test-migrator"]), 0);
    cairn.wait_until("the projection retried the event once its migrator was gone", |cairn| {
        dead_letters(cairn).is_empty() && document(cairn, "picky", "seen", "fragile:f-1").is_some()
    });
    assert_eq!(get(&server, "/health").0, 200);
}

fn concurrent_uploads_of_one_aggregate_type_under_different_names_let_exactly_one_win(cairn: Cairn) {
    let path = crate::support::plugin_path("bank-account").to_string_lossy().into_owned();
    let uploads: Vec<_> = (0..4)
        .map(|index| cairn.command().args(["plugin", "add", &path, "--name", &format!("bank-{index}")]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let outputs: Vec<_> = uploads.into_iter().map(|upload| upload.wait_with_output().unwrap()).collect();
    let won = outputs.iter().filter(|output| output.status.success()).count();
    assert_eq!(won, 1, "{:?}", outputs.iter().map(stderr).collect::<Vec<_>>());
    for lost in outputs.iter().filter(|output| !output.status.success()) {
        assert_exit(lost, 2);
        assert!(stderr(lost).contains("aggregate type bank-account is already served by plugin bank-"), "{}", stderr(lost));
    }
    assert_eq!(json_lines(&cairn.run(&["plugin", "list", "--json"])).len(), 1);
}

fn a_removal_that_would_reactivate_a_conflicting_version_is_refused_whole(cairn: Cairn) {
    let path = |name: &str| crate::support::plugin_path(name).to_string_lossy().into_owned();
    assert_exit(&cairn.run(&["plugin", "add", &path("opportunity-migrator"), "--name", "steps"]), 0);
    assert_exit(&cairn.run(&["plugin", "add", &path("user-migrator"), "--name", "steps"]), 0);
    assert_exit(&cairn.run(&["plugin", "add", &path("opportunity-migrator"), "--name", "other"]), 0);
    let refused = cairn.run(&["plugin", "remove", "steps", "--version", "2"]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("would make an older version of steps active again") && stderr(&refused).contains("both migrate OpportunityCreated"), "{}", stderr(&refused));
    let listed = json_lines(&cairn.run(&["plugin", "list", "--json"]));
    let active: Vec<(String, u64)> =
        listed.iter().filter(|plugin| plugin["active"] == true).map(|plugin| (plugin["name"].as_str().unwrap().to_owned(), plugin["version"].as_u64().unwrap())).collect();
    assert_eq!(active, [("other".to_owned(), 1), ("steps".to_owned(), 2)], "nothing changed");
    assert_exit(&cairn.run(&["plugin", "remove", "steps"]), 0);
}

/// Connections to PostgreSQL dropped under a running server (a restart, a
/// failover): its projections wait the outage out and go on.
#[cfg(cairn_postgres)]
#[test]
fn projections_wait_out_a_store_outage_and_go_on() {
    let cairn = Cairn::with_postgres();
    cairn.add_plugin("account-summary");
    assert_exit(&cairn.run(&["append", "bank-account", "acc-1", "AccountOpened", r#"{"owner":"Ann"}"#]), 0);
    let name = format!("cairn-outage-{}", uuid::Uuid::now_v7().simple());
    let store = format!("{}&application_name={name}", cairn.store);
    let mut serving = cairn.command();
    serving.env("CAIRN_STORE", &store);
    let server = Server::start_with(serving, &[]);
    cairn.wait_until("the projection caught up", |cairn| document(cairn, "account-summary", "accounts", "acc-1").is_some());
    let base = crate::support::postgres_base_url();
    let drop_connections = format!("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{name}'");
    let dropped = Command::new("psql").args([base.as_str(), "-Atc", &drop_connections]).output().unwrap();
    assert!(String::from_utf8_lossy(&dropped.stdout).trim().parse::<u64>().unwrap() > 0, "the server's connections were dropped");
    assert_exit(&cairn.run(&["append", "bank-account", "acc-1", "MoneyDeposited", r#"{"amount":7}"#]), 0);
    cairn.wait_until("the projection went on after the outage", |cairn| {
        document(cairn, "account-summary", "accounts", "acc-1").is_some_and(|account| account["balance"] == 7)
    });
    assert_eq!(get(&server, "/health/ready").0, 200);
}
