//! `cairn publish` against the real NATS server: 50,000 events through a
//! publisher killed with `kill -9` twice, read back from JetStream exactly
//! once each and in log order per subject; and an event the server refuses,
//! dead-lettered while the others go on.
#![cfg(cairn_nats)]

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Stdio};
use std::time::Duration;

use super::{assert_exit, json_lines, Cairn};

fn nats_url() -> String {
    std::env::var("CAIRN_TEST_NATS_URL").expect("these tests were built for NATS, but CAIRN_TEST_NATS_URL is not set now")
}

/// A stream and subject prefix of this test's own.
fn names() -> (String, String) {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    (format!("CAIRN_TEST_{unique}"), format!("t{unique}"))
}

fn start_publisher(cairn: &Cairn, stream: &str, prefix: &str) -> Child {
    cairn
        .command()
        .args(["publish", "--nats", &nats_url(), "--nats-stream", stream, "--nats-subject-prefix", prefix, "--lease-ttl", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn published(cairn: &Cairn, stream: &str) -> u64 {
    let name = format!("publisher:{stream}");
    json_lines(&cairn.run(&["checkpoint", "list", "--json"])).iter().find(|checkpoint| checkpoint["name"] == name.as_str()).map_or(0, |checkpoint| checkpoint["position"].as_u64().unwrap())
}

fn kill_9(mut publisher: Child) {
    assert_exit(&std::process::Command::new("kill").args(["-9", &publisher.id().to_string()]).output().unwrap(), 0);
    publisher.wait().unwrap();
}

/// Every message of the stream: (subject, event id, global position).
fn read_back(stream: &str, expected: usize) -> Vec<(String, String, u64)> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use futures::StreamExt;
        let client = async_nats::connect(nats_url()).await.unwrap();
        let jetstream = async_nats::jetstream::new(client);
        let mut source = jetstream.get_stream(stream).await.unwrap();
        assert_eq!(source.info().await.unwrap().state.messages, expected as u64, "the stream holds each event once");
        let consumer = source
            .create_consumer(async_nats::jetstream::consumer::pull::Config { ack_policy: async_nats::jetstream::consumer::AckPolicy::None, ..Default::default() })
            .await
            .unwrap();
        let mut messages = consumer.messages().await.unwrap();
        let mut read = Vec::with_capacity(expected);
        while read.len() < expected {
            let message = tokio::time::timeout(Duration::from_secs(30), messages.next()).await.expect("the stream delivers").unwrap().unwrap();
            let headers = message.headers.clone().unwrap();
            let id = headers.get(async_nats::header::NATS_MESSAGE_ID).map(|value| value.as_str().to_owned()).unwrap_or_else(|| panic!("no Nats-Msg-Id in {headers:?}"));
            let position = headers.get("Cairn-Global-Position").map(|value| value.as_str().to_owned()).unwrap_or_else(|| panic!("no Cairn-Global-Position in {headers:?}"));
            read.push((message.subject.to_string(), id, position.parse().unwrap()));
        }
        jetstream.delete_stream(stream).await.unwrap();
        read
    })
}

#[test]
fn fifty_thousand_events_survive_two_kill_9s_and_arrive_once_each_in_order() {
    const EVENTS: u64 = 50_000;
    let cairn = Cairn::with_sqlite();
    let file = cairn.directory().join("events.jsonl");
    let lines: Vec<String> = (0..EVENTS)
        .map(|index| {
            let (aggregate_type, event_type) = [("account", "Deposited"), ("account", "Withdrawn"), ("order", "Placed")][index as usize % 3];
            format!(r#"{{"aggregate_type":"{aggregate_type}","aggregate_id":"a-{}","event_type":"{event_type}","payload":{{"n":{index}}},"correlation_id":"c-{index}"}}"#, index % 200)
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    assert_exit(&cairn.run(&["append", "--file", &file.to_string_lossy()]), 0);
    let (stream, prefix) = names();

    let first = start_publisher(&cairn, &stream, &prefix);
    cairn.wait_until("the first publisher published something", |cairn| published(cairn, &stream) > 0);
    kill_9(first);
    let at_first_kill = published(&cairn, &stream);
    let second = start_publisher(&cairn, &stream, &prefix);
    cairn.wait_until("the second publisher went further", |cairn| published(cairn, &stream) > at_first_kill);
    kill_9(second);
    let third = start_publisher(&cairn, &stream, &prefix);
    cairn.wait_until("every event was published", |cairn| published(cairn, &stream) == EVENTS);
    kill_9(third);

    let read = read_back(&stream, EVENTS as usize);
    let ids: HashSet<&str> = read.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), EVENTS as usize, "each event id once");
    let logged: HashSet<String> = json_lines(&cairn.run(&["log", "--raw", "--limit", "10000"])).iter().map(|event| event["id"].as_str().unwrap().to_owned()).collect();
    assert!(logged.iter().all(|id| ids.contains(id.as_str())), "the messages are the log's events");
    let mut by_subject: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (subject, _, position) in &read {
        by_subject.entry(subject.as_str()).or_default().push(*position);
    }
    assert_eq!(by_subject.keys().copied().collect::<Vec<_>>(), [format!("{prefix}.account.Deposited"), format!("{prefix}.account.Withdrawn"), format!("{prefix}.order.Placed")]);
    for (subject, positions) in by_subject {
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{subject} is in log order");
    }
}

#[test]
fn an_event_the_server_refuses_is_dead_lettered_and_the_others_go_on() {
    let cairn = Cairn::with_sqlite();
    // The middle event is larger than the NATS server's max_payload (1 MiB).
    let file = cairn.directory().join("events.jsonl");
    let huge = format!(r#"{{"aggregate_type":"doc","aggregate_id":"d-2","event_type":"Huge","payload":{{"blob":"{}"}}}}"#, "x".repeat(1_500_000));
    let small = |id: &str| format!(r#"{{"aggregate_type":"doc","aggregate_id":"{id}","event_type":"Small","payload":{{}}}}"#);
    std::fs::write(&file, [small("d-1"), huge, small("d-3")].join("\n") + "\n").unwrap();
    assert_exit(&cairn.run(&["append", "--max-payload-bytes", "2000000", "--file", &file.to_string_lossy()]), 0);
    let (stream, prefix) = names();
    let publisher = start_publisher(&cairn, &stream, &prefix);
    cairn.wait_until("the publisher passed every event", |cairn| published(cairn, &stream) == 3);
    kill_9(publisher);
    let letters = json_lines(&cairn.run(&["dead-letter", "list", "--json"]));
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!((letters[0]["handler"].as_str(), letters[0]["event_type"].as_str()), (Some(format!("publisher:{stream}").as_str()), Some("Huge")));
    assert!(letters[0]["error"].as_str().unwrap().contains("max_payload"), "{}", letters[0]);
    let read = read_back(&stream, 2);
    assert_eq!(read.iter().map(|(_, _, position)| *position).collect::<Vec<_>>(), [1, 3]);
}

/// Two servers with `--publish` on one store: one holds the publisher's
/// lease, and every event reaches the stream once.
#[test]
fn of_two_servers_publishing_one_holds_the_lease_and_each_event_arrives_once() {
    let cairn = Cairn::with_sqlite();
    let (stream, prefix) = names();
    let flags = ["--no-projections", "--lease-ttl", "1s", "--publish", &nats_url(), "--nats-stream", &stream, "--nats-subject-prefix", &prefix, "--publish-type", "Kept"];
    let servers = [super::serve::Server::start(&cairn, &flags), super::serve::Server::start(&cairn, &flags)];
    for index in 0..100 {
        let event_type = if index % 10 == 0 { "Dropped" } else { "Kept" };
        let (status, body) = super::serve::post(&servers[index % 2], "/events", serde_json::json!({"aggregate_type": "note", "aggregate_id": format!("n-{index}"), "event_type": event_type, "payload": {}}));
        assert_eq!(status, 201, "{body}");
    }
    cairn.wait_until("the publisher passed every event", |cairn| published(cairn, &stream) == 100);
    let holders: Vec<String> = json_lines(&cairn.run(&["cluster", "status", "--json"]))
        .into_iter()
        .filter(|line| line["name"] == format!("publisher:{stream}").as_str() && line["expired"] == false)
        .map(|line| line["holder"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(holders.len(), 1, "one publisher at a time: {holders:?}");
    let read = read_back(&stream, 90);
    assert!(read.iter().all(|(subject, _, _)| subject.ends_with(".note.Kept")), "--publish-type selects");
}
