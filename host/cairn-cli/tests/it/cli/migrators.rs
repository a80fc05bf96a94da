//! Migrators through the CLI: upcast reads and `--raw`, checks and dry
//! runs, stream migration, and a migrator hot-added to a running reader.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{assert_exit, json_lines, stderr, Cairn};

const CREATED_V1: &str = r#"{"opportunity_id":"123","title":"AI Chatbot","ai_solution_type":"nlp","market_size":1000000}"#;

#[test]
fn reads_are_upcast_unless_raw_and_stream_migration_copies_upcast() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "opportunity", "123", "OpportunityCreated", CREATED_V1]), 0);
    cairn.add_plugin("opportunity-migrator");
    let read = &json_lines(&cairn.run(&["read", "opportunity", "123"]))[0];
    assert_eq!((read["schema_version"].as_str(), read["payload"]["market_size_estimate"].as_u64()), (Some("2.0"), Some(1_000_000)));
    let logged = &json_lines(&cairn.run(&["log", "--type", "OpportunityCreated"]))[0];
    assert_eq!(logged["payload"]["ai_solution_category"], "natural_language_processing");
    let raw_output = cairn.run(&["log", "--raw"]);
    assert!(String::from_utf8_lossy(&raw_output.stdout).contains(&format!(r#""schema_version":"1.0""#)));
    assert!(String::from_utf8_lossy(&raw_output.stdout).contains(CREATED_V1), "the stored bytes, exactly");
    let raw = &json_lines(&raw_output)[0];

    let migrated = cairn.run(&["stream", "migrate", "opportunity", "123", "--to", "opportunity-v2/123"]);
    assert_exit(&migrated, 0);
    let copy = &json_lines(&cairn.run(&["read", "opportunity-v2", "123", "--raw"]))[0];
    assert_eq!(copy["schema_version"], "2.0", "the copy is stored upcast");
    assert_eq!(copy["timestamp"], raw["timestamp"], "with its original timestamp");
    assert_eq!(copy["metadata"]["migrated_from"]["event_id"], raw["id"]);
    assert_eq!(json_lines(&cairn.run(&["read", "opportunity", "123", "--raw"]))[0], *raw, "the source is untouched");
    let again = cairn.run(&["stream", "migrate", "opportunity", "123", "--to", "opportunity-v2/123"]);
    assert_exit(&again, 3);
    let malformed = cairn.run(&["stream", "migrate", "opportunity", "123", "--to", "no-slash"]);
    assert_exit(&malformed, 2);
    assert!(stderr(&malformed).contains("is not TYPE/ID"), "{}", stderr(&malformed));
}

#[test]
fn check_and_dry_run_report_what_cannot_be_upcast() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("test-migrator");
    for (version, payload) in [("1.0", r#"{"do":"nothing"}"#), ("1.0", r#"{"do":"trap"}"#), ("0.5", "{}")] {
        assert_exit(&cairn.run(&["append", "fragile", "f", "Fragile", payload, "--schema-version", version]), 0);
    }
    let check = cairn.run(&["migrate", "check", "--json"]);
    assert_exit(&check, 5);
    let rows = json_lines(&check);
    let stuck: Vec<&Value> = rows.iter().filter(|row| row["ok"] == false).collect();
    assert_eq!(stuck.len(), 1);
    assert_eq!((stuck[0]["schema_version"].as_str(), stuck[0]["newest"].as_str()), (Some("0.5"), Some("2.0")));
    assert!(stderr(&check).contains("1 stored event type and version pairs cannot reach their newest version"));

    let dry_run = cairn.run(&["migrate", "dry-run", "--json"]);
    assert_exit(&dry_run, 5);
    let rows = json_lines(&dry_run);
    let one_zero = rows.iter().find(|row| row["schema_version"] == "1.0").unwrap();
    assert_eq!((one_zero["events"].as_u64(), one_zero["upcast"].as_u64(), one_zero["failed"].as_u64()), (Some(2), Some(1), Some(1)));
    assert!(one_zero["first_errors"][0].as_str().unwrap().contains("this migrator traps on purpose"));
    assert!(stderr(&dry_run).contains("1 events would fail to upcast; nothing was written"));
    let failed_read = cairn.run(&["read", "fragile", "f"]);
    assert_exit(&failed_read, 1);
    assert!(stderr(&failed_read).contains("with migrator test-migrator"), "{}", stderr(&failed_read));
    assert!(stderr(&failed_read).contains("add --raw to see them as stored"));
    assert_exit(&cairn.run(&["read", "fragile", "f", "--raw"]), 0);
}

#[test]
fn a_migrator_added_while_a_reader_follows_applies_to_its_next_events() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["stats"]), 0);
    let mut follower = cairn
        .command()
        .args(["log", "--follow", "--type", "OpportunityCreated"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let next = |cairn: &Cairn, id: usize| -> Value {
        assert_exit(&cairn.run(&["append", "opportunity", &id.to_string(), "OpportunityCreated", CREATED_V1]), 0);
        serde_json::from_str(&lines.recv_timeout(Duration::from_secs(30)).expect("the follower prints each event")).unwrap()
    };
    assert_eq!(next(&cairn, 0)["schema_version"], "1.0", "no migrator yet");
    cairn.add_plugin("opportunity-migrator");
    let added_at = Instant::now();
    let mut id = 1;
    loop {
        if next(&cairn, id)["schema_version"] == "2.0" {
            break;
        }
        assert!(added_at.elapsed() < Duration::from_secs(60), "the follower never picked up the migrator");
        id += 1;
    }
    follower.kill().unwrap();
    let _ = follower.wait();
}

#[test]
fn the_audit_trail_shows_upcast_events_through_the_cli_and_http_alike() {
    let cairn = Cairn::with_sqlite();
    assert_exit(&cairn.run(&["append", "opportunity", "123", "OpportunityCreated", CREATED_V1, "--user-id", "pm-1"]), 0);
    cairn.add_plugin("opportunity-migrator");
    let entries = json_lines(&cairn.run(&["audit", "opportunity", "123", "--json"]));
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0]["schema_version"].as_str(), entries[0]["payload"]["market_size_estimate"].as_u64()), (Some("2.0"), Some(1_000_000)));
    assert_eq!(entries[0]["user_id"], "pm-1");
    let table = String::from_utf8_lossy(&cairn.run(&["audit", "opportunity", "123"]).stdout).into_owned();
    assert!(table.contains("OpportunityCreated v2.0"), "{table}");

    let server = super::serve::Server::start(&cairn, &["--no-projections"]);
    let (status, audit) = super::serve::get(&server, "/aggregates/opportunity/123/audit");
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["entries"][0], entries[0], "HTTP answers the same entry as the CLI");
}
