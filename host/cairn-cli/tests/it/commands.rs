//! Commands through aggregate plugins, on both backends.

use std::sync::Arc;

use cairn::command::{CommandError, CommandRequest, Commands};
use cairn::store::StreamRange;
use cairn::{EventStore, JsonText, StreamId};

use crate::support::{add_plugin, plugin_host};

crate::conformance_tests!(
    a_command_appends_what_the_plugin_decided_with_causation_and_correlation,
    a_rejected_command_writes_nothing_and_carries_the_plugin_message,
    malformed_plugin_output_fails_the_command_and_writes_nothing,
    concurrent_commands_on_one_aggregate_keep_the_stream_gapless,
    state_is_the_fold_of_the_stream,
    the_opportunity_aggregate_records_version_1_payloads,
    a_runner_whose_cached_state_is_stale_neither_misdecides_nor_misrejects,
    a_command_sent_twice_with_its_id_runs_once,
);

fn request(aggregate_id: &str, command_type: &str, payload: &str) -> CommandRequest {
    CommandRequest {
        aggregate_type: "bank-account".to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        command_type: command_type.to_owned(),
        payload: JsonText::parse(payload).unwrap(),
        metadata: JsonText::empty_object(),
        command_id: None,
    }
}

async fn bank(store: &Arc<dyn EventStore>) -> Commands {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "bank-account").await;
    Commands::new(host)
}

async fn a_command_appends_what_the_plugin_decided_with_causation_and_correlation(store: Arc<dyn EventStore>) {
    let commands = bank(&store).await;
    let mut open = request("acc-1", "Open", r#"{"owner":"Ann"}"#);
    open.command_id = Some("cmd-1".to_owned());
    open.metadata = JsonText::parse(r#"{"correlation_id":"onboarding-7","user_id":"clerk-2"}"#).unwrap();
    let outcome = commands.execute(open).await.unwrap();
    assert_eq!((outcome.stream_version, outcome.attempts, outcome.plugin_version), (1, 1, 1));
    let event = &outcome.events[0];
    assert_eq!(event.event_type, "AccountOpened");
    assert_eq!(event.causation_id.as_deref(), Some("cmd-1"));
    assert_eq!(event.correlation_id.as_deref(), Some("onboarding-7"));
    assert_eq!(event.user_id.as_deref(), Some("clerk-2"));
    assert_eq!(event.source.as_deref(), Some("bank-account@1"));
    // Without a correlation id in the metadata, the command starts a new correlation.
    let deposit = commands.execute(request("acc-1", "Deposit", r#"{"amount":40}"#)).await.unwrap();
    assert_eq!(deposit.events[0].correlation_id.as_deref(), Some(deposit.command_id.as_str()));
    assert_eq!(store.stream_version(&StreamId::new("bank-account", "acc-1")).await.unwrap(), 2);
}

async fn a_rejected_command_writes_nothing_and_carries_the_plugin_message(store: Arc<dyn EventStore>) {
    let commands = bank(&store).await;
    commands.execute(request("acc-1", "Open", r#"{"owner":"Ann"}"#)).await.unwrap();
    let error = commands.execute(request("acc-1", "Withdraw", r#"{"amount":5}"#)).await.unwrap_err();
    assert!(
        matches!(&error, CommandError::Rejected { plugin, message } if plugin == "bank-account" && message.contains("insufficient funds")),
        "{error}"
    );
    let error = commands.execute(request("acc-2", "Deposit", r#"{"amount":5}"#)).await.unwrap_err();
    assert_eq!(error.to_string(), "the account is not open");
    assert_eq!(store.head_position().await.unwrap(), 1);
}

async fn malformed_plugin_output_fails_the_command_and_writes_nothing(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "test-bad-json").await;
    let commands = Commands::new(host);
    let mut bad = request("x", "BadPayload", "{}");
    bad.aggregate_type = "test-bad-json".to_owned();
    let error = commands.execute(bad).await.unwrap_err();
    assert!(matches!(error, CommandError::Plugin(_)), "{error}");
    assert!(error.to_string().contains("payload is not JSON"), "{error}");
    assert_eq!(store.head_position().await.unwrap(), 0);
}

async fn concurrent_commands_on_one_aggregate_keep_the_stream_gapless(store: Arc<dyn EventStore>) {
    let opener = bank(&store).await;
    opener.execute(request("shared", "Open", r#"{"owner":"Ann"}"#)).await.unwrap();
    // Two independent command runners, as in two processes: neither sees the
    // other's state cache, so they conflict and must retry.
    let runners = [opener.clone().with_max_retries(2), Commands::new(opener.plugins().clone()).with_max_retries(2)];
    let mut tasks = Vec::new();
    for (runner_index, runner) in runners.into_iter().enumerate() {
        for deposit in 1..=15i64 {
            let runner = runner.clone();
            let amount = deposit + 100 * runner_index as i64;
            tasks.push(tokio::spawn(async move {
                (amount, runner.execute(request("shared", "Deposit", &format!(r#"{{"amount":{amount}}}"#))).await)
            }));
        }
    }
    let mut deposited = 0;
    let mut succeeded = 0;
    let mut contended = 0;
    for task in tasks {
        match task.await.unwrap() {
            (amount, Ok(outcome)) => {
                deposited += amount;
                succeeded += 1;
                assert!(outcome.attempts <= 3);
                contended += u64::from(outcome.attempts > 1);
            }
            (_, Err(CommandError::Conflict { attempts, .. })) => {
                assert_eq!(attempts, 3);
                contended += 1;
            }
            (_, Err(other)) => panic!("unexpected failure: {other}"),
        }
    }
    assert!(contended > 0, "thirty simultaneous commands on one stream should have conflicted at least once");
    let stream = StreamId::new("bank-account", "shared");
    let events = store.read_stream(&stream, &StreamRange::default()).await.unwrap();
    let versions: Vec<u64> = events.iter().map(|event| event.stream_version).collect();
    assert_eq!(versions, (1..=1 + succeeded).collect::<Vec<u64>>(), "no gap and no duplicate");
    let state = opener.state("bank-account", "shared").await.unwrap();
    assert_eq!(state.state.to_value()["balance"], deposited);
    assert_eq!(state.stream_version, 1 + succeeded);
}

async fn state_is_the_fold_of_the_stream(store: Arc<dyn EventStore>) {
    let commands = bank(&store).await;
    let unopened = commands.state("bank-account", "acc-1").await.unwrap();
    assert_eq!((unopened.stream_version, unopened.state.to_value()["status"].as_str()), (0, Some("unopened")));
    commands.execute(request("acc-1", "Open", r#"{"owner":"Ann"}"#)).await.unwrap();
    for amount in [10, 20, 30] {
        commands.execute(request("acc-1", "Deposit", &format!(r#"{{"amount":{amount}}}"#))).await.unwrap();
    }
    commands.execute(request("acc-1", "Withdraw", r#"{"amount":15}"#)).await.unwrap();
    // A fresh runner, with nothing cached, folds the whole stream and agrees.
    let fresh = Commands::new(commands.plugins().clone());
    for runner in [&commands, &fresh] {
        let state = runner.state("bank-account", "acc-1").await.unwrap();
        assert_eq!(state.stream_version, 5);
        assert_eq!(state.state.to_value(), serde_json::json!({"status":"open","owner":"Ann","balance":45,"transactions":4}));
    }
    let error = commands.state("no-such-type", "x").await.unwrap_err();
    assert!(error.to_string().contains("registered aggregate types: bank-account"), "{error}");
}

async fn the_opportunity_aggregate_records_version_1_payloads(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "opportunity").await;
    let commands = Commands::new(host);
    let command = |command_type: &str, payload: &str| CommandRequest {
        aggregate_type: "opportunity".to_owned(),
        ..request("opportunity-123", command_type, payload)
    };
    let created = commands
        .execute(command("Create", r#"{"title":"AI Chatbot","ai_solution_type":"nlp","market_size":1000000}"#))
        .await
        .unwrap();
    let event = &created.events[0];
    assert_eq!((event.event_type.as_str(), event.schema_version.as_str()), ("OpportunityCreated", "1.0"));
    assert_eq!(
        event.payload.to_value(),
        serde_json::json!({"opportunity_id":"opportunity-123","title":"AI Chatbot","ai_solution_type":"nlp","market_size":1000000})
    );
    commands.execute(command("Update", r#"{"market_size":2000000}"#)).await.unwrap();
    let error = commands.execute(command("Update", r#"{"market_size":2000000}"#)).await.unwrap_err();
    assert_eq!(error.to_string(), "the update changes nothing");
    commands.execute(command("Archive", r#"{"reason":"merged into opportunity-7"}"#)).await.unwrap();
    let state = commands.state("opportunity", "opportunity-123").await.unwrap().state.to_value();
    assert_eq!((state["status"].as_str(), state["market_size"].as_u64()), (Some("archived"), Some(2_000_000)));
}

async fn a_runner_whose_cached_state_is_stale_neither_misdecides_nor_misrejects(store: Arc<dyn EventStore>) {
    let first = bank(&store).await;
    let second = Commands::new(first.plugins().clone());
    first.execute(request("acc-1", "Open", r#"{"owner":"Ann"}"#)).await.unwrap();
    first.execute(request("acc-1", "Deposit", r#"{"amount":10}"#)).await.unwrap();
    // Another runner (another process, in effect) moves the stream on.
    second.execute(request("acc-1", "Deposit", r#"{"amount":5}"#)).await.unwrap();
    // On its cached state the first runner would reject this (balance 10);
    // on the real stream it succeeds.
    let withdrawn = first.execute(request("acc-1", "Withdraw", r#"{"amount":15}"#)).await.unwrap();
    assert_eq!(withdrawn.stream_version, 4);
    // And a command that appends would be decided on stale state: it
    // conflicts, re-reads and succeeds on the second attempt.
    second.execute(request("acc-1", "Deposit", r#"{"amount":1}"#)).await.unwrap();
    let deposited = first.execute(request("acc-1", "Deposit", r#"{"amount":2}"#)).await.unwrap();
    assert_eq!((deposited.stream_version, deposited.attempts), (6, 2));
    assert_eq!(first.state("bank-account", "acc-1").await.unwrap().state.to_value()["balance"], 3);
}

async fn a_command_sent_twice_with_its_id_runs_once(store: Arc<dyn EventStore>) {
    let commands = bank(&store).await;
    commands.execute(request("acc-1", "Open", r#"{"owner":"Ann"}"#)).await.unwrap();
    let mut deposit = request("acc-1", "Deposit", r#"{"amount":10}"#);
    deposit.command_id = Some("payment-77".to_owned());
    let first = commands.execute(deposit.clone()).await.unwrap();
    assert!(!first.already_executed);
    // Another runner, as after a client's retry against another process.
    let again = Commands::new(commands.plugins().clone()).execute(deposit).await.unwrap();
    assert!(again.already_executed);
    assert_eq!(again.events.iter().map(|event| event.id).collect::<Vec<_>>(), first.events.iter().map(|event| event.id).collect::<Vec<_>>());
    assert_eq!((again.stream_version, again.plugin.as_str(), again.plugin_version), (2, "bank-account", 1));
    assert_eq!(commands.state("bank-account", "acc-1").await.unwrap().state.to_value()["balance"], 10);
    assert_eq!(store.head_position().await.unwrap(), 2, "nothing was written the second time");
}
