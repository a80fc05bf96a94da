//! `cairn serve` under load: plugin uploads and shutdowns while commands
//! flow, with nothing failed, lost or doubled.

use serde_json::{json, Value};

use super::serve::{agent, get, post, send_bytes, wait_for, Server};
use super::Cairn;

/// Sets the flag when dropped, so that a failing assertion stops the
/// traffic threads instead of leaving the scope waiting for them.
struct StopOnDrop<'flag>(&'flag std::sync::atomic::AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Opens accounts and deposits into them from several clients until told to
/// stop; answers each client's acknowledged deposits, and what failed.
fn deposit_until_stopped(server: &Server, clients: usize, stop: &std::sync::atomic::AtomicBool) -> (Vec<(String, u64, Vec<String>)>, Vec<String>) {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || {
                    let account = format!("acc-{client}");
                    let path = format!("/commands/bank-account/{account}");
                    let mut failures = Vec::new();
                    let mut sources = Vec::new();
                    let (status, opened) = post(server, &path, json!({"command_type": "Open", "payload": {"owner": "Ann"}}));
                    assert_eq!(status, 200, "{opened}");
                    let mut deposited = 0;
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        match agent().post(&server.url(&path)).send_json(json!({"command_type": "Deposit", "payload": {"amount": 1}})) {
                            Ok(response) => {
                                let body: Value = response.into_json().unwrap();
                                deposited += 1;
                                sources.push(body["events"][0]["source"].as_str().unwrap().to_owned());
                            }
                            Err(ureq::Error::Status(status, response)) => failures.push(format!("{status}: {}", response.into_string().unwrap())),
                            Err(ureq::Error::Transport(error)) => {
                                failures.push(format!("transport: {error}"));
                                break;
                            }
                        }
                    }
                    ((account, deposited, sources), failures)
                })
            })
            .collect();
        let mut accounts = Vec::new();
        let mut failures = Vec::new();
        for worker in workers {
            let (account, worker_failures) = worker.join().unwrap();
            accounts.push(account);
            failures.extend(worker_failures);
        }
        (accounts, failures)
    })
}

#[test]
fn a_plugin_uploaded_under_live_commands_serves_the_next_ones_and_none_fail() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("bank-account");
    let server = Server::start(&cairn, &[]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (accounts, failures) = std::thread::scope(|scope| {
        let traffic = scope.spawn(|| deposit_until_stopped(&server, 4, &stop));
        let _stop_traffic_even_on_panic = StopOnDrop(&stop);
        wait_for("commands are flowing", || head_position(&server) >= 40);
        // The same aggregate with other bytes: version 2 of the plugin.
        let second = crate::support::with_custom_section(&crate::support::plugin_bytes("bank-account"), "second build");
        let (status, added) = send_bytes(&server, "/plugins", &second);
        assert_eq!((status, added["version"].as_u64()), (201, Some(2)), "{added}");
        let (status, next) = post(&server, "/commands/bank-account/opened-after-the-upload", json!({"command_type": "Open", "payload": {"owner": "Bo"}}));
        assert_eq!((status, next["events"][0]["source"].as_str()), (200, Some("bank-account@2")), "the next command uses the new version: {next}");
        let before = head_position(&server);
        wait_for("more commands ran after the upload", || head_position(&server) >= before + 40);
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        traffic.join().unwrap()
    });
    assert_eq!(failures, Vec::<String>::new(), "no request failed during the upload");
    for (account, deposited, sources) in accounts {
        assert!(sources.iter().any(|source| source == "bank-account@1") && sources.last().unwrap() == "bank-account@2", "{account}: {sources:?}");
        let switch = sources.iter().position(|source| source == "bank-account@2").unwrap();
        assert!(sources[switch..].iter().all(|source| source == "bank-account@2"), "{account} never went back to version 1");
        assert_eq!(get(&server, &format!("/aggregates/bank-account/{account}")).1["state"]["balance"], deposited, "{account}");
    }
}

#[test]
fn graceful_shutdown_answers_every_request_it_took_and_loses_nothing() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("bank-account");
    cairn.add_plugin("account-summary");
    let server = Server::start(&cairn, &[]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let pid = server.child.id().to_string();
    let (accounts, failures) = std::thread::scope(|scope| {
        let traffic = scope.spawn(|| deposit_until_stopped(&server, 4, &stop));
        let _stop_traffic_even_on_panic = StopOnDrop(&stop);
        wait_for("commands are flowing", || head_position(&server) >= 100);
        let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        let outcome = traffic.join().unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        outcome
    });
    let mut server = server;
    assert!(server.child.wait().unwrap().success(), "SIGTERM ends the server cleanly");
    // Clients stop at the first refused connection; any other failure
    // (a reset mid-request, a 5xx) would mean a request was dropped.
    assert!(failures.iter().all(|failure| failure.starts_with("transport:")), "{failures:?}");
    let stats = cairn.run(&["stats", "--json"]);
    super::assert_exit(&stats, 0);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    let acknowledged: u64 = accounts.iter().map(|(_, deposited, _)| deposited + 1).sum();
    assert_eq!(stats["total_events"].as_u64(), Some(acknowledged), "the store holds exactly the acknowledged commands' events");

    // The projection's checkpoint was committed with its read model, so a
    // restart carries on from it to the same balances.
    let server = Server::start(&cairn, &[]);
    for (account, deposited, _) in &accounts {
        wait_for("the projection caught up after the restart", || {
            get(&server, &format!("/read-models/account-summary/accounts/{account}")).1["balance"].as_u64() == Some(*deposited)
        });
    }
}

#[test]
fn a_sleeping_plugin_holds_only_its_own_call_slots_and_readiness_reports_the_saturation() {
    let cairn = Cairn::with_sqlite();
    cairn.add_plugin("bank-account");
    cairn.add_plugin("test-sleep");
    let server = Server::start(&cairn, &["--plugin-concurrency", "1", "--plugin-time-limit-ms", "3000"]);
    let server = &server;
    std::thread::scope(|scope| {
        // Three calls for one slot: one runs until its CPU time limit, two wait.
        let sleepers: Vec<_> = (0..3)
            .map(|index| scope.spawn(move || post(server, &format!("/commands/test-sleep/s-{index}"), json!({"command_type": "Misbehave", "payload": {}}))))
            .collect();
        wait_for("readiness reports test-sleep saturated", || {
            let (status, health) = get(&server, "/health/ready");
            let calls = &health["plugin_calls"];
            let sleeper = calls["plugins"].as_array().unwrap().iter().find(|reading| reading["plugin"] == "test-sleep").cloned();
            // Saturation is reported, not a reason to be taken out of
            // service: a restart would not make the plugin sleep less.
            status == 200
                && calls["saturated"] == true
                && sleeper.is_some_and(|reading| reading["running"] == 1 && reading["limit"] == 1 && reading["waiting"].as_u64() >= Some(1))
        });
        // Another plugin's command is served at once, by its own slot.
        let (status, opened) = post(&server, "/commands/bank-account/acc-1", json!({"command_type": "Open", "payload": {"owner": "Ann"}}));
        assert_eq!(status, 200, "{opened}");
        for sleeper in sleepers {
            let (status, answer) = sleeper.join().unwrap();
            // A plugin past its limit is a fault of the server's side; the
            // server's log names the limit, the client gets no internals.
            assert_eq!((status, answer["error"]["code"].as_str()), (500, Some("internal")), "each sleeping call ends at its CPU time limit: {answer}");
        }
    });
    assert_eq!(get(&server, "/health/ready").1["plugin_calls"]["saturated"], false, "the saturation clears once the calls end");
}

/// The log's head, from `/health` (`/events/stats` may be up to 5 s old).
fn head_position(server: &Server) -> u64 {
    get(server, "/health").1["store"]["head_position"].as_u64().unwrap()
}
