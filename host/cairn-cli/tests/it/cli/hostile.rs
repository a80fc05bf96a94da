//! Hostile input through the real binary: JSON that readers disagree on,
//! events stored before validation was strict, and plugins that sleep or
//! answer more than the host accepts. Nothing of it may stop the host or
//! write half of anything.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::serve::{agent, get, post, Server};
use super::{assert_exit, json_lines, stderr, Cairn};

crate::on_both_backends!(
    json_readers_disagree_on_is_refused_on_every_way_in,
    events_stored_before_strict_validation_read_back_and_never_stop_writes,
    plugin_answers_over_the_output_limits_fail_naming_the_limit_and_write_nothing,
);

/// Payloads JSON readers disagree on, each with the JSON Pointer (or its
/// start) that the refusal must name.
fn poisons() -> Vec<(String, &'static str)> {
    vec![
        (r#"{"note":["ok","\ud800"]}"#.to_owned(), "/note/1"),
        (r#"{"amount":1e400}"#.to_owned(), "/amount"),
        (r#"{"a":1,"a":2}"#.to_owned(), "/a"),
        (format!(r#"{{"deep":{}{}}}"#, "[".repeat(70), "]".repeat(70)), "/deep/0/0"),
    ]
}

fn json_readers_disagree_on_is_refused_on_every_way_in(cairn: Cairn) {
    cairn.add_plugin("bank-account");
    for (payload, pointer) in poisons() {
        let line = format!(r#"{{"aggregate_type":"note","aggregate_id":"n","event_type":"Written","payload":{payload}}}"#);
        let appended = cairn.run(&["append", "note", "n", "Written", &payload]);
        assert_exit(&appended, 2);
        assert!(stderr(&appended).contains(&format!("(at {pointer}")), "{}", stderr(&appended));
        assert_exit(&cairn.run_with_input(&["append", "--file", "-"], line.as_bytes()), 2);
        let command = cairn.run(&["exec", "bank-account", "acc-1", "Open", &payload]);
        assert_exit(&command, 2);
    }
    assert!(json_lines(&cairn.run(&["log"])).is_empty(), "nothing was written");

    let server = Server::start(&cairn, &["--no-projections"]);
    for (payload, pointer) in poisons() {
        let event = format!(r#"{{"aggregate_type":"note","aggregate_id":"n","event_type":"Written","payload":{payload}}}"#);
        for (path, body) in [
            ("/events", event.clone()),
            ("/events/batch", format!(r#"{{"events":[{event}]}}"#)),
            ("/commands/bank-account/acc-1", format!(r#"{{"command_type":"Open","payload":{payload}}}"#)),
        ] {
            let (status, answer) = send_text(&server, path, &body);
            assert_eq!((status, answer["error"]["code"].as_str()), (400, Some("invalid")), "{path} {body}: {answer}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(pointer), "{path}: {answer}");
        }
    }
    assert_eq!(get(&server, "/events").1["events"], json!([]));
}

/// Posts `body` as it is, as JSON.
fn send_text(server: &Server, path: &str, body: &str) -> (u16, Value) {
    let response = match agent().post(&server.url(path)).set("content-type", "application/json").send_string(body) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("{path}: {error}"),
    };
    let status = response.status();
    (status, serde_json::from_str(&response.into_string().unwrap()).unwrap())
}

/// Writes an event straight into the store's table, past every check, as an
/// older cairn (or another tool) could have; its id.
fn plant(cairn: &Cairn, aggregate_id: &str, payload: &str) -> String {
    let id = uuid::Uuid::now_v7();
    let done = match cairn.store.strip_prefix("sqlite://") {
        Some(path) => Command::new("python3")
            .args(["-c", &format!(
                "import sqlite3, uuid; c = sqlite3.connect({path:?}); p = c.execute('select coalesce(max(global_position), 0) + 1 from cairn_events').fetchone()[0]; \
                 c.execute(\"insert into cairn_events (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata) values (?, ?, 'test-noop', ?, 1, 'Old', '1.0', 0, 0, ?, '{{}}')\", (p, uuid.UUID({:?}).bytes, {aggregate_id:?}, {payload:?})); c.commit()",
                id.to_string()
            )])
            .status()
            .unwrap(),
        None => {
            let (base, schema) = cairn.store.rsplit_once("schema=").expect("a PostgreSQL store names its schema");
            let base = base.trim_end_matches(['?', '&']);
            let sql = format!(
                "SET search_path TO {schema}; UPDATE cairn_log_head SET last_position = last_position + 1; \
                 INSERT INTO cairn_events (global_position, id, aggregate_type, aggregate_id, stream_version, event_type, schema_version, timestamp, recorded_at, payload, metadata) \
                 SELECT last_position, '{id}', 'test-noop', '{aggregate_id}', 1, 'Old', '1.0', now(), now(), $poison${payload}$poison$, '{{}}' FROM cairn_log_head;"
            );
            Command::new("psql").args([base, "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql]).status().unwrap()
        }
    };
    assert!(done.success(), "the event was planted");
    id.to_string()
}

fn events_stored_before_strict_validation_read_back_and_never_stop_writes(cairn: Cairn) {
    cairn.add_plugin("test-noop");
    let payload = r#"{"n":1e400,"n":2}"#;
    let id = plant(&cairn, "old", payload);
    let log = cairn.run(&["log"]);
    assert_exit(&log, 0);
    assert!(String::from_utf8_lossy(&log.stdout).contains(payload), "printed as stored");

    let server = Server::start(&cairn, &["--no-projections"]);
    for path in ["/events".to_owned(), format!("/events/{id}"), "/streams/test-noop/old".to_owned(), "/aggregates/test-noop/old".to_owned()] {
        let response = agent().get(&server.url(&path)).call().unwrap_or_else(|error| panic!("{path}: {error}"));
        assert_eq!(response.status(), 200, "{path}");
        let body = response.into_string().unwrap();
        if path != "/aggregates/test-noop/old" {
            assert!(body.contains(payload), "{path} answers the stored text: {body}");
        }
    }
    // The same id with another payload is a conflict; before, it stopped the SQLite writer for good.
    let resent = format!(r#"{{"id":"{id}","aggregate_type":"test-noop","aggregate_id":"old","event_type":"Old","payload":{{"n":3}}}}"#);
    let (status, conflict) = send_text(&server, "/events", &resent);
    assert_eq!((status, conflict["error"]["code"].as_str()), (409, Some("conflict")), "{conflict}");
    let (status, written) = post(&server, "/events", json!({"aggregate_type": "note", "aggregate_id": "n", "event_type": "Written", "payload": {}}));
    assert_eq!(status, 201, "writes go on: {written}");
    assert_eq!(get(&server, "/health").0, 200);
}

fn plugin_answers_over_the_output_limits_fail_naming_the_limit_and_write_nothing(cairn: Cairn) {
    cairn.add_plugin("test-flood");
    assert_exit(&cairn.run(&["exec", "test-flood", "f", "Behave", "{}"]), 0);
    for (command, limit) in [("Many", "--plugin-max-events"), ("Big", "--plugin-max-answer-bytes"), ("Chatty", "--plugin-max-log-bytes")] {
        let output = cairn.run(&["--plugin-max-answer-bytes", "2097152", "exec", "test-flood", "f", command, "{}"]);
        assert_exit(&output, 1);
        assert!(stderr(&output).contains(limit), "{command}: {}", stderr(&output));
    }
    assert_eq!(json_lines(&cairn.run(&["read", "test-flood", "f"])).len(), 1, "nothing over a limit was written");
    let raised = cairn.run(&["--plugin-max-events", "20000", "exec", "test-flood", "f", "Many", "{}"]);
    assert_exit(&raised, 0);
    assert_eq!(json_lines(&raised)[0]["stream_version"], 20_001);
}

#[test]
fn a_handler_over_the_read_model_write_limit_is_dead_lettered_naming_the_limit() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("test-flood-handler");
    for event_type in ["Before", "Flood", "After"] {
        assert_exit(&cairn.run(&["append", "tide", event_type.to_lowercase().as_str(), event_type, "{}"]), 0);
    }
    // The flood takes a while to build; a generous CPU limit keeps a busy
    // machine from failing it on time instead of on the write limit.
    let replayed = cairn.run(&["--plugin-time-limit-ms", "20000", "replay", "--handler", "flood", "--max-retries", "0", "--json"]);
    assert_exit(&replayed, 0);
    let letters = json_lines(&cairn.run(&["dead-letter", "list", "--json"]));
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(letters[0]["error"].as_str().unwrap().contains("--plugin-max-read-model-writes"), "{letters:?}");
    for counted in ["Before", "After"] {
        let count = json_lines(&cairn.run(&["read-model", "get", "flood", "counts", counted]));
        assert_eq!(count[0], 1, "{counted} was handled");
    }
}

#[test]
fn a_sleeping_plugin_ends_at_its_cpu_limit_instead_of_holding_a_thread() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("test-sleep");
    let running = cairn.command().args(["exec", "test-sleep", "s", "Misbehave", "{}"]).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let (ended, end) = std::sync::mpsc::channel();
    std::thread::spawn(move || ended.send(running.wait_with_output()));
    // A guard, not a goal: the plugin asks for ten minutes of sleep.
    let output = end.recv_timeout(Duration::from_secs(120)).expect("the sleeping call still holds the process").unwrap();
    assert_exit(&output, 1);
    assert!(stderr(&output).contains("ran past its CPU time limit"), "{}", stderr(&output));
}

#[test]
fn a_stream_of_large_events_loads_within_a_small_memory() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("test-flood");
    let text = "x".repeat(900 * 1024);
    let lines: String = (0..30)
        .map(|_| format!(r#"{{"aggregate_type":"test-flood","aggregate_id":"big","event_type":"Happened","payload":{{"text":"{text}"}}}}"#) + "\n")
        .collect();
    assert_exit(&cairn.run_with_input(&["append", "--file", "-"], lines.as_bytes()), 0);
    // 27 MiB of events through a plugin with 16 MiB of memory: in batches that fit.
    let state = cairn.run(&["--plugin-memory-mib", "16", "state", "test-flood", "big", "--with-version"]);
    assert_exit(&state, 0);
    assert_eq!(json_lines(&state)[0]["stream_version"], 30);
}

#[test]
fn request_fields_out_of_bounds_are_refused_naming_the_bound() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("account-summary");
    let cli = cairn.run(&["replay", "--handler", "account-summary", "--workers", "100000", "--batch-size", "1000000"]);
    assert_exit(&cli, 2);
    assert!(stderr(&cli).contains("--workers 100000 is over the most") && stderr(&cli).contains("--batch-size 1000000 is over the most, 10000"), "{}", stderr(&cli));

    let server = Server::start(&cairn, &[]);
    for body in [
        json!({"handlers": ["account-summary"], "workers": 100_000_000_000u64, "checkpoint": "x"}),
        json!({"handlers": ["account-summary"], "batch_size": u64::MAX}),
        json!({"handlers": ["account-summary"], "max_retries": 4_000_000_000u64}),
    ] {
        let (status, refused) = post(&server, "/replay", body.clone());
        assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("invalid")), "{body}: {refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("give "), "{refused}");
    }
    for path in ["/events?limit=0", "/events?limit=10001", "/streams/a/b?limit=20000", "/dead-letters?limit=0", "/read-models/h/c?limit=99999"] {
        let (status, refused) = get(&server, path);
        assert_eq!(status, 400, "{path}: {refused}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("give 1 to 10000"), "{path}: {refused}");
    }
    assert_eq!(get(&server, "/health").0, 200, "the server is still there");
}

#[test]
fn other_sites_pages_cannot_change_state_through_a_browser() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &["--allow-origin", "https://console.example"]);
    let event = r#"{"aggregate_type":"note","aggregate_id":"n","event_type":"Written","payload":{}}"#;
    let send = |origin: Option<&str>, host: Option<&str>, content_type: &str, path: &str, body: &[u8]| {
        let mut request = agent().post(&server.url(path)).set("content-type", content_type);
        if let Some(origin) = origin {
            request = request.set("origin", origin);
        }
        if let Some(host) = host {
            request = request.set("host", host);
        }
        match request.send_bytes(body) {
            Ok(response) => (response.status(), response.into_string().unwrap()),
            Err(ureq::Error::Status(status, response)) => (status, response.into_string().unwrap()),
            Err(error) => panic!("{error}"),
        }
    };
    let own = server.url("").trim_end_matches('/').to_owned();
    assert_eq!(send(Some(&own), None, "application/json", "/events", event.as_bytes()).0, 201, "the server's own pages");
    assert_eq!(send(None, None, "application/json", "/events", event.as_bytes()).0, 201, "clients that are not browsers");
    assert_eq!(send(Some("https://console.example"), None, "application/json", "/events", event.as_bytes()).0, 201, "an allowed origin");
    let (status, body) = send(Some("https://evil.example"), None, "application/json", "/events", event.as_bytes());
    assert!(status == 403 && body.contains("cross_origin"), "{status} {body}");
    assert_eq!(send(Some("null"), None, "application/json", "/dead-letters/1/skip", b"").0, 403, "a sandboxed page");
    let (status, body) = send(None, None, "text/plain", "/events", event.as_bytes());
    assert!(status == 415 && body.contains("application/json"), "a form post: {status} {body}");
    let (status, body) = send(None, None, "text/plain", "/plugins", b"\0asm");
    assert!(status == 415 && body.contains("application/wasm"), "{status} {body}");
    // DNS rebinding: a page whose name now points at 127.0.0.1.
    let (status, body) = send(None, Some("evil.example:8080"), "application/json", "/events", event.as_bytes());
    assert!(status == 403 && body.contains("forbidden_host"), "{status} {body}");
    assert_eq!(get(&server, "/events").1["events"].as_array().unwrap().len(), 3, "only the three allowed appends");
}

#[test]
fn live_streams_are_bounded_and_end_when_the_server_stops() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &["--max-sse-clients", "1"]);
    let subscriber = agent().get(&server.url("/events/stream")).call().expect("the first subscriber is taken");
    let refused = match agent().get(&server.url("/events/stream")).call() {
        Err(ureq::Error::Status(status, response)) => (status, response.into_string().unwrap()),
        other => panic!("a second subscriber was not refused: {:?}", other.map(|response| response.status())),
    };
    assert!(refused.0 == 503 && refused.1.contains("--max-sse-clients"), "{refused:?}");
    let mut reader = std::io::BufReader::new(subscriber.into_reader());
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // The open stream ends with a shutdown message, and the server exits.
    let mut received = String::new();
    std::io::Read::read_to_string(&mut reader, &mut received).unwrap();
    assert!(received.contains("event: shutdown"), "{received}");
    let mut server = server;
    assert!(server.child.wait().unwrap().success(), "SIGTERM ends the server, subscriber or not");
}

#[test]
fn a_plugin_that_creates_many_memories_is_refused_naming_the_limit() {
    let cairn = Cairn::with_sqlite();
    let path = crate::support::plugin_path("test-many-memories");
    let refused = cairn.run(&["plugin", "add", &path.to_string_lossy()]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("it creates more memories than one plugin instance may have (16)"), "{}", stderr(&refused));
    assert_eq!(json_lines(&cairn.run(&["plugin", "list", "--json"])).len(), 0, "nothing was stored");
}
