//! What the web console needs from `cairn serve`, through the real binary:
//! sessions opened with a token, the projections view and rebuild, read-model
//! collections and paging, events as stored, and the console's own files.

use serde_json::{json, Value};

use super::serve::{agent, call, get, post, wait_for, Server};
use super::Cairn;

/// A token of `scope` and the line that configures it.
fn token(cairn: &Cairn, scope: &str) -> (String, String) {
    let output = String::from_utf8(cairn.run(&["token", "new", "--scope", scope]).stdout).unwrap();
    let token = output.lines().next().unwrap().rsplit(' ').next().unwrap().to_owned();
    let line = output.lines().nth(1).unwrap().rsplit(": ").next().unwrap().to_owned();
    (token, line)
}

/// Logs in and answers the session cookie's `name=value`.
fn log_in(server: &Server, token: &str) -> (u16, Value, Option<String>) {
    let response = match agent().post(&server.url("/session")).send_json(json!({ "token": token })) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(error) => panic!("login failed: {error}"),
    };
    let status = response.status();
    let cookie = response.header("set-cookie").map(str::to_owned);
    let body = response.into_json().unwrap();
    (status, body, cookie)
}

fn with_cookie(request: ureq::Request, cookie: &str) -> ureq::Request {
    request.set("cookie", cookie)
}

#[test]
fn a_token_becomes_a_session_cookie_that_writes_only_from_the_servers_own_pages() {
    let cairn = Cairn::with_sqlite();
    let (read_token, read_line) = token(&cairn, "read");
    let (admin_token, admin_line) = token(&cairn, "admin");
    let server = Server::start(&cairn, &["--tokens", &format!("{read_line};{admin_line}")]);
    let origin = server.url("");

    let (status, refused, cookie) = log_in(&server, "not-a-token");
    assert_eq!((status, cookie), (401, None), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("cairn token new"), "{refused}");
    assert_eq!(post(&server, "/session", json!({})).0, 400, "a login without a token is malformed");

    let (status, session, cookie) = log_in(&server, &read_token);
    assert_eq!((status, session["scope"].as_str(), session["via"].as_str()), (200, Some("read"), Some("cookie")), "{session}");
    let set_cookie = cookie.expect("a login sets the cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"] {
        assert!(set_cookie.contains(attribute), "{set_cookie} lacks {attribute}");
    }
    let reader = set_cookie.split(';').next().unwrap().to_owned();
    assert_eq!(call(with_cookie(agent().get(&server.url("/session")), &reader), None).1["scope"], "read");
    assert_eq!(call(with_cookie(agent().get(&server.url("/events")), &reader), None).0, 200);
    let event = json!({"aggregate_type": "note", "aggregate_id": "n-1", "event_type": "Written", "payload": {}});
    let (status, forbidden) = call(with_cookie(agent().post(&server.url("/events")), &reader).set("origin", &origin), Some(event.clone()));
    assert_eq!(status, 403, "a read session cannot write: {forbidden}");

    let (_, _, cookie) = log_in(&server, &admin_token);
    let administrator = cookie.unwrap().split(';').next().unwrap().to_owned();
    let write = |origin: Option<&str>| {
        let request = with_cookie(agent().post(&server.url("/events")), &administrator);
        let request = match origin {
            Some(origin) => request.set("origin", origin),
            None => request,
        };
        call(request, Some(event.clone()))
    };
    assert_eq!(write(Some(&origin)).0, 201, "the console's own page writes");
    let (status, no_origin) = write(None);
    assert_eq!((status, no_origin["error"]["code"].as_str()), (403, Some("cross_origin")), "a cookie without an Origin is not a page of this server: {no_origin}");
    assert_eq!(write(Some("https://attacker.example")).0, 403);
    assert_eq!(get(&server, "/events/stats").0, 401, "no cookie, no token: no access");

    let logout = with_cookie(agent().delete(&server.url("/session")), &administrator).set("origin", &origin).call().unwrap();
    assert_eq!(logout.status(), 204);
    assert!(logout.header("set-cookie").unwrap().contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(call(with_cookie(agent().get(&server.url("/events")), &administrator), None).0, 401, "the session is over");
    assert_eq!(call(with_cookie(agent().get(&server.url("/events")), "cairn_session=forged"), None).0, 401);
}

#[test]
fn an_open_server_says_so_and_sets_no_cookie() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &[]);
    let (status, session, cookie) = log_in(&server, "anything");
    assert_eq!((status, session["access_control"].as_bool(), cookie), (200, Some(false), None), "{session}");
    assert_eq!(get(&server, "/session").1["scope"], "admin");
}

fn projections_rebuilds_and_read_model_pages(cairn: Cairn) {
    cairn.add_plugin("bank-account");
    cairn.add_plugin("account-summary");
    let server = Server::start(&cairn, &[]);
    for index in 0..5 {
        assert_eq!(post(&server, &format!("/commands/bank-account/acc-{index}"), json!({"command_type": "Open", "payload": {"owner": "Ann"}})).0, 200);
    }
    wait_for("the projection caught up", || get(&server, "/projections").1["projections"][0]["lag"] == 0);
    let (_, projections) = get(&server, "/projections");
    let summary = &projections["projections"][0];
    assert_eq!((summary["handler"].as_str(), summary["state"].as_str(), summary["position"].as_u64()), (Some("account-summary"), Some("running"), Some(5)), "{projections}");
    assert_eq!((summary["lag_seconds"].as_f64(), summary["dead_letters"].clone()), (Some(0.0), json!({"failed": 0, "parked": 0})));
    let live = summary["generation"]["live"].as_u64().unwrap();

    let (status, started) = post(&server, "/projections/account-summary/rebuild", json!(null));
    assert_eq!(status, 202, "{started}");
    wait_for("the rebuild completed", || get(&server, "/projections").1["projections"][0]["rebuild"]["status"] == "completed");
    let (_, rebuilt) = get(&server, "/projections");
    assert!(rebuilt["projections"][0]["generation"]["live"].as_u64().unwrap() > live, "a new generation is live: {rebuilt}");
    assert_eq!(get(&server, "/read-models/account-summary/accounts/acc-3").0, 200, "the new generation holds the accounts");
    assert_eq!(post(&server, "/projections/nobody/rebuild", json!(null)).0, 404);

    assert_eq!(get(&server, "/read-models/account-summary").1["collections"], json!(["accounts"]));
    assert_eq!(get(&server, "/read-models/nobody").1["collections"], json!([]));
    let mut keys = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(key) => format!("/read-models/account-summary/accounts?prefix=acc-&limit=2&after={key}"),
            None => "/read-models/account-summary/accounts?prefix=acc-&limit=2".to_owned(),
        };
        let (_, page) = get(&server, &path);
        keys.extend(page["documents"].as_array().unwrap().iter().map(|document| document["key"].as_str().unwrap().to_owned()));
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(keys, ["acc-0", "acc-1", "acc-2", "acc-3", "acc-4"], "pages follow each other without gaps or repeats");
    let (_, after_last) = get(&server, "/read-models/account-summary/accounts?prefix=acc-&after=acc-4");
    assert_eq!(after_last["documents"], json!([]));
}

crate::on_both_backends!(projections_rebuilds_and_read_model_pages);

#[test]
fn the_console_files_are_served_with_a_content_security_policy() {
    let cairn = Cairn::with_sqlite();
    let server = Server::start(&cairn, &[]);
    for file in ["", "/console.js", "/api.js", "/streams.js", "/console.css"] {
        let response = agent().get(&server.url(&format!("/console{file}"))).call().unwrap();
        assert_eq!(response.status(), 200, "/console{file}");
        assert!(response.header("content-security-policy").unwrap().contains("default-src 'self'"), "/console{file}");
    }
    let (status, missing) = get(&server, "/console/secrets.txt");
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("not_found")), "{missing}");
    assert_eq!(get(&server, "/console/..%2FCargo.toml").0, 404);
}

#[test]
fn an_event_is_read_as_stored_or_upcast() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("user-migrator");
    let server = Server::start(&cairn, &[]);
    let old = json!({"aggregate_type": "user", "aggregate_id": "u-1", "event_type": "UserRegistered", "schema_version": "1.0", "payload": {"user_id": "u-1", "email": "ann@example.com", "expertise_domains": "ai,nlp"}});
    let (status, appended) = post(&server, "/events", old);
    assert_eq!(status, 201, "{appended}");
    let id = appended["events"][0]["id"].as_str().unwrap();
    let (_, upcast) = get(&server, &format!("/events/{id}"));
    let (_, raw) = get(&server, &format!("/events/{id}?raw=true"));
    assert_eq!(raw["schema_version"], "1.0", "{raw}");
    assert_eq!(upcast["schema_version"], "1.1", "the migrator upcast it: {upcast}");
    assert_eq!(get(&server, &format!("/events/{id}?raw=maybe")).0, 400);
}
