//! Plugins through the CLI: the registry, commands and state, and a running
//! process that picks up a new plugin version.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{assert_exit, json_lines, stderr, Cairn};
use crate::support::{plugin_bytes, plugin_path, with_custom_section};

fn path_text(name: &str) -> String {
    plugin_path(name).to_string_lossy().into_owned()
}

/// Writes a copy of a plugin that differs only in a custom section: the same
/// behaviour, a new content hash, hence a new version in the registry.
fn second_build(cairn: &Cairn, name: &str) -> String {
    let path = cairn.directory().join(format!("{name}-second-build.wasm"));
    std::fs::write(&path, with_custom_section(&plugin_bytes(name), "second build")).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn plugins_are_added_listed_versioned_and_removed() {
    let cairn = Cairn::with_sqlite();
    let added = cairn.run(&["plugin", "add", &path_text("bank-account")]);
    assert_exit(&added, 0);
    assert!(String::from_utf8_lossy(&added.stdout).starts_with("added bank-account version 1 (aggregate, contract cairn:plugin@0.2.0, sha256 "));
    let again = cairn.run(&["plugin", "add", &path_text("bank-account")]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already has these exact bytes"));

    let refused = cairn.run(&["plugin", "add", &path_text("test-no-world")]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("exports none of Cairn's worlds"), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("wasi:cli/run"), "the error says what the file does export");
    let forbidden = cairn.run(&["plugin", "add", &path_text("test-file-reader")]);
    assert_exit(&forbidden, 2);
    assert!(stderr(&forbidden).contains("imports what the sandbox does not grant: wasi:filesystem/"), "{}", stderr(&forbidden));

    assert_exit(&cairn.run(&["plugin", "add", &second_build(&cairn, "bank-account")]), 0);
    let listed = json_lines(&cairn.run(&["plugin", "list", "--json"]));
    let versions: Vec<(u64, bool)> = listed.iter().map(|record| (record["version"].as_u64().unwrap(), record["active"].as_bool().unwrap())).collect();
    assert_eq!(versions, [(1, false), (2, true)], "old versions stay listed; the new one is active");
    let table = String::from_utf8_lossy(&cairn.run(&["plugin", "list"]).stdout).into_owned();
    assert!(table.contains("aggregate type bank-account"), "{table}");
    assert!(table.contains("contract") && table.contains("0.2.0"), "the table shows each version's contract: {table}");

    assert_exit(&cairn.run(&["plugin", "remove", "bank-account", "--version", "2"]), 0);
    let listed = json_lines(&cairn.run(&["plugin", "list", "--json"]));
    assert_eq!((listed.len(), listed[0]["active"].as_bool()), (1, Some(true)));
    let missing = cairn.run(&["plugin", "remove", "no-such-plugin"]);
    assert_exit(&missing, 6);
    assert!(stderr(&missing).contains("no plugin named no-such-plugin; registered: bank-account"), "{}", stderr(&missing));
    assert_exit(&cairn.run(&["plugin", "remove", "bank-account"]), 0);
    assert!(json_lines(&cairn.run(&["plugin", "list", "--json"])).is_empty());
}

#[test]
fn exec_runs_commands_and_state_prints_the_fold() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["plugin", "add", &path_text("bank-account")]), 0);
    let opened = cairn.run(&[
        "exec", "bank-account", "acc-1", "Open", r#"{"owner":"Ann"}"#, "--metadata", r#"{"correlation_id":"c-9"}"#, "--command-id", "cmd-1",
    ]);
    assert_exit(&opened, 0);
    let outcome = &json_lines(&opened)[0];
    assert_eq!(outcome["stream_version"], 1);
    assert_eq!(outcome["events"][0]["causation_id"], "cmd-1");
    assert_eq!(outcome["events"][0]["correlation_id"], "c-9");
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":70}"#]), 0);

    let rejected = cairn.run(&["exec", "bank-account", "acc-1", "Withdraw", r#"{"amount":100}"#]);
    assert_exit(&rejected, 4);
    assert_eq!(stderr(&rejected).trim(), "error: bank-account rejected the command: insufficient funds: the balance is 70, the withdrawal 100");

    for (args, expected, code) in [
        (vec!["exec", "no-such-type", "x", "Open", "{}"], "no aggregate plugin serves aggregate type no-such-type; registered aggregate types: bank-account", 6),
        (vec!["exec", "bank-account", "acc-1", "Deposit", "{amount:1}"], "the payload is not JSON", 2),
        (vec!["exec", "bank-account", "acc-1", "Explode", "{}"], "unknown variant `Explode`", 2),
    ] {
        let output = cairn.run(&args);
        assert_exit(&output, code);
        assert!(stderr(&output).contains(expected), "expected `{expected}` in: {}", stderr(&output));
    }

    let state = cairn.run(&["state", "bank-account", "acc-1"]);
    assert_exit(&state, 0);
    assert_eq!(json_lines(&state)[0], serde_json::json!({"status":"open","owner":"Ann","balance":70,"transactions":1}));
    let with_version = &json_lines(&cairn.run(&["state", "bank-account", "acc-1", "--with-version"]))[0];
    assert_eq!((with_version["stream_version"].as_u64(), with_version["plugin_version"].as_u64()), (Some(2), Some(1)));
    assert_eq!(json_lines(&cairn.run(&["log"])).len(), 2, "failed and rejected commands wrote nothing");
}

/// A `cairn exec --commands -` process: send a line, read its result.
struct CommandStream {
    child: Child,
    input: ChildStdin,
    results: Receiver<String>,
}

impl CommandStream {
    fn start(cairn: &Cairn) -> Self {
        let mut child = cairn
            .command()
            .args(["exec", "--commands", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Read at the end; at CAIRN_LOG=error only the final error lands here.
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, results) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, input, results }
    }

    fn send(&mut self, command: Value) -> Value {
        writeln!(self.input, "{command}").unwrap();
        self.input.flush().unwrap();
        let line = self.results.recv_timeout(Duration::from_secs(60)).expect("the process answers every command");
        serde_json::from_str(&line).unwrap()
    }

    fn finish(self) -> std::process::Output {
        drop(self.input);
        self.child.wait_with_output().unwrap()
    }
}

fn bank_command(aggregate_id: &str, command_type: &str, payload: Value) -> Value {
    serde_json::json!({"aggregate_type": "bank-account", "aggregate_id": aggregate_id, "command_type": command_type, "payload": payload})
}

#[test]
/// How soon the swap happens is a benchmark row (`cairn bench plugins`,
/// "new version reaches a running process"); this test asserts that it
/// happens and that no command is lost or doubled across it.
fn a_running_process_swaps_in_a_new_plugin_version() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["plugin", "add", &path_text("bank-account")]), 0);
    let mut stream = CommandStream::start(&cairn);
    let opened = stream.send(bank_command("acc-1", "Open", serde_json::json!({"owner": "Ann"})));
    assert_eq!(opened["outcome"]["plugin_version"], 1, "{opened}");

    let second = second_build(&cairn, "bank-account");
    assert_exit(&cairn.run(&["plugin", "add", &second]), 0);
    let added_at = Instant::now();
    let mut deposits = 0;
    loop {
        deposits += 1;
        let result = stream.send(bank_command("acc-1", "Deposit", serde_json::json!({"amount": 1})));
        assert_eq!(result["ok"], true, "{result}");
        if result["outcome"]["plugin_version"] == 2 {
            break;
        }
        assert!(added_at.elapsed() < Duration::from_secs(60), "the process never used version 2");
    }
    // The state carried over: every deposit, on either version, counted.
    let state = &json_lines(&cairn.run(&["state", "bank-account", "acc-1"]))[0];
    assert_eq!(state["balance"], deposits);
    assert!(stream.finish().status.success());
}

#[test]
fn a_misbehaving_plugin_fails_its_own_command_and_the_process_goes_on() {
    let cairn = Cairn::with_sqlite();
    for plugin in ["bank-account", "test-trap", "test-endless-loop", "test-memory-hog", "test-bad-json"] {
        assert_exit(&cairn.run(&["plugin", "add", &path_text(plugin)]), 0);
    }
    let mut stream = CommandStream::start(&cairn);
    let expectations = [
        ("test-trap", "Misbehave", "this plugin traps on purpose"),
        ("test-endless-loop", "Misbehave", "CPU time limit"),
        ("test-memory-hog", "Misbehave", "memory limit of 64 MiB"),
        ("test-bad-json", "BadPayload", "returned malformed data: event 1: the payload is not JSON"),
    ];
    for (index, (aggregate_type, command_type, expected)) in expectations.into_iter().enumerate() {
        let failed = stream.send(serde_json::json!({"aggregate_type": aggregate_type, "aggregate_id": "x", "command_type": command_type}));
        assert_eq!(failed["ok"], false, "{failed}");
        let message = failed["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("plugin {aggregate_type}: decide failed: ")), "{message}");
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
        // After each failure, a healthy plugin serves the next command.
        let served = stream.send(bank_command(&format!("acc-{index}"), "Open", serde_json::json!({"owner": "Ann"})));
        assert_eq!(served["ok"], true, "{served}");
    }
    let output = stream.finish();
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("4 of 8 commands failed"), "{}", stderr(&output));
    assert_eq!(json_lines(&cairn.run(&["log"])).len(), 4, "only the healthy commands wrote events");
}

fn concurrent_processes_keep_one_stream_gapless(cairn: Cairn) {
    assert_exit(&cairn.run(&["plugin", "add", &path_text("bank-account")]), 0);
    assert_exit(&cairn.run(&["exec", "bank-account", "shared", "Open", r#"{"owner":"Ann"}"#]), 0);
    let deposits: String = (1..=20).map(|amount| format!("{}\n", bank_command("shared", "Deposit", serde_json::json!({"amount": amount})))).collect();
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut child = cairn
                .command()
                .args(["exec", "--commands", "-", "--max-retries", "3"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(deposits.as_bytes()).unwrap();
            child
        })
        .collect();
    let mut deposited = 0;
    let mut succeeded = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        for (result, amount) in json_lines(&output).iter().zip(1..) {
            if result["ok"] == true {
                deposited += amount;
                succeeded += 1;
            } else {
                assert_eq!(result["error"], "conflict", "the only acceptable failure is a conflict after retries: {result}");
            }
        }
    }
    let events = json_lines(&cairn.run(&["read", "bank-account", "shared"]));
    let versions: Vec<u64> = events.iter().map(|event| event["stream_version"].as_u64().unwrap()).collect();
    assert_eq!(versions, (1..=1 + succeeded).collect::<Vec<u64>>(), "no gap and no duplicate");
    let state = &json_lines(&cairn.run(&["state", "bank-account", "shared"]))[0];
    assert_eq!(state["balance"], deposited);
}

#[test]
fn concurrent_exec_processes_keep_one_sqlite_stream_gapless() {
    concurrent_processes_keep_one_stream_gapless(Cairn::with_sqlite());
}

#[cfg(cairn_postgres)]
#[test]
fn concurrent_exec_processes_keep_one_postgres_stream_gapless() {
    let cairn = Cairn::with_postgres();
    concurrent_processes_keep_one_stream_gapless(cairn);
}

/// Runs `cairn bench ARGS --json` with a temporary directory of its own,
/// and returns the report and that directory, which should end up empty.
pub fn run_bench(args: &[&str]) -> (Value, tempfile::TempDir) {
    let cairn = Cairn::with_sqlite();
    let scratch = tempfile::tempdir().unwrap();
    let plugin_directory = plugin_path("bank-account").parent().unwrap().to_string_lossy().into_owned();
    let output = cairn
        .command()
        .env("TMPDIR", scratch.path())
        .arg("bench")
        .args(args)
        .args(["--plugin-directory", &plugin_directory, "--json"])
        .output()
        .unwrap();
    assert_exit(&output, 0);
    (serde_json::from_slice(&output.stdout).unwrap(), scratch)
}

#[test]
fn bench_plugins_prints_every_measure_beside_its_baseline() {
    let (report, scratch) = run_bench(&["plugins", "--empty-calls", "50", "--apply-batches", "2", "--commands", "40"]);
    let rows = report["rows"].as_array().unwrap();
    let row = |prefix: &str| rows.iter().find(|row| row["measure"].as_str().unwrap().starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` row in {rows:?}"));
    assert!(row("bank-account apply in wasm")["versus_baseline"].as_str().unwrap().contains("× native"));
    assert!(row("cold start from the compile cache")["versus_baseline"].as_str().unwrap().ends_with("× faster"));
    assert!(row("exec on streams of 100+ events, state cached")["versus_baseline"].as_str().unwrap().contains("× the append p50"));
    row("empty plugin call");
    assert!(row("restart with user-migrator-py in the compile cache")["versus_baseline"].as_str().unwrap().ends_with("faster than compiling"));
    assert!(row("user migration, Python")["versus_baseline"].as_str().unwrap().contains("× the Rust call"));
    assert!(row("aggregate apply, JavaScript")["versus_baseline"].as_str().unwrap().ends_with("× Rust"));
    assert!(row("the same in its contract 0.1.0 build")["versus_baseline"].as_str().unwrap().contains("0.2.0 is"));
    assert!(row("handler calls, Python")["versus_baseline"].as_str().unwrap().ends_with("× Rust"));
    assert!(row("empty bank-account apply, contract 0.2.0 build")["versus_baseline"].as_str().unwrap().ends_with("× the 0.1.0 call"));
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its throwaway store and cache");
    assert_eq!(row("cairn exec, whole process, warm compile cache: Rust")["versus_baseline"], "baseline");
    assert!(row("cairn exec, whole process, warm compile cache: Python")["versus_baseline"].as_str().unwrap().ends_with("× the Rust process"));
}

#[test]
fn time_travel_audit_and_snapshot_commands_work_end_to_end() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["plugin", "add", &path_text("bank-account")]), 0);
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Open", r#"{"owner":"Ann"}"#, "--metadata", r#"{"user_id":"clerk-7","correlation_id":"signup-1"}"#]), 0);
    for amount in ["10", "20", "30"] {
        assert_exit(&cairn.run(&["--snapshot-every", "2", "exec", "bank-account", "acc-1", "Deposit", &format!(r#"{{"amount":{amount}}}"#)]), 0);
    }
    let listed = json_lines(&cairn.run(&["snapshot", "list", "bank-account", "acc-1", "--json"]));
    assert_eq!(listed.iter().map(|s| s["stream_version"].as_u64().unwrap()).collect::<Vec<_>>(), [4, 2], "written every 2 events by exec");

    let at_three = &json_lines(&cairn.run(&["state", "bank-account", "acc-1", "--at-version", "3", "--with-version"]))[0];
    assert_eq!((at_three["state"]["balance"].as_i64(), at_three["snapshot_version"].as_u64()), (Some(30), Some(2)));
    let beyond = cairn.run(&["state", "bank-account", "acc-1", "--at-version", "9"]);
    assert_exit(&beyond, 6);
    assert!(stderr(&beyond).contains("has 4 events, so version 9 is beyond its end"), "{}", stderr(&beyond));
    let long_ago = cairn.run(&["state", "bank-account", "acc-1", "--at", "2001-01-01T00:00:00Z"]);
    assert_exit(&long_ago, 0);
    assert!(stderr(&long_ago).contains("is before the stream's first event"), "{}", stderr(&long_ago));
    assert_eq!(json_lines(&long_ago)[0]["status"], "unopened");

    let audit = cairn.run(&["audit", "bank-account", "acc-1", "--user", "clerk-7"]);
    assert_exit(&audit, 0);
    let table = String::from_utf8_lossy(&audit.stdout);
    assert!(table.contains("clerk-7 via bank-account@1") && table.contains("AccountOpened v1.0") && table.contains("correlation signup-1"), "{table}");
    assert!(!table.contains("MoneyDeposited"), "the user filter leaves out the deposits");
    assert_eq!(json_lines(&cairn.run(&["audit", "bank-account", "acc-1", "--type", "MoneyDeposited", "--json"])).len(), 3);

    assert_exit(&cairn.run(&["snapshot", "delete", "bank-account"]), 0);
    let rebuilt = cairn.run(&["snapshot", "rebuild", "bank-account", "--quiet"]);
    assert_exit(&rebuilt, 0);
    assert_eq!(String::from_utf8_lossy(&rebuilt.stdout).trim(), "1 streams of bank-account: 1 snapshots written, 0 already current");
    let created = cairn.run(&["snapshot", "create", "bank-account", "acc-1", "--at-version", "1"]);
    assert_exit(&created, 0);
    assert_eq!(json_lines(&cairn.run(&["snapshot", "list", "bank-account", "acc-1", "--json"])).len(), 2);
}

#[test]
fn bench_snapshots_compares_loads_with_and_without_snapshots() {
    let (report, scratch) = run_bench(&["snapshots", "--stream-events", "450", "--loads", "3"]);
    let measures: Vec<&str> = report["rows"].as_array().unwrap().iter().map(|row| row["measure"].as_str().unwrap()).collect();
    assert_eq!(
        measures,
        [
            "load without snapshots, 450 events: p50 / p99",
            "load from a snapshot at version 400, 0 events to apply",
            "load at version 399: snapshot at 300 + 99 events",
        ]
    );
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its throwaway store");
}

#[test]
fn bench_shadow_names_exactly_the_capped_accounts_beside_the_engine() {
    let (report, scratch) = run_bench(&["shadow", "--accounts", "120"]);
    let rows = report["rows"].as_array().unwrap();
    let measures: Vec<&str> = rows.iter().map(|row| row["measure"].as_str().unwrap()).collect();
    assert_eq!(
        measures,
        [
            "engine: read the 120 accounts' 600 events in one SQLite statement",
            "native Rust: that read, each account folded with both versions and compared",
            "cairn plugin try bank-account-capped.wasm: 12 of 120 accounts differ, exactly those with a deposit over 1,000",
        ]
    );
    assert!(rows[2]["versus_baseline"].as_str().unwrap().ends_with("× the engine's time"));
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its throwaway store");
}

#[test]
fn bench_migrators_compares_chains_with_the_raw_read() {
    let (report, scratch) = run_bench(&["migrators", "--events", "300"]);
    let rows = report["rows"].as_array().unwrap();
    let measures: Vec<&str> = rows.iter().map(|row| row["measure"].as_str().unwrap()).collect();
    assert_eq!(
        measures,
        [
            "read-all of 300 version-1.0 events, no migrators",
            "read-all through a 1-step chain (1.0 → 2.0)",
            "read-all through a 2-step chain (1.0 → 2.0 → 2.1)",
        ]
    );
    assert!(rows[1]["versus_baseline"].as_str().unwrap().ends_with("× raw"));
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its throwaway store");
}

/// The templates of docs/plugins.md, as `examples/templates/build-all`
/// built them: each of the nine (an aggregate, a migrator and a handler in
/// Rust, Python and JavaScript) loads with `cairn plugin add` and does what
/// its source says. Templates of one kind share their aggregate type, step or
/// handler name, so each is removed before the next is added.
#[test]
fn the_plugin_templates_of_every_kind_and_language_load_and_work() {
    let template = |path: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/templates").join(path).to_string_lossy().into_owned();
    // A handler's plugin is named after the handler it describes.
    let added = |cairn: &Cairn, file: &str, name: &str| {
        let path = template(file);
        assert!(std::path::Path::new(&path).exists(), "{path} is missing; examples/templates/build-all builds it (scripts/test runs it)");
        let output = if file.contains("handler") { cairn.run(&["plugin", "add", &path]) } else { cairn.run(&["plugin", "add", &path, "--name", name]) };
        assert_exit(&output, 0);
        assert!(String::from_utf8_lossy(&output.stdout).contains("contract cairn:plugin@0.2.0"), "{}", String::from_utf8_lossy(&output.stdout));
    };
    let cairn = Cairn::with_sqlite();
    for (file, name) in [("rust-aggregate/counter.wasm", "counter"), ("python-aggregate/aggregate.wasm", "counter-py"), ("javascript-aggregate/aggregate.wasm", "counter-js")] {
        added(&cairn, file, name);
        assert_exit(&cairn.run(&["exec", "counter", &format!("{name}-1"), "Add", r#"{"amount":2}"#]), 0);
        let rejected = cairn.run(&["exec", "counter", &format!("{name}-1"), "Add", r#"{"amount":0}"#]);
        assert_exit(&rejected, 4);
        assert!(stderr(&rejected).contains("the amount must be"), "{}", stderr(&rejected));
        assert_exit(&cairn.run(&["plugin", "remove", name]), 0);
    }
    for (file, name) in [("rust-migrator/add-unit.wasm", "add-unit"), ("python-migrator/migrator.wasm", "add-unit-py"), ("javascript-migrator/migrator.wasm", "add-unit-js")] {
        added(&cairn, file, name);
        let events = json_lines(&cairn.run(&["log", "--type", "Added"]));
        assert_eq!(events.len(), 3, "{events:?}");
        for event in &events {
            assert_eq!((event["schema_version"].as_str(), event["payload"]["unit"].as_str()), (Some("2.0"), Some("each")), "{name}: {event}");
        }
        assert_exit(&cairn.run(&["plugin", "remove", name]), 0);
    }
    for (file, name) in [("rust-handler/event-type-counts.wasm", "rust"), ("python-handler/handler.wasm", "python"), ("javascript-handler/handler.wasm", "javascript")] {
        // A store of its own, with one Added and one Noted event, for each
        // handler: they all keep the read models of "event-type-counts".
        let cairn = Cairn::with_sqlite();
        let events = cairn.directory().join("events.jsonl");
        std::fs::write(
            &events,
            "{\"aggregate_type\":\"counter\",\"aggregate_id\":\"c-1\",\"event_type\":\"Added\",\"payload\":{\"amount\":1}}\n{\"aggregate_type\":\"counter\",\"aggregate_id\":\"c-1\",\"event_type\":\"Noted\",\"payload\":{}}\n",
        )
        .unwrap();
        assert_exit(&cairn.run(&["append", "--file", &events.to_string_lossy()]), 0);
        added(&cairn, file, name);
        assert_exit(&cairn.run(&["replay", "--handler", "event-type-counts"]), 0);
        for (event_type, expected) in [("Added", "1"), ("Noted", "1")] {
            let count = cairn.run(&["read-model", "get", "event-type-counts", "counts", event_type]);
            assert_eq!(String::from_utf8(count.stdout).unwrap().trim(), expected, "{name}: {event_type}");
        }
    }
}

/// A process whose compile cache holds a plugin finds it by the catalog's
/// content hash and never reads the component from the store: with the
/// stored bytes damaged, commands still run from a warm cache, and without
/// the cache the damage is named.
#[test]
fn a_warm_compile_cache_loads_a_plugin_without_reading_its_component() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["plugin", "add", &path_text("bank-account")]), 0);
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Open", r#"{"owner":"Ann"}"#]), 0);
    let database = rusqlite::Connection::open(cairn.directory().join("cairn.db")).unwrap();
    database.execute_batch("UPDATE cairn_plugins SET component = x'0061736d0d000100'").unwrap();
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":5}"#]), 0);
    let empty_cache = cairn.directory().join("empty-cache");
    let cold = cairn.command().env("CAIRN_CACHE_DIR", &empty_cache).args(["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":5}"#]).output().unwrap();
    assert_ne!(cold.status.code(), Some(0), "the damaged component cannot load without the cache");
    assert!(stderr(&cold).contains("bank-account"), "{}", stderr(&cold));
    let state = json_lines(&cairn.run(&["state", "bank-account", "acc-1"]));
    assert_eq!(state[0]["balance"], 5, "only the warm run deposited: {state:?}");
}
