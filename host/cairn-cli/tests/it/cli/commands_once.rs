//! Commands with an id run once, however their runs race: concurrent `exec`
//! processes, concurrent HTTP requests with one `Idempotency-Key`, and
//! servers sharing one PostgreSQL store. A retry answers as the first run
//! did, a rejection included; an id re-used for another command is refused.

use std::process::{Child, Stdio};

use serde_json::{json, Value};

use super::serve::{agent, call, get, post, Server};
use super::{assert_exit, json_lines, stderr, Cairn};

crate::on_both_backends!(
    concurrent_exec_runs_of_one_command_id_write_its_events_once,
    concurrent_requests_with_one_idempotency_key_write_once_and_answer_alike,
    a_rejected_command_is_rejected_again_even_once_it_would_pass,
    a_command_id_sent_with_another_command_is_refused_naming_it,
    command_records_are_shown_and_pruned_after_their_ttl,
);

fn open_account(cairn: &Cairn, account: &str) {
    cairn.add_plugin("bank-account");
    assert_exit(&cairn.run(&["exec", "bank-account", account, "Open", r#"{"owner":"Ann"}"#]), 0);
}

fn balance(cairn: &Cairn, account: &str) -> i64 {
    json_lines(&cairn.run(&["state", "bank-account", account]))[0]["balance"].as_i64().unwrap()
}

/// Starts `runs` processes depositing 10 with one command id at once, and
/// answers their outputs once all have ended.
fn race_exec(cairn: &Cairn, command_id: &str, runs: usize) -> Vec<std::process::Output> {
    let children: Vec<Child> = (0..runs)
        .map(|_| {
            cairn
                .command()
                .args(["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":10}"#, "--command-id", command_id])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children.into_iter().map(|child| child.wait_with_output().unwrap()).collect()
}

/// Every answer carries the same events; exactly one says it ran them.
fn assert_one_run(answers: &[Value], round: &str) {
    let fresh = answers.iter().filter(|answer| answer["already_executed"] == false).count();
    assert_eq!(fresh, 1, "round {round}: exactly one run decides, the others answer from its record: {answers:?}");
    let ids = |answer: &Value| answer["events"].as_array().unwrap().iter().map(|event| event["id"].clone()).collect::<Vec<_>>();
    for answer in answers {
        assert_eq!(ids(answer), ids(&answers[0]), "round {round}: every answer names the winner's events");
        assert_eq!(ids(answer).len(), 1, "round {round}: {answer}");
    }
}

fn concurrent_exec_runs_of_one_command_id_write_its_events_once(cairn: Cairn) {
    open_account(&cairn, "acc-1");
    let rounds = (0..30).map(|round| (format!("pair-{round}"), 2)).chain((0..5).map(|round| (format!("six-{round}"), 6)));
    let mut deposits = 0;
    for (command_id, runs) in rounds {
        let outputs = race_exec(&cairn, &command_id, runs);
        let answers: Vec<Value> = outputs
            .iter()
            .map(|output| {
                assert_exit(output, 0);
                serde_json::from_slice(&output.stdout).unwrap()
            })
            .collect();
        assert_one_run(&answers, &command_id);
        deposits += 1;
    }
    assert_eq!(balance(&cairn, "acc-1"), deposits * 10, "each command id deposited once");
    let events = json_lines(&cairn.run(&["read", "bank-account", "acc-1"]));
    assert_eq!(events.len() as i64, deposits + 1, "the stream holds the opening and one deposit per id");
}

fn concurrent_requests_with_one_idempotency_key_write_once_and_answer_alike(cairn: Cairn) {
    open_account(&cairn, "acc-1");
    let server = Server::start(&cairn, &[]);
    race_requests(&[&server, &server], 30);
    assert_eq!(balance(&cairn, "acc-1"), 300);
}

/// 30 rounds of one request per server, all with one key, sent at once.
fn race_requests(servers: &[&Server], rounds: usize) {
    for round in 0..rounds {
        let key = format!("key-{round}");
        let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
            let sent: Vec<_> = servers
                .iter()
                .map(|server| {
                    let key = key.clone();
                    scope.spawn(move || {
                        let request = agent().post(&server.url("/commands/bank-account/acc-1")).set("Idempotency-Key", &key);
                        call(request, Some(json!({"command_type": "Deposit", "payload": {"amount": 10}})))
                    })
                })
                .collect();
            sent.into_iter().map(|request| request.join().unwrap()).collect()
        });
        assert!(answers.iter().all(|(status, _)| *status == 200), "round {round}: {answers:?}");
        let bodies: Vec<Value> = answers.into_iter().map(|(_, body)| body).collect();
        assert_one_run(&bodies, &key);
    }
}

#[cfg(cairn_postgres)]
#[test]
fn two_servers_on_one_postgresql_run_a_command_id_once() {
    let cairn = Cairn::with_postgres();
    open_account(&cairn, "acc-1");
    let (first, second) = (Server::start(&cairn, &[]), Server::start(&cairn, &[]));
    race_requests(&[&first, &second], 30);
    assert_eq!(balance(&cairn, "acc-1"), 300);
}

fn a_rejected_command_is_rejected_again_even_once_it_would_pass(cairn: Cairn) {
    open_account(&cairn, "acc-1");
    let withdraw = |id: &str| cairn.run(&["exec", "bank-account", "acc-1", "Withdraw", r#"{"amount":50}"#, "--command-id", id]);
    let first = withdraw("w-1");
    assert_exit(&first, 4);
    assert!(stderr(&first).contains("insufficient funds"), "{}", stderr(&first));
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":100}"#]), 0);
    let again = withdraw("w-1");
    assert_exit(&again, 4);
    assert_eq!(stderr(&again), stderr(&first), "the retry answers as the first run did");
    assert_eq!(balance(&cairn, "acc-1"), 100, "the retry decided nothing on the newer state");
    // A new id is a new command, decided on the state as it is now.
    assert_exit(&withdraw("w-2"), 0);
    assert_eq!(balance(&cairn, "acc-1"), 50);

    // Over HTTP, the same: 422 with the plugin's message, every time.
    let server = Server::start(&cairn, &[]);
    let body = json!({"command_type": "Withdraw", "payload": {"amount": 500}, "command_id": "w-3"});
    let (status, refused) = post(&server, "/commands/bank-account/acc-1", body.clone());
    assert_eq!(status, 422, "{refused}");
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":1000}"#]), 0);
    assert_eq!(post(&server, "/commands/bank-account/acc-1", body), (422, refused));
}

fn a_command_id_sent_with_another_command_is_refused_naming_it(cairn: Cairn) {
    open_account(&cairn, "acc-1");
    let deposit = |amount: u32| cairn.run(&["exec", "bank-account", "acc-1", "Deposit", &format!(r#"{{"amount":{amount}}}"#), "--command-id", "d-1"]);
    assert_exit(&deposit(10), 0);
    // The same command, spelled differently, is a retry.
    let retry = cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{ "amount" : 10 }"#, "--command-id", "d-1"]);
    assert_exit(&retry, 0);
    assert_eq!(json_lines(&retry)[0]["already_executed"], true);
    let reused = deposit(11);
    assert_exit(&reused, 3);
    assert!(stderr(&reused).contains("command id d-1 already ran, for another payload"), "{}", stderr(&reused));
    let elsewhere = cairn.run(&["exec", "bank-account", "acc-2", "Open", r#"{"owner":"Bo"}"#, "--command-id", "d-1"]);
    assert_exit(&elsewhere, 3);
    assert!(stderr(&elsewhere).contains("for the stream bank-account/acc-1"), "{}", stderr(&elsewhere));
    assert_eq!(balance(&cairn, "acc-1"), 10);

    let server = Server::start(&cairn, &[]);
    let (status, conflict) = post(&server, "/commands/bank-account/acc-1", json!({"command_type": "Deposit", "payload": {"amount": 12}, "command_id": "d-1"}));
    assert_eq!((status, conflict["error"]["code"].as_str()), (409, Some("conflict")), "{conflict}");
    let keyed = |amount: u32| {
        let request = agent().post(&server.url("/commands/bank-account/acc-1")).set("Idempotency-Key", "k-1");
        call(request, Some(json!({"command_type": "Deposit", "payload": {"amount": amount}})))
    };
    assert_eq!(keyed(5).0, 200);
    let (status, reused) = keyed(6);
    assert_eq!(status, 422, "{reused}");
    assert!(reused["error"]["message"].as_str().unwrap().contains("the Idempotency-Key k-1 was already used for another payload"), "{reused}");
    let both = agent().post(&server.url("/commands/bank-account/acc-1")).set("Idempotency-Key", "k-2");
    let (status, mismatch) = call(both, Some(json!({"command_type": "Deposit", "payload": {"amount": 1}, "command_id": "k-3"})));
    assert_eq!(status, 400, "{mismatch}");
    assert_eq!(get(&server, "/aggregates/bank-account/acc-1").1["state"]["balance"], 15);
}

fn command_records_are_shown_and_pruned_after_their_ttl(cairn: Cairn) {
    open_account(&cairn, "acc-1");
    assert_exit(&cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":10}"#, "--command-id", "kept"]), 0);
    let shown = cairn.run(&["command-id", "show", "kept"]);
    assert_exit(&shown, 0);
    let record = &json_lines(&shown)[0];
    assert_eq!((record["result"].as_str(), record["stream_version"].as_u64(), record["command_type"].as_str()), (Some("appended"), Some(2), Some("Deposit")), "{record}");
    assert_exit(&cairn.run(&["command-id", "show", "never-ran"]), 6);
    assert_exit(&cairn.run(&["command-id", "prune"]), 0);
    assert_exit(&cairn.run(&["command-id", "show", "kept"]), 0);
    assert_exit(&cairn.run(&["--command-ttl", "soon", "command-id", "prune"]), 2);
    cairn.wait_until("the record is older than a second, and pruned", |cairn| {
        assert_exit(&cairn.run(&["--command-ttl", "1s", "command-id", "prune"]), 0);
        cairn.run(&["command-id", "show", "kept"]).status.code() == Some(6)
    });
    // After its record is gone, the id runs as a new command.
    let again = cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":10}"#, "--command-id", "kept"]);
    assert_exit(&again, 0);
    assert_eq!(json_lines(&again)[0]["already_executed"], false);
    assert_eq!(balance(&cairn, "acc-1"), 20);
}
