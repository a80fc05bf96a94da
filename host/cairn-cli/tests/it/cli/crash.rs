//! `kill -9` while four processes append: after a restart, every append
//! that was acknowledged is there, positions are gap-free, and no append is
//! half there (an event without its command's record, or the reverse).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;

use serde_json::Value;

use super::{assert_exit, json_lines, Cairn};

const WRITERS: usize = 4;
/// Commands each writer is given; far more than it gets through before the kill.
const COMMANDS_PER_WRITER: usize = 2_000;
/// Acknowledged commands each writer must have before the kill.
const ACKNOWLEDGED_BEFORE_KILL: usize = 25;

crate::on_both_backends!(acknowledged_appends_survive_kill_9_of_every_writer_and_the_log_stays_gap_free);

fn acknowledged_appends_survive_kill_9_of_every_writer_and_the_log_stays_gap_free(cairn: Cairn) {
    assert_exit(&cairn.run(&["plugin", "add", &crate::support::plugin_path("bank-account").to_string_lossy()]), 0);
    let (acknowledgements, acknowledged) = mpsc::channel::<(usize, Value)>();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let mut child = cairn.command().args(["exec", "--commands", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let account = format!("crash-{writer}");
            let open = serde_json::json!({"aggregate_type": "bank-account", "aggregate_id": account, "command_type": "Open", "payload": {"owner": "Ann"}, "command_id": format!("{account}-0")});
            let mut lines = format!("{open}\n");
            for index in 1..COMMANDS_PER_WRITER {
                let deposit = serde_json::json!({"aggregate_type": "bank-account", "aggregate_id": account, "command_type": "Deposit", "payload": {"amount": 1}, "command_id": format!("{account}-{index}")});
                lines.push_str(&format!("{deposit}\n"));
            }
            // The writer dies with its input half read; the pipe then breaks.
            let _ = input.write_all(lines.as_bytes());
        });
        let acknowledgements = acknowledgements.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = acknowledgements.send((writer, serde_json::from_str(&line).unwrap()));
            }
        });
        writers.push(child);
    }
    drop(acknowledgements);

    let mut results: Vec<Vec<Value>> = vec![Vec::new(); WRITERS];
    while results.iter().any(|results| results.len() < ACKNOWLEDGED_BEFORE_KILL) {
        let (writer, result) = acknowledged.recv().expect("the writers keep acknowledging until killed");
        assert_eq!(result["ok"], true, "{result}");
        results[writer].push(result);
    }
    for writer in &mut writers {
        writer.kill().unwrap(); // SIGKILL
        writer.wait().unwrap();
    }
    // Acknowledgements printed before the kill and read after it count too.
    for (writer, result) in acknowledged.iter() {
        results[writer].push(result);
    }

    let log = json_lines(&cairn.run(&["log"]));
    let positions: Vec<u64> = log.iter().map(|event| event["global_position"].as_u64().unwrap()).collect();
    assert_eq!(positions, (1..=log.len() as u64).collect::<Vec<_>>(), "positions are gap-free after the crash");
    let logged: HashMap<&str, &Value> = log.iter().map(|event| (event["id"].as_str().unwrap(), event)).collect();
    for result in results.iter().flatten() {
        for event in result["outcome"]["events"].as_array().unwrap() {
            let stored = logged.get(event["id"].as_str().unwrap()).unwrap_or_else(|| panic!("an acknowledged event was lost: {event}"));
            assert_eq!(stored["global_position"], event["global_position"], "{event}");
        }
    }
    let mut per_stream: HashMap<&str, Vec<u64>> = HashMap::new();
    for event in &log {
        per_stream.entry(event["aggregate_id"].as_str().unwrap()).or_default().push(event["stream_version"].as_u64().unwrap());
    }
    for (stream, versions) in &per_stream {
        assert_eq!(versions, &(1..=versions.len() as u64).collect::<Vec<_>>(), "stream {stream} has no gap");
    }
    // Each event's command record was written in the event's transaction:
    // the newest command of each stream, the one most likely cut short,
    // has both or neither.
    let causes: HashSet<&str> = log.iter().map(|event| event["causation_id"].as_str().unwrap()).collect();
    for writer in 0..WRITERS {
        let account = format!("crash-{writer}");
        let written = per_stream.get(account.as_str()).map_or(0, Vec::len);
        for index in [written.saturating_sub(1), written] {
            let command_id = format!("{account}-{index}");
            let shown = cairn.run(&["command-id", "show", &command_id]);
            let recorded = shown.status.success();
            assert_eq!(recorded, causes.contains(command_id.as_str()), "command {command_id}: its record and its event are both there or both missing");
        }
    }
    // The store takes appends again, after the last position.
    let next = cairn.run(&["exec", "bank-account", "crash-0", "Deposit", r#"{"amount":1}"#]);
    assert_exit(&next, 0);
    assert_eq!(json_lines(&next)[0]["events"][0]["global_position"], log.len() as u64 + 1);
}
