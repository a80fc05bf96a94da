//! `cairn serve` end to end: the real binary on a free loopback port, spoken
//! to over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::Cairn;

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(cairn: &Cairn, extra: &[&str]) -> Server {
        let mut child = cairn
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let base = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {first:?}")).to_owned();
        Server { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build()
}

/// Status and JSON body, whatever the status.
fn call(request: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let response = match body {
        Some(body) => request.send_json(body),
        None => request.call(),
    };
    let response = match response {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("request failed: {error}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn get(server: &Server, path: &str) -> (u16, Value) {
    call(agent().get(&server.url(path)), None)
}

fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    call(agent().post(&server.url(path)), Some(body))
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting until {what}");
        std::thread::yield_now();
    }
}

#[test]
fn serve_answers_the_event_command_replay_and_read_model_endpoints() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("bank-account");
    cairn.add_plugin("account-summary");
    let server = Server::start(&cairn, &["--body-limit", "4096"]);

    let (status, health) = get(&server, "/health");
    assert_eq!((status, health["status"].as_str()), (200, Some("healthy")), "{health}");
    assert_eq!(health["plugins"].as_array().unwrap().len(), 2);

    let event = json!({"aggregate_type": "note", "aggregate_id": "n-1", "event_type": "Written", "payload": {"text": "hi"}, "expected_version": "no-stream"});
    let (status, appended) = post(&server, "/events", event.clone());
    assert_eq!(status, 201, "{appended}");
    let id = appended["events"][0]["id"].as_str().unwrap().to_owned();
    let (status, conflict) = post(&server, "/events", event);
    assert_eq!((status, conflict["error"]["code"].as_str()), (409, Some("conflict")), "{conflict}");
    let batch = json!({"events": [
        {"aggregate_type": "note", "aggregate_id": "n-2", "event_type": "Written", "payload": {}},
        {"aggregate_type": "note", "aggregate_id": "n-2", "event_type": "Erased", "payload": {}},
    ], "expectations": [{"aggregate_type": "note", "aggregate_id": "n-2", "expected_version": 0}]});
    assert_eq!(post(&server, "/events/batch", batch).0, 201);
    let (status, bad) = post(&server, "/events", json!({"aggregate_type": "note", "aggregate_id": "n", "event_type": "X", "payload": {}, "colour": "red"}));
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("bad_request")), "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("colour"), "{bad}");
    let (status, malformed) = call(agent().post(&server.url("/events")).set("content-type", "application/json"), None);
    assert_eq!(status, 400, "{malformed}");
    let large = json!({"aggregate_type": "note", "aggregate_id": "n", "event_type": "X", "payload": {"text": "x".repeat(5000)}});
    assert_eq!(post(&server, "/events", large).0, 413);

    let (_, page) = get(&server, "/events?aggregate_type=note&limit=2");
    assert_eq!((page["events"].as_array().unwrap().len(), page["next_after"].as_u64()), (2, Some(2)));
    let (_, rest) = get(&server, "/events?aggregate_type=note&after=2");
    assert_eq!(rest["events"][0]["event_type"], "Erased");
    assert_eq!(get(&server, "/events?type=Erased").1["events"].as_array().unwrap().len(), 1);
    let (status, bad_filter) = get(&server, "/events?since=yesterday");
    assert_eq!(status, 400, "{bad_filter}");
    assert_eq!(get(&server, "/events?colour=red").0, 400);
    assert_eq!(get(&server, &format!("/events/{id}")).1["payload"]["text"], "hi");
    assert_eq!(get(&server, "/events/00000000-0000-0000-0000-000000000000").0, 404);
    assert_eq!(get(&server, "/events/stats").1["total_events"], 3);
    assert_eq!(get(&server, "/streams/note/n-2?from_version=2").1["events"].as_array().unwrap().len(), 1);

    let (status, opened) = post(&server, "/commands/bank-account/acc-1", json!({"command_type": "Open", "payload": {"owner": "Ann"}}));
    assert_eq!((status, opened["stream_version"].as_u64()), (200, Some(1)), "{opened}");
    assert_eq!(post(&server, "/commands/bank-account/acc-1", json!({"command_type": "Deposit", "payload": {"amount": 30}})).0, 200);
    let (status, rejected) = post(&server, "/commands/bank-account/acc-1", json!({"command_type": "Withdraw", "payload": {"amount": 1000}}));
    assert_eq!((status, rejected["error"]["code"].as_str()), (422, Some("rejected")), "{rejected}");
    assert_eq!(post(&server, "/commands/nothing/x", json!({"command_type": "Open"})).0, 404);
    assert_eq!(get(&server, "/aggregates/bank-account/acc-1").1["state"]["balance"], 30);
    assert_eq!(get(&server, "/aggregates/bank-account/acc-1?at_version=1").1["state"]["balance"], 0);

    // The server runs the handlers as live projections.
    wait_for("the projection served the deposit", || get(&server, "/read-models/account-summary/accounts/acc-1").1["balance"] == 30);
    assert_eq!(get(&server, "/read-models/account-summary/accounts?prefix=acc-").1["documents"].as_array().unwrap().len(), 1);
    assert_eq!(get(&server, "/read-models/account-summary/accounts/missing").0, 404);

    let (status, started) = post(&server, "/replay", json!({"handlers": ["account-summary"], "checkpoint": "over-http"}));
    assert_eq!(status, 202, "{started}");
    let job = started["id"].as_str().unwrap().to_owned();
    wait_for("the replay job completed", || get(&server, &format!("/replay/{job}")).1["status"] == "completed");
    assert_eq!(get(&server, &format!("/replay/{job}")).1["result"][0]["processed"], 2);
    assert_eq!(get(&server, "/replay").1["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(post(&server, "/replay", json!({"handlers": ["nobody"]})).0, 404);
    assert_eq!(get(&server, "/dead-letters").1["dead_letters"], json!([]));
    let (status, missing) = get(&server, "/no/such/route");
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")));
    assert!(server.stop().success(), "SIGTERM ends the server cleanly");
}

#[test]
fn tokens_decide_who_may_read_write_and_administer() {
    let cairn = Cairn::with_sqlite();
    let refused = cairn.run(&["serve", "--listen", "0.0.0.0:0"]);
    super::assert_exit(&refused, 2);
    assert!(super::stderr(&refused).contains("refusing to listen on 0.0.0.0:0 without tokens"), "{}", super::stderr(&refused));
    assert_eq!(cairn.run(&["serve", "--tokens", "sha256:abc read"]).status.code(), Some(2));

    let mut lines = Vec::new();
    let mut tokens = Vec::new();
    for scope in ["read", "write", "admin"] {
        let output = String::from_utf8(cairn.run(&["token", "new", "--scope", scope]).stdout).unwrap();
        tokens.push(output.lines().next().unwrap().rsplit(' ').next().unwrap().to_owned());
        lines.push(output.lines().nth(1).unwrap().rsplit(": ").next().unwrap().to_owned());
    }
    let server = Server::start(&cairn, &["--tokens", &lines.join(";")]);
    let event = json!({"aggregate_type": "note", "aggregate_id": "n-1", "event_type": "Written", "payload": {}});
    let with = |token: Option<&str>, request: ureq::Request| match token {
        Some(token) => request.set("authorization", &format!("Bearer {token}")),
        None => request,
    };
    let read = |token: Option<&str>| call(with(token, agent().get(&server.url("/events"))), None).0;
    let write = |token: Option<&str>| call(with(token, agent().post(&server.url("/events"))), Some(event.clone())).0;
    let admin = |token: Option<&str>| call(with(token, agent().get(&server.url("/replay"))), None).0;
    let (reader, writer, administrator) = (Some(tokens[0].as_str()), Some(tokens[1].as_str()), Some(tokens[2].as_str()));
    assert_eq!([read(None), write(None), admin(None)], [401, 401, 401]);
    assert_eq!([read(Some("wrong")), write(Some("wrong")), admin(Some("wrong"))], [401, 401, 401]);
    assert_eq!([read(reader), write(reader), admin(reader)], [200, 403, 403]);
    assert_eq!([read(writer), write(writer), admin(writer)], [200, 201, 403]);
    assert_eq!([read(administrator), write(administrator), admin(administrator)], [200, 201, 200]);
    assert_eq!(get(&server, "/health").0, 200, "health is open to probes");
    let (_, forbidden) = call(with(reader, agent().post(&server.url("/events"))), Some(event.clone()));
    assert_eq!(forbidden["error"]["message"], "this needs the write scope; the token has read");
}

#[test]
fn the_live_stream_resumes_after_last_event_id() {
    let cairn = Cairn::with_sqlite();
    for index in 1..=3 {
        super::assert_exit(&cairn.run(&["append", "note", &format!("n-{index}"), "Written", "{}"]), 0);
    }
    let server = Server::start(&cairn, &[]);
    let response = agent().get(&server.url("/events/stream?type=Written")).set("last-event-id", "1").call().unwrap();
    let mut lines = BufReader::new(response.into_reader()).lines();
    let mut next_id = || loop {
        let line = lines.next().expect("the stream stays open").unwrap();
        if let Some(id) = line.strip_prefix("id: ") {
            return id.parse::<u64>().unwrap();
        }
    };
    assert_eq!((next_id(), next_id()), (2, 3), "resumes right after the last id it saw");
    super::assert_exit(&cairn.run(&["append", "note", "n-4", "Ignored", "{}"]), 0);
    super::assert_exit(&cairn.run(&["append", "note", "n-5", "Written", "{}"]), 0);
    assert_eq!(next_id(), 5, "new events arrive live, filtered");
    let (status, bad) = call(agent().get(&server.url("/events/stream")).set("last-event-id", "soon"), None);
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("bad_request")));
}
