//! `cairn replay`, `cairn project`, `cairn dead-letter` and `cairn
//! read-model` as a user runs them, on SQLite and PostgreSQL.

use std::process::Stdio;

use serde_json::Value;

use super::{assert_exit, json_lines, stderr, Cairn};

crate::on_both_backends!(
    a_replay_killed_mid_run_resumes_without_doubling_or_losing_effects,
    project_follows_new_events_and_a_rebuild_switches_under_it,
    filtered_and_named_checkpoint_replays_never_touch_the_live_read_model,
);

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn document(cairn: &Cairn, handler: &str, collection: &str, key: &str) -> Option<Value> {
    let output = cairn.run(&["read-model", "get", handler, collection, key]);
    output.status.success().then(|| json_lines(&output).remove(0))
}

fn checkpoint_position(cairn: &Cairn, name: &str) -> u64 {
    let listed = json_lines(&cairn.run(&["checkpoint", "list", "--json"]));
    listed.iter().find(|checkpoint| checkpoint["name"] == name).map_or(0, |checkpoint| checkpoint["position"].as_u64().unwrap())
}

/// 20 accounts opened, then `deposits` deposits of 1 spread over them.
fn bank_history(cairn: &Cairn, deposits: usize) {
    let mut lines = String::new();
    for account in 0..20 {
        lines.push_str(&format!(r#"{{"aggregate_type":"bank-account","aggregate_id":"acc-{account}","event_type":"AccountOpened","payload":{{"owner":"o{account}"}}}}"#));
        lines.push('\n');
    }
    for deposit in 0..deposits {
        lines.push_str(&format!(r#"{{"aggregate_type":"bank-account","aggregate_id":"acc-{}","event_type":"MoneyDeposited","payload":{{"amount":1}}}}"#, deposit % 20));
        lines.push('\n');
    }
    let path = cairn.directory().join("history.jsonl");
    std::fs::write(&path, lines).unwrap();
    assert_exit(&cairn.run(&["append", "--file", &path.to_string_lossy()]), 0);
}

fn total_balance(cairn: &Cairn) -> (i64, i64) {
    let listed = json_lines(&cairn.run(&["read-model", "list", "account-summary", "accounts", "--limit", "100"]));
    listed.iter().fold((0, 0), |(balance, transactions), document| {
        (balance + document["value"]["balance"].as_i64().unwrap(), transactions + document["value"]["transactions"].as_i64().unwrap())
    })
}

#[test]
fn replay_runs_a_projection_records_the_job_and_read_models_are_served() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("bank-account");
    cairn.add_plugin("account-summary");
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Open", r#"{"owner":"Ann"}"#]), 0);
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":30}"#]), 0);
    let replayed = cairn.run(&["replay", "--handler", "account-summary", "--json"]);
    assert_exit(&replayed, 0);
    let job = &json_lines(&replayed)[0];
    let result = &job["results"][0];
    assert_eq!((result["processed"].as_u64(), result["position"].as_u64()), (Some(2), Some(2)));
    let document = document(&cairn, "account-summary", "accounts", "acc-1").unwrap();
    assert_eq!((document["balance"].as_i64(), document["status"].as_str()), (Some(30), Some("open")));
    assert_eq!(json_lines(&cairn.run(&["read-model", "list", "account-summary", "accounts", "--prefix", "acc-"])).len(), 1);

    // Any process lists and shows recorded jobs.
    let jobs = json_lines(&cairn.run(&["replay", "list", "--json"]));
    assert_eq!((jobs.len(), jobs[0]["id"].clone(), jobs[0]["status"].as_str()), (1, job["id"].clone(), Some("completed")));
    let shown = cairn.run(&["replay", "show", job["id"].as_str().unwrap()]);
    assert_exit(&shown, 0);
    assert!(stdout(&shown).contains("completed (account-summary)") && stdout(&shown).contains("│ processed"), "{}", stdout(&shown));
    assert_exit(&cairn.run(&["replay", "show", "00000000-0000-0000-0000-000000000000"]), 6);

    let table = cairn.run(&["replay", "--handler", "account-summary"]);
    assert_exit(&table, 0);
    assert!(stdout(&table).contains("nothing to replay"), "a second run resumes at the end");
    let unknown = cairn.run(&["replay", "--handler", "nobody"]);
    assert_exit(&unknown, 6);
    assert!(stderr(&unknown).contains("no handler plugin named nobody; registered handlers: account-summary"));
    assert_exit(&cairn.run(&["read-model", "get", "account-summary", "accounts", "missing"]), 6);
}

#[test]
fn bad_replay_flags_are_all_reported_at_once() {
    let cairn = Cairn::with_sqlite();
    let output = cairn.run(&["replay", "--batch-size", "0", "--workers", "0", "--from-position", "9", "--to-position", "3"]);
    assert_exit(&output, 2);
    let message = stderr(&output);
    for problem in ["name at least one handler with --handler NAME", "--batch-size must be at least 1", "--workers must be at least 1", "--from-position 9 is after --to-position 3"] {
        assert!(message.contains(problem), "{problem} missing from: {message}");
    }
    cairn.add_plugin("account-summary");
    let nothing = cairn.run(&["replay", "--handler", "account-summary", "--type", "NoSuchType"]);
    assert_exit(&nothing, 0);
    assert!(stdout(&nothing).contains("no events match the filters"), "{}", stdout(&nothing));
}

fn a_replay_killed_mid_run_resumes_without_doubling_or_losing_effects(cairn: Cairn) {
    cairn.add_plugin("account-summary");
    bank_history(&cairn, 1000);
    let mut running = cairn
        .command()
        .args(["replay", "--handler", "account-summary", "--batch-size", "20", "--delay-between-batches", "25", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    cairn.wait_until("the replay has committed a few pages", |cairn| checkpoint_position(cairn, "handler:account-summary") >= 100);
    running.kill().unwrap();
    running.wait().unwrap();
    let stopped_at = checkpoint_position(&cairn, "handler:account-summary");
    assert!(stopped_at < 1020, "killed before the end (at {stopped_at}), or the test proves nothing");
    let jobs = json_lines(&cairn.run(&["replay", "list", "--json"]));
    assert_eq!(jobs[0]["status"], "running", "a killed job stays as it was last recorded");

    let resumed = cairn.run(&["replay", "--handler", "account-summary", "--json"]);
    assert_exit(&resumed, 0);
    let result = &json_lines(&resumed)[0]["results"][0];
    assert_eq!(result["total_events"].as_u64().unwrap(), 1020 - stopped_at, "the second run starts where the first committed");
    assert_eq!(total_balance(&cairn), (1000, 1000), "every deposit counted exactly once");
    let checkpoints = json_lines(&cairn.run(&["checkpoint", "list", "--json"]));
    assert_eq!((checkpoints[0]["position"].as_u64(), checkpoints[0]["events"].as_u64()), (Some(1020), Some(1020)));
}

fn project_follows_new_events_and_a_rebuild_switches_under_it(cairn: Cairn) {
    cairn.add_plugin("account-summary");
    bank_history(&cairn, 100);
    let mut projector = cairn.command().args(["project", "--handler", "account-summary"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    cairn.wait_until("the projection caught up", |cairn| total_balance(cairn) == (100, 100));
    assert_exit(&cairn.run(&["append", "bank-account", "acc-3", "MoneyDeposited", r#"{"amount":50}"#]), 0);
    cairn.wait_until("the projection followed a new event", |cairn| {
        document(cairn, "account-summary", "accounts", "acc-3").is_some_and(|account| account["balance"] == 55)
    });

    let rebuilt = cairn.run(&["project", "rebuild", "account-summary", "--json"]);
    assert_exit(&rebuilt, 0);
    let result = &json_lines(&rebuilt)[0];
    assert_eq!((result["generation"].as_u64(), result["processed"].as_u64()), (Some(1), Some(121)));
    assert_eq!(total_balance(&cairn), (150, 101), "the new generation is live and complete");
    // The running projector follows the switch and writes the new generation.
    assert_exit(&cairn.run(&["append", "bank-account", "acc-3", "MoneyWithdrawn", r#"{"amount":5}"#]), 0);
    cairn.wait_until("the projection went on in the new generation", |cairn| total_balance(cairn) == (145, 102));
    projector.kill().unwrap();
    let output = projector.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("error"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn dead_letters_are_listed_retried_and_skipped() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("picky-handler");
    for (id, payload) in [("a", "{}"), ("a", r#"{"poison":true}"#), ("a", "{}"), ("b", "{}")] {
        assert_exit(&cairn.run(&["append", "thing", id, "Changed", payload]), 0);
    }
    let stopped = cairn.run(&["replay", "--handler", "picky", "--stop-on-error", "--max-retries", "1", "--retry-delay", "1"]);
    assert_exit(&stopped, 1);
    assert!(stderr(&stopped).contains("picky stopped at a failing event (--stop-on-error)"), "{}", stderr(&stopped));
    assert!(stdout(&stopped).contains("event 2 is poisoned"), "{}", stdout(&stopped));
    assert_eq!(checkpoint_position(&cairn, "handler:picky"), 1);

    let replayed = cairn.run(&["replay", "--handler", "picky", "--max-retries", "1", "--retry-delay", "1", "--json"]);
    assert_exit(&replayed, 0);
    let result = &json_lines(&replayed)[0]["results"][0];
    assert_eq!((result["processed"].as_u64(), result["failed"].as_u64(), result["parked"].as_u64()), (Some(1), Some(1), Some(1)));
    let letters = json_lines(&cairn.run(&["dead-letter", "list", "--parked", "--json"]));
    assert_eq!(letters.iter().map(|letter| letter["status"].as_str().unwrap()).collect::<Vec<_>>(), ["failed", "parked"]);
    let table = stdout(&cairn.run(&["dead-letter", "list", "--handler", "picky"]));
    assert!(table.contains("thing/a") && table.contains("event 2 is poisoned"), "{table}");

    let first = letters[0]["id"].to_string();
    let retried = cairn.run(&["dead-letter", "retry", &first]);
    assert_exit(&retried, 2);
    assert!(stdout(&retried).contains("failed again: ") && stderr(&retried).contains("still fail"), "{}", stdout(&retried));
    // The second letter is parked behind the first: a conflict, exit 3.
    let parked = cairn.run(&["dead-letter", "skip", &letters[1]["id"].to_string()]);
    assert_exit(&parked, 3);
    assert!(stderr(&parked).contains("is parked behind dead letter"), "{}", stderr(&parked));
    let skipped = cairn.run(&["dead-letter", "skip", &first]);
    assert_exit(&skipped, 0);
    assert!(stdout(&skipped).contains("picky thing/a: 1 handled, 1 skipped"), "{}", stdout(&skipped));
    assert!(stdout(&cairn.run(&["dead-letter", "list"])).contains("no dead letters"));
    assert_eq!(document(&cairn, "picky", "seen", "thing:a"), Some(serde_json::json!([1, 3])));
    assert_exit(&cairn.run(&["dead-letter", "retry", "--all"]), 0);
    assert_exit(&cairn.run(&["dead-letter", "skip", "999"]), 6);
}

#[test]
fn bench_replay_compares_handlers_with_the_raw_read() {
    let (report, scratch) = super::plugins::run_bench(&["replay", "--events", "3000", "--streams", "30", "--batch-size", "500"]);
    let rows = report["rows"].as_array().unwrap();
    let measures: Vec<&str> = rows.iter().map(|row| row["measure"].as_str().unwrap()).collect();
    assert_eq!(
        measures,
        [
            "raw read-all of 3000 events (30 streams)",
            "wasm handler (event-counter), in-memory count",
            "native Rust handler, same logic",
            "wasm projection (stream-index), one document per stream",
            "wasm projection, 2 workers",
            "resident memory during the wasm handler's replay",
        ]
    );
    assert!(rows[1]["versus_baseline"].as_str().unwrap().ends_with("× native"), "{}", rows[1]);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its throwaway store");
}

#[test]
fn the_example_handlers_build_their_read_models() {
    let cairn = Cairn::with_sqlite();
    for plugin in ["audit-log", "migration-stats", "opportunity-summary", "opportunity-migrator"] {
        cairn.add_plugin(plugin);
    }
    assert_exit(&cairn.run(&["append", "--file", &super::fixture("example-handlers.jsonl").to_string_lossy()]), 0);
    let replayed = cairn.run(&["replay", "--handler", "audit-log", "--handler", "migration-stats", "--handler", "opportunity-summary", "--json"]);
    assert_exit(&replayed, 0);
    let processed: Vec<u64> = json_lines(&replayed)[0]["results"].as_array().unwrap().iter().map(|result| result["processed"].as_u64().unwrap()).collect();
    assert_eq!(processed, [12, 8, 4]);

    let stats = document(&cairn, "migration-stats", "migrations", "migration-123").unwrap();
    let expected = serde_json::json!({
        "status": "completed", "started_at": "2023-01-01T10:00:00.000000Z", "finished_at": "2023-01-01T10:06:00.000000Z", "error": null,
        "user_count": 2, "admin_count": 1, "extracted_count": 1005, "transformed_count": 1005, "validated_count": 0,
        "imported_count": 1005, "rollback": null,
    });
    assert_eq!(stats, expected);
    let user = document(&cairn, "migration-stats", "users", "user-1").unwrap();
    assert_eq!((user["username"].as_str(), user["migration_id"].as_str()), (Some("john"), Some("migration-123")));

    let changes = json_lines(&cairn.run(&["read-model", "list", "audit-log", "changes", "--prefix", "ops-2:"]));
    let types: Vec<&str> = changes.iter().map(|change| change["value"]["event_type"].as_str().unwrap()).collect();
    assert_eq!(types, ["DataTransformed", "DataImported", "MIGRATION_COMPLETED"], "a user's changes, in order");
    assert_eq!(document(&cairn, "audit-log", "users", "unknown").unwrap()["changes"], 1);
    assert_eq!(document(&cairn, "audit-log", "users", "pm-1").unwrap()["by_aggregate_type"], serde_json::json!({"opportunity": 2}));

    // The opportunity migrator is active, so the handler saw 2.0 payloads
    // (market_size_estimate) and still read the market size.
    let chatbot = document(&cairn, "opportunity-summary", "opportunities", "opp-1").unwrap();
    assert_eq!((chatbot["status"].as_str(), chatbot["market_size"].as_u64(), chatbot["validators"].clone()), (Some("validated"), Some(1_000_000), serde_json::json!(["board"])));
    let totals = document(&cairn, "opportunity-summary", "totals", "by-status").unwrap();
    assert_eq!(
        totals,
        serde_json::json!({
            "open": {"opportunities": 0, "market_size": 0},
            "validated": {"opportunities": 1, "market_size": 1_000_000},
            "archived": {"opportunities": 1, "market_size": 250_000},
        })
    );
}

fn filtered_and_named_checkpoint_replays_never_touch_the_live_read_model(cairn: Cairn) {
    cairn.add_plugin("account-summary");
    bank_history(&cairn, 100);
    assert_exit(&cairn.run(&["replay", "--handler", "account-summary"]), 0);
    assert_eq!(total_balance(&cairn), (100, 100), "the live projection");

    // Filtered by content: history again, into a generation of its own.
    let filtered = cairn.run(&["replay", "--handler", "account-summary", "--aggregate-type", "bank-account", "--aggregate-id", "acc-3", "--json"]);
    assert_exit(&filtered, 0);
    let result = &json_lines(&filtered)[0]["results"][0];
    let generation = result["generation"].as_u64().unwrap();
    assert_ne!(generation, 0, "{result}");
    assert!(result["notes"].to_string().contains(&format!("--generation {generation}")), "{result}");
    assert_eq!(total_balance(&cairn), (100, 100), "the live read model did not get the effects twice");
    let replayed = json_lines(&cairn.run(&["read-model", "get", "account-summary", "accounts", "acc-3", "--generation", &generation.to_string()]));
    assert_eq!(replayed[0]["balance"], 5, "acc-3's five deposits, once");

    // A named checkpoint: resumable, in one generation of its own across runs.
    let named = |cairn: &Cairn| {
        let output = cairn.run(&["replay", "--handler", "account-summary", "--checkpoint", "audit-run", "--json"]);
        assert_exit(&output, 0);
        json_lines(&output)[0]["results"][0].clone()
    };
    let first = named(&cairn);
    assert_eq!(first["processed"], 120);
    bank_history(&cairn, 0);
    let second = named(&cairn);
    assert_eq!((second["generation"].clone(), second["processed"].as_u64()), (first["generation"].clone(), Some(20)), "{second}");
    assert_ne!(first["generation"].as_u64(), Some(generation), "a generation per checkpoint");
    assert_eq!(total_balance(&cairn), (100, 100), "still untouched");
    // A rebuild keeps replay generations.
    assert_exit(&cairn.run(&["project", "rebuild", "account-summary"]), 0);
    let kept = json_lines(&cairn.run(&["read-model", "get", "account-summary", "accounts", "acc-3", "--generation", &generation.to_string()]));
    assert_eq!(kept[0]["balance"], 5);
}
