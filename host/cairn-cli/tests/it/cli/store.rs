//! The store through the CLI.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{assert_exit, fixture, json_lines, stderr, Cairn};
#[cfg(cairn_postgres)]
use crate::support::postgres_base_url;

#[test]
fn append_read_and_log_round_trip_with_every_field() {
    let cairn = Cairn::with_sqlite();
    let output = cairn.run(&[
        "append", "account", "acc-1", "AccountOpened", r#"{"owner":"Ann"}"#,
        "--expected-version", "no-stream", "--schema-version", "2.0", "--correlation-id", "c-1",
        "--causation-id", "cmd-1", "--user-id", "u-1", "--source", "teller", "--metadata", r#"{"ip":"10.1.1.1"}"#,
        "--timestamp", "2026-05-01T12:00:00+02:00",
    ]);
    assert_exit(&output, 0);
    let appended = &json_lines(&output)[0];
    for (field, value) in [
        ("aggregate_type", "account"), ("aggregate_id", "acc-1"), ("event_type", "AccountOpened"), ("schema_version", "2.0"),
        ("correlation_id", "c-1"), ("causation_id", "cmd-1"), ("user_id", "u-1"), ("source", "teller"),
        ("timestamp", "2026-05-01T10:00:00.000000Z"),
    ] {
        assert_eq!(appended[field], value, "field {field}");
    }
    assert_eq!(appended["global_position"], 1);
    assert_eq!(appended["stream_version"], 1);
    assert_eq!(appended["payload"], serde_json::json!({"owner": "Ann"}));
    assert_eq!(appended["metadata"], serde_json::json!({"ip": "10.1.1.1"}));
    assert!(appended["recorded_at"].is_string() && appended["id"].is_string());

    assert_exit(&cairn.run(&["append", "account", "acc-1", "MoneyDeposited", "{\"amount\":5}", "--expected-version", "1"]), 0);
    let read = cairn.run(&["read", "account", "acc-1"]);
    assert_exit(&read, 0);
    let events = json_lines(&read);
    assert_eq!(events.len(), 2);
    assert_eq!(&events[0], appended, "read prints what append printed");
    let from_two = json_lines(&cairn.run(&["read", "account", "acc-1", "--from", "2", "--to", "2"]));
    assert_eq!(from_two.len(), 1);
    assert_eq!(from_two[0]["event_type"], "MoneyDeposited");
    let log = json_lines(&cairn.run(&["log", "--type", "MoneyDeposited"]));
    assert_eq!(log.len(), 1);
}

#[test]
fn store_option_is_global_and_overrides_the_environment() {
    let cairn = Cairn::with_sqlite();
    let other = format!("sqlite://{}", cairn.directory().join("other.db").display());
    assert_exit(&cairn.run(&["--store", &other, "append", "a", "1", "E", "{}"]), 0);
    assert_exit(&cairn.run(&["append", "a", "2", "E", "{}", "--store", &other]), 0);
    assert_eq!(json_lines(&cairn.run(&["log", "--store", &other])).len(), 2);
    assert!(json_lines(&cairn.run(&["log"])).is_empty(), "CAIRN_STORE's store was not touched");
}

#[test]
fn exit_codes_separate_usage_conflict_and_operational_errors() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "a", "1", "E", "{}", "--expected-version", "no-stream"]), 0);
    let conflict = cairn.run(&["append", "a", "1", "E", "{}", "--expected-version", "no-stream"]);
    assert_exit(&conflict, 3);
    assert!(stderr(&conflict).contains("concurrency conflict on stream a/1: expected version no-stream, actual version 1"), "{}", stderr(&conflict));

    let unknown_flag = cairn.run(&["log", "--colour"]);
    assert_exit(&unknown_flag, 2);
    assert!(stderr(&unknown_flag).contains("--colour"));
    let bad_version = cairn.run(&["append", "a", "1", "E", "{}", "--expected-version", "soon"]);
    assert_exit(&bad_version, 2);
    assert!(stderr(&bad_version).contains("use any, no-stream, exists or a whole number"));

    let unreachable = cairn.run(&["log", "--store", "postgres://nobody@127.0.0.1:1/none"]);
    assert_exit(&unreachable, 1);
    assert!(stderr(&unreachable).contains("cannot reach the store at postgres://nobody@127.0.0.1:1/none"), "{}", stderr(&unreachable));
    let no_directory = cairn.run(&["log", "--store", "sqlite:///no/such/directory/cairn.db"]);
    assert_exit(&no_directory, 1);
    assert!(stderr(&no_directory).contains("sqlite:///no/such/directory/cairn.db"));
    let bad_scheme = cairn.run(&["log", "--store", "mysql://x"]);
    assert_exit(&bad_scheme, 2);
    assert!(stderr(&bad_scheme).contains("use sqlite://PATH or postgres://"));
}

#[test]
fn bad_input_gets_one_clear_line_and_writes_nothing() {
    let cairn = Cairn::with_sqlite();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["append", "a", "1", "E", "{not json}"], "payload: not valid JSON"),
        (vec!["append", "a", "1", "E", "{}", "--metadata", "[1]"], "metadata must be a JSON object"),
        (vec!["append", "a", "1", "E", "{}", "--metadata", "{"], "--metadata: not valid JSON"),
        (vec!["append", "", "1", "E", "{}"], "aggregate_type is empty"),
        (vec!["append", "a", "1", "E", "{}", "--timestamp", "yesterday"], "is not an RFC 3339 time"),
        (vec!["--max-payload-bytes", "10", "append", "a", "1", "E", r#"{"text":"far too long"}"#], "over the limit of 10 bytes"),
    ];
    let long_name = "n".repeat(300);
    let mut cases = cases;
    cases.push((vec!["append", "a", &long_name, "E", "{}"], "aggregate_id is 300 bytes long"));
    for (args, message) in cases {
        let output = cairn.run(&args);
        assert_exit(&output, 2);
        let text = stderr(&output);
        let first_line = text.lines().next().unwrap_or_default();
        assert!(first_line.starts_with("error: ") && first_line.contains(message), "`{args:?}` should say `{message}` on one line, said: {text}");
    }
    assert!(json_lines(&cairn.run(&["log"])).is_empty(), "nothing was written");
}

#[test]
fn a_bad_file_is_refused_whole_naming_every_bad_line() {
    let cairn = Cairn::with_sqlite();
    let output = cairn.run(&["append", "--file", fixture("bad-events.jsonl").to_str().unwrap()]);
    assert_exit(&output, 2);
    let text = stderr(&output);
    for needle in ["line 2: missing field `aggregate_id`", "line 3: unknown field `colour`", "line 4: not valid JSON"] {
        assert!(text.contains(needle), "missing `{needle}` in {text}");
    }
    assert!(json_lines(&cairn.run(&["log"])).is_empty(), "line 1 was valid but nothing was written");
    // With the parse errors out of the way, the store's checks name lines too.
    let only_empty_name = std::fs::read_to_string(fixture("bad-events.jsonl")).unwrap().lines().nth(4).unwrap().to_owned();
    let output = cairn.run_with_input(&["append", "--file", "-"], format!("\n{only_empty_name}\n").as_bytes());
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("line 2: aggregate_type is empty"), "{}", stderr(&output));
}

#[test]
fn log_filters_and_limits_select_events() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "--file", fixture("bank-events.jsonl").to_str().unwrap()]), 0);
    let ids = |args: &[&str]| -> Vec<String> {
        let output = cairn.run(args);
        assert_exit(&output, 0);
        json_lines(&output).iter().map(|event| event["id"].as_str().unwrap()[34..].to_owned()).collect()
    };
    assert_eq!(ids(&["log"]), ["01", "02", "03", "04"]);
    assert_eq!(ids(&["log", "--after", "2"]), ["03", "04"]);
    assert_eq!(ids(&["log", "--limit", "3"]), ["01", "02", "03"]);
    assert_eq!(ids(&["log", "--type", "AccountOpened"]), ["01", "03"]);
    assert_eq!(ids(&["log", "--type", "AccountOpened", "--type", "MoneyWithdrawn"]), ["01", "03", "04"]);
    assert_eq!(ids(&["log", "--aggregate-type", "account", "--aggregate-id", "acc-2"]), ["03"]);
    assert_eq!(ids(&["log", "--correlation-id", "onboarding-1"]), ["01", "02"]);
    assert_eq!(ids(&["log", "--user-id", "ann"]), ["04"]);
    assert_eq!(ids(&["log", "--since", "2026-05-01T09:05:00Z", "--until", "2026-05-02T10:00:00Z"]), ["02", "03"]);
    assert!(ids(&["log", "--aggregate-type", "invoice"]).is_empty());
}

#[test]
fn a_log_piped_into_append_copies_a_store_and_copying_again_is_harmless() {
    let source = Cairn::with_sqlite();
    assert_exit(&source.run(&["append", "--file", fixture("bank-events.jsonl").to_str().unwrap()]), 0);
    let log = source.run(&["log"]);
    let target = Cairn::with_sqlite();
    let copied = target.run_with_input(&["append", "--file", "-"], &log.stdout);
    assert_exit(&copied, 0);
    assert_eq!(json_lines(&copied)[0]["appended"], 4);
    let again = target.run_with_input(&["append", "--file", "-"], &log.stdout);
    assert_exit(&again, 0);
    assert_eq!(json_lines(&again)[0]["already_present"], 4);
    let strip = |events: Vec<Value>| -> Vec<Value> {
        events.into_iter().map(|mut event| { event.as_object_mut().unwrap().remove("recorded_at"); event }).collect()
    };
    assert_eq!(strip(json_lines(&target.run(&["log"]))), strip(json_lines(&log)), "ids, timestamps and versions are kept");

    // A copy into a store whose stream has moved on is refused, not interleaved.
    let diverged = Cairn::with_sqlite();
    assert_exit(&diverged.run(&["append", "account", "acc-1", "Local", "{}"]), 0);
    let refused = diverged.run_with_input(&["append", "--file", "-"], &log.stdout);
    assert_exit(&refused, 3);
    assert_eq!(json_lines(&diverged.run(&["log"])).len(), 1);
}

#[cfg(cairn_postgres)]
#[test]
fn copies_between_sqlite_and_postgres_both_ways() {
    let base = postgres_base_url();
    let schema = format!("cairn_cli_{}", uuid::Uuid::now_v7().simple());
    let postgres_url = format!("{base}{}schema={schema}", if base.contains('?') { "&" } else { "?" });
    let source = Cairn::with_sqlite();
    assert_exit(&source.run(&["append", "--file", fixture("bank-events.jsonl").to_str().unwrap()]), 0);
    let log = source.run(&["log"]);
    assert_exit(&source.run_with_input(&["--store", &postgres_url, "append", "--file", "-"], &log.stdout), 0);
    let from_postgres = source.run(&["--store", &postgres_url, "log"]);
    let back = Cairn::with_sqlite();
    assert_exit(&back.run_with_input(&["append", "--file", "-"], &from_postgres.stdout), 0);
    let fields = |events: Vec<Value>| -> Vec<(Value, Value, Value, Value)> {
        events.into_iter().map(|event| (event["id"].clone(), event["timestamp"].clone(), event["stream_version"].clone(), event["payload"].clone())).collect()
    };
    assert_eq!(fields(json_lines(&back.run(&["log"]))), fields(json_lines(&log)));
    let stats = source.run(&["--store", &postgres_url, "stats", "--json"]);
    assert_eq!(serde_json::from_slice::<Value>(&stats.stdout).unwrap()["total_events"], 4);
    let _ = Command::new("psql").args([base.as_str(), "-c", &format!("DROP SCHEMA {schema} CASCADE")]).output();
}

#[test]
fn files_that_are_not_cairn_stores_are_refused_untouched() {
    let cairn = Cairn::with_sqlite();
    let text_file = cairn.directory().join("notes.db");
    std::fs::write(&text_file, "shopping list: eggs, milk\n").unwrap();
    let output = cairn.run(&["log", "--store", &format!("sqlite://{}", text_file.display())]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("is not a Cairn store: the file is not a SQLite database"), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&text_file).unwrap(), "shopping list: eggs, milk\n");

    let foreign = cairn.directory().join("foreign.db");
    let created = Command::new("python3")
        .args(["-c", &format!("import sqlite3; c = sqlite3.connect({:?}); c.execute('create table invoices (id integer)'); c.commit()", foreign.display().to_string())])
        .status()
        .unwrap();
    assert!(created.success());
    let output = cairn.run(&["log", "--store", &format!("sqlite://{}", foreign.display())]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("is not a Cairn store: it holds other tables (invoices)"), "{}", stderr(&output));
}

#[test]
fn a_store_from_a_newer_cairn_is_refused() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "a", "1", "E", "{}"]), 0);
    let path = cairn.directory().join("cairn.db");
    let script = format!(
        "import sqlite3; c = sqlite3.connect({:?}); c.execute(\"insert into _sqlx_migrations (version, description, success, checksum, execution_time) values (9999, 'future', 1, x'00', 0)\"); c.commit()",
        path.display().to_string()
    );
    assert!(Command::new("python3").args(["-c", &script]).status().unwrap().success());
    let output = cairn.run(&["log"]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("has schema version 9999, newer than this cairn understands"), "{}", stderr(&output));
}

#[test]
fn concurrent_processes_append_to_one_sqlite_file_without_loss() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["stats"]), 0);
    let children: Vec<_> = (0..8)
        .map(|writer| {
            let lines: String = (0..25)
                .map(|n| format!("{{\"aggregate_type\":\"w\",\"aggregate_id\":\"{writer}\",\"event_type\":\"E\",\"payload\":{n}}}\n"))
                .collect();
            let mut child = cairn.command().args(["append", "--file", "-"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
            child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
            child
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let events = json_lines(&cairn.run(&["log"]));
    assert_eq!(events.len(), 200);
    let positions: Vec<u64> = events.iter().map(|event| event["global_position"].as_u64().unwrap()).collect();
    assert_eq!(positions, (1..=200).collect::<Vec<_>>());
}

#[test]
fn log_follow_prints_events_appended_later() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "a", "1", "First", "{}"]), 0);
    let mut follower = cairn.command().args(["log", "--follow", "--type", "Second"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    assert_exit(&cairn.run(&["append", "a", "1", "Second", r#"{"n":2}"#]), 0);
    let line = receiver.recv_timeout(Duration::from_secs(30)).expect("the follower printed the new event");
    follower.kill().unwrap();
    let _ = follower.wait();
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["event_type"], "Second");
    assert_eq!(event["global_position"], 2);
}

#[test]
fn stats_prints_a_table_and_json() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "--file", fixture("bank-events.jsonl").to_str().unwrap()]), 0);
    let table = cairn.run(&["stats"]);
    assert_exit(&table, 0);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("total events") && text.contains("event type AccountOpened"), "{text}");
    let json: Value = serde_json::from_slice(&cairn.run(&["stats", "--json"]).stdout).unwrap();
    assert_eq!(json["total_events"], 4);
    assert_eq!(json["total_streams"], 2);
    assert_eq!(json["first_event_timestamp"], "2026-05-01T09:00:00.000000Z");
    assert_eq!(json["latest_event_timestamp"], "2026-05-03T11:00:00.000000Z");
    assert_eq!(json["events_by_aggregate_type"][0], serde_json::json!({"name": "account", "count": 4}));
}

#[test]
fn bench_store_prints_its_table_and_leaves_nothing_behind() {
    let cairn = Cairn::with_sqlite();
    let output = cairn.run(&["bench", "store", "--events", "500", "--single-appends", "20", "--json"]);
    assert_exit(&output, 0);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let measures: Vec<&str> = report["rows"].as_array().unwrap().iter().map(|row| row["measure"].as_str().unwrap()).collect();
    for measure in [
        "engine insert with the log's 5 secondary indexes (the engine limit)",
        "batch append (100 events over 10 streams per append)",
        "single-event append p50, durability full",
        "single-event append p50, durability normal",
        "8 concurrent writers of single-event appends",
        "read-all (pages of 10,000)",
    ] {
        assert!(measures.contains(&measure), "{measures:?}");
    }
    assert!(measures.iter().any(|measure| measure.starts_with("engine scan")), "{measures:?}");
    let leftovers: Vec<_> = std::fs::read_dir(cairn.directory()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert!(leftovers.is_empty(), "the throwaway store was removed: {leftovers:?}");
}

#[test]
fn checkpoints_and_sequence_validation_through_the_cli() {
    let cairn = Cairn::with_sqlite();
    for event_type in ["MigrationStarted", "DataExtracted"] {
        assert_exit(&cairn.run(&["append", "migration", "m-1", event_type, "{}"]), 0);
    }
    assert_exit(&cairn.run(&["checkpoint", "set", "daily_replay", "2"]), 0);
    let ahead = cairn.run(&["checkpoint", "set", "daily_replay", "9"]);
    assert_exit(&ahead, 2);
    assert!(stderr(&ahead).contains("position 9 is ahead of the log's end (2)"), "{}", stderr(&ahead));
    let listed = json_lines(&cairn.run(&["checkpoint", "list", "--json"]));
    assert_eq!((listed[0]["name"].as_str(), listed[0]["position"].as_u64()), (Some("daily_replay"), Some(2)));
    let missing = cairn.run(&["checkpoint", "delete", "nightly"]);
    assert_exit(&missing, 6);
    assert!(stderr(&missing).contains("no checkpoint named nightly; existing: daily_replay"));
    assert_exit(&cairn.run(&["checkpoint", "delete", "daily_replay"]), 0);

    assert_exit(&cairn.run(&["validate-sequence", "migration", "m-1", "--expect", "MigrationStarted,DataExtracted"]), 0);
    let invalid = cairn.run(&["validate-sequence", "migration", "m-1", "--expect", "MigrationStarted,DataTransformed", "--json"]);
    assert_exit(&invalid, 5);
    let report = &json_lines(&invalid)[0];
    assert_eq!(report["is_valid"], false);
    assert_eq!(report["differences"][0]["position"], 2);
    assert_eq!(report["differences"][0]["actual"], "DataExtracted");
    assert_exit(&cairn.run(&["validate-sequence", "migration", "m-1", "--expect", "A,,B"]), 2);
}
