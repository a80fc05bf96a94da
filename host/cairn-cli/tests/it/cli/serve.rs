//! `cairn serve` end to end: the real binary on a free loopback port, spoken
//! to over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::Cairn;

pub(super) struct Server {
    pub(super) child: Child,
    base: String,
}

impl Server {
    pub(super) fn start(cairn: &Cairn, extra: &[&str]) -> Server {
        Self::start_with(cairn.command(), extra)
    }

    /// `cairn serve` from a command prepared by the caller (its environment).
    pub(super) fn start_with(mut command: std::process::Command, extra: &[&str]) -> Server {
        let mut child = command
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

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(super) fn stop(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub(super) fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build()
}

/// Status and JSON body, whatever the status.
pub(super) fn call(request: ureq::Request, body: Option<Value>) -> (u16, Value) {
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

pub(super) fn get(server: &Server, path: &str) -> (u16, Value) {
    call(agent().get(&server.url(path)), None)
}

pub(super) fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    call(agent().post(&server.url(path)), Some(body))
}

pub(super) fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
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
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("invalid")), "{bad}");
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
    assert_eq!((status, bad["error"]["code"].as_str()), (400, Some("invalid")));
}

pub(super) fn send_bytes(server: &Server, path: &str, bytes: &[u8]) -> (u16, Value) {
    let response = match agent().post(&server.url(path)).set("content-type", "application/wasm").send_bytes(bytes) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("upload failed: {error}"),
    };
    let status = response.status();
    (status, serde_json::from_str(&response.into_string().unwrap()).unwrap())
}

#[test]
fn every_route_in_the_openapi_document_is_served() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &[]);
    let (status, document) = get(&server, "/openapi.json");
    assert_eq!(status, 200);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."), "{}", document["openapi"]);
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        // Path parameters get values that parse everywhere, so a 404 can
        // only come from the fallback or from a missing record.
        let concrete = path.replace("{id}", "1").replace('{', "").replace('}', "");
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let request = agent().request(&method.to_uppercase(), &server.url(&concrete));
            let response = match if method == "post" { request.send_json(json!({})) } else { request.call() } {
                Ok(response) => response,
                Err(ureq::Error::Status(_, response)) => response,
                Err(error) => panic!("{method} {path}: {error}"),
            };
            let status = response.status();
            // Only a 404 needs its body read: the live stream never ends.
            let body: Value = if status == 404 { response.into_json().unwrap() } else { Value::Null };
            let fallback = status == 404 && body["error"]["message"].as_str().is_some_and(|message| message.starts_with("no such route"));
            assert!(!fallback && status != 405, "{} {path} is documented but not routed: {status} {body}", method.to_uppercase());
        }
    }
    assert_eq!(operations, 33, "every endpoint is documented: {:?}", paths.keys().collect::<Vec<_>>());
    assert_eq!(document["paths"]["/plugins"]["post"]["security"], json!([{"bearer": ["admin"]}]));
    assert_eq!(document["paths"]["/health"]["get"]["security"], json!([{}]), "health needs no token");
}

#[test]
fn audit_snapshots_sequence_checks_and_metrics_over_http() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("bank-account");
    cairn.add_plugin("account-summary");
    let server = Server::start(&cairn, &[]);
    let command = |body: Value| post(&server, "/commands/bank-account/acc-1", body);
    assert_eq!(command(json!({"command_type": "Open", "payload": {"owner": "Ann"}, "metadata": {"user_id": "clerk-7"}})).0, 200);
    assert_eq!(command(json!({"command_type": "Deposit", "payload": {"amount": 40}, "metadata": {"user_id": "clerk-9"}})).0, 200);
    let (status, unknown) = command(json!({"command_type": "Transfer", "payload": {}}));
    assert_eq!((status, unknown["error"]["code"].as_str()), (400, Some("invalid")), "{unknown}");
    assert!(unknown["error"]["message"].as_str().unwrap().contains("expected one of"), "{unknown}");

    let (_, audit) = get(&server, "/aggregates/bank-account/acc-1/audit");
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!((entries[1]["user_id"].as_str(), entries[1]["event_type"].as_str()), (Some("clerk-9"), Some("MoneyDeposited")));
    assert_eq!(entries[1]["payload"]["amount"], 40);
    assert_eq!(get(&server, "/aggregates/bank-account/acc-1/audit?user_id=clerk-7").1["entries"].as_array().unwrap().len(), 1);
    assert_eq!(get(&server, "/aggregates/bank-account/acc-1/audit?since=later").0, 400);

    let (status, snapshot) = post(&server, "/snapshots", json!({"aggregate_type": "bank-account", "aggregate_id": "acc-1", "at_version": 1}));
    assert_eq!((status, snapshot["stream_version"].as_u64()), (201, Some(1)), "{snapshot}");
    let (status, empty) = post(&server, "/snapshots", json!({"aggregate_type": "bank-account", "aggregate_id": "nobody"}));
    assert!(status == 404 && empty["error"]["message"].as_str().unwrap().contains("has no events"), "{status} {empty}");
    let (_, snapshots) = get(&server, "/snapshots/bank-account/acc-1");
    assert_eq!(snapshots["snapshots"][0]["state"]["owner"], "Ann", "{snapshots}");
    // A load that misses the state cache starts from the snapshot, which the
    // metrics count.
    assert_eq!(get(&server, "/aggregates/bank-account/acc-1?at_version=2").1["snapshot_version"], 1);

    let sequence = |expected: Value| post(&server, "/validate-sequence", json!({"aggregate_type": "bank-account", "aggregate_id": "acc-1", "expected": expected}));
    assert_eq!(sequence(json!(["AccountOpened", "MoneyDeposited"])).1["is_valid"], true);
    let (_, wrong) = sequence(json!(["AccountOpened", "MoneyWithdrawn"]));
    assert_eq!(wrong["differences"], json!([{"position": 2, "expected": "MoneyWithdrawn", "actual": "MoneyDeposited"}]));
    assert_eq!(sequence(json!(["AccountOpened", " "])).0, 400);

    wait_for("the projection caught up", || get(&server, "/read-models/account-summary/accounts/acc-1").1["balance"] == 40);
    let metrics = agent().get(&server.url("/metrics")).call().unwrap().into_string().unwrap();
    for expected in [
        "cairn_events_appended_total{aggregate_type=\"bank-account\"} 2",
        "cairn_append_duration_seconds_count 2",
        "cairn_plugin_calls_total{plugin=\"bank-account\",function=\"decide\",outcome=\"ok\"}",
        "cairn_plugin_call_duration_seconds_bucket{plugin=\"bank-account\",function=\"decide\",le=\"+Inf\"}",
        "cairn_replay_events_total{handler=\"account-summary\"} 2",
        "cairn_handler_lag_events{handler=\"account-summary\"} 0",
        "cairn_aggregate_loads_total{snapshot=\"hit\"} 1",
        "cairn_http_requests_total{method=\"POST\",route=\"/commands/{aggregate_type}/{aggregate_id}\",status=\"200\"} 2",
    ] {
        assert!(metrics.contains(expected), "/metrics lacks {expected}:\n{metrics}");
    }
}

#[test]
fn plugins_are_uploaded_listed_and_removed_over_http() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &["--upload-limit", "2000000"]);
    let (status, added) = send_bytes(&server, "/plugins", &crate::support::plugin_bytes("bank-account"));
    assert_eq!((status, added["name"].as_str(), added["version"].as_u64()), (201, Some("bank-account"), Some(1)), "{added}");
    assert_eq!(send_bytes(&server, "/plugins", &crate::support::plugin_bytes("bank-account")).0, 200, "the same bytes change nothing");
    let (status, nameless) = send_bytes(&server, "/plugins", &crate::support::plugin_bytes("user-migrator"));
    assert!(status == 400 && nameless["error"]["message"].as_str().unwrap().contains("?name="), "{status} {nameless}");
    assert_eq!(send_bytes(&server, "/plugins?name=users", &crate::support::plugin_bytes("user-migrator")).0, 201);
    let (status, refused) = send_bytes(&server, "/plugins", &crate::support::plugin_bytes("test-no-world"));
    assert!(status == 422 && refused["error"]["message"].as_str().unwrap().contains("exports none of Cairn's worlds"), "{status} {refused}");
    let (status, too_large) = send_bytes(&server, "/plugins", &vec![0u8; 2_000_001]);
    assert_eq!((status, too_large["error"]["code"].as_str()), (413, Some("body_too_large")), "{too_large}");
    assert_eq!(send_bytes(&server, "/plugins", b"").0, 400);

    let (_, listed) = get(&server, "/plugins");
    let names: Vec<&str> = listed["plugins"].as_array().unwrap().iter().map(|plugin| plugin["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["bank-account", "users"]);
    assert_eq!(listed["plugins"][0]["description"]["aggregate_type"], "bank-account");
    assert_eq!(post(&server, "/commands/bank-account/acc-1", json!({"command_type": "Open", "payload": {"owner": "Ann"}})).0, 200, "an uploaded aggregate serves at once");

    let (status, removed) = call(agent().delete(&server.url("/plugins/users")), None);
    assert_eq!((status, removed["removed_versions"].as_u64()), (200, Some(1)));
    assert_eq!(call(agent().delete(&server.url("/plugins/users")), None).0, 404);

    // A handler uploaded while the server runs starts projecting.
    assert_eq!(send_bytes(&server, "/plugins", &crate::support::plugin_bytes("account-summary")).0, 201);
    wait_for("the uploaded handler projected the account", || get(&server, "/read-models/account-summary/accounts/acc-1").0 == 200);
}

/// The live projection of `handler` as `/health` reports it, with the
/// status code of the whole answer.
pub(super) fn projection_health(server: &Server, handler: &str) -> (u16, Value) {
    let (status, health) = get(server, "/health");
    let projection = health["projections"].as_array().unwrap().iter().find(|projection| projection["handler"] == handler).cloned();
    (status, projection.unwrap_or(Value::Null))
}

#[test]
fn a_failed_projection_shows_in_health_and_its_next_version_or_registration_starts_it_again() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &[]);
    assert_eq!(send_bytes(&server, "/plugins", &crate::support::plugin_bytes("picky-handler")).0, 201);
    // Each poisoned event fails after its retries and is dead-lettered; after
    // ten in a row the projection stops instead of dead-lettering the log.
    for stream in 0..10 {
        let poisoned = json!({"aggregate_type": "order", "aggregate_id": format!("poisoned-{stream}"), "event_type": "Placed", "payload": {"poison": true}});
        assert_eq!(post(&server, "/events", poisoned).0, 201);
    }
    wait_for("the projection failed", || projection_health(&server, "picky").1["state"] == "failed");
    let (status, failed) = projection_health(&server, "picky");
    assert_eq!(status, 503, "a failed projection makes the server unhealthy: {failed}");
    assert!(failed["error"].as_str().unwrap().contains("failed on 10 events in a row"), "{failed}");
    let metrics = call(agent().get(&server.url("/metrics")), None).1;
    assert!(metrics.as_str().unwrap().contains("cairn_projection_running{handler=\"picky\"} 0"), "{metrics}");
    // Uploading the same bytes again changes nothing, so the projection stays
    // failed; it waits for the fix.
    assert_eq!(send_bytes(&server, "/plugins", &crate::support::plugin_bytes("picky-handler")).0, 200);
    assert_eq!(projection_health(&server, "picky").1["state"], "failed");

    // A new version is the fix: the projection starts again after the
    // dead-lettered events.
    let fixed = crate::support::with_custom_section(&crate::support::plugin_bytes("picky-handler"), "fixed build");
    assert_eq!(send_bytes(&server, "/plugins", &fixed).0, 201);
    assert_eq!(post(&server, "/events", json!({"aggregate_type": "order", "aggregate_id": "healthy-1", "event_type": "Placed", "payload": {}})).0, 201);
    wait_for("the new version projects", || get(&server, "/read-models/picky/seen/order:healthy-1").0 == 200);
    let (status, running) = projection_health(&server, "picky");
    assert_eq!((status, running["state"].as_str()), (200, Some("running")), "{running}");
    assert_eq!(get(&server, "/dead-letters?handler=picky").1["dead_letters"].as_array().map(Vec::len), Some(10));

    // A removed handler's projection ends without failing, and registering
    // the handler again starts it afresh.
    assert_eq!(call(agent().delete(&server.url("/plugins/picky")), None).0, 200);
    assert_eq!(post(&server, "/events", json!({"aggregate_type": "order", "aggregate_id": "healthy-2", "event_type": "Placed", "payload": {}})).0, 201);
    assert_eq!(send_bytes(&server, "/plugins", &crate::support::plugin_bytes("picky-handler")).0, 201);
    wait_for("the registered-again handler projects", || get(&server, "/read-models/picky/seen/order:healthy-2").0 == 200);
    assert_eq!(projection_health(&server, "picky").1["state"], "running");
    assert!(server.stop().success(), "no projection had failed at shutdown, so the server exits cleanly");
}
