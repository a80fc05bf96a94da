//! What `cairn exec` answers: the whole outcome by default, or with
//! `--output summary` only what a caller that sent the command needs; and
//! `--commands` input as programs write it (CRLF line ends, blank lines).

use serde_json::Value;

use super::{assert_exit, json_lines, Cairn};

crate::on_both_backends!(a_summary_answer_names_the_outcome_without_the_events, command_lines_with_crlf_ends_and_blank_lines_are_numbered_as_written);

fn a_summary_answer_names_the_outcome_without_the_events(cairn: Cairn) {
    cairn.add_plugin("bank-account");
    let output = cairn.run(&["exec", "bank-account", "acc-1", "Open", r#"{"owner":"Ann"}"#, "--output", "summary"]);
    assert_exit(&output, 0);
    let summary = &json_lines(&output)[0];
    assert_eq!(summary["stream_version"], 1, "{summary}");
    assert_eq!(summary["event_types"], serde_json::json!(["AccountOpened"]), "{summary}");
    assert_eq!(summary["aggregate_id"], "acc-1");
    assert!(summary["command_id"].as_str().is_some_and(|id| !id.is_empty()), "{summary}");
    assert!(summary.get("events").is_none(), "a summary carries no event bodies: {summary}");
    let output = cairn.run(&["exec", "bank-account", "acc-1", "Deposit", r#"{"amount":5}"#]);
    assert_exit(&output, 0);
    let full = &json_lines(&output)[0];
    assert_eq!(full["events"][0]["payload"]["amount"], 5, "the default answer is the whole outcome: {full}");
    assert_eq!(full["stream_version"], 2);
}

fn command_lines_with_crlf_ends_and_blank_lines_are_numbered_as_written(cairn: Cairn) {
    cairn.add_plugin("bank-account");
    let input = concat!(
        r#"{"aggregate_type":"bank-account","aggregate_id":"acc-9","command_type":"Open","payload":{"owner":"Bo"}}"#,
        "\r\n\r\n",
        r#"{"aggregate_type":"bank-account","aggregate_id":"acc-9","command_type":"Withdraw","payload":{"amount":50}}"#,
        "\r\n",
        r#"{"aggregate_type":"bank-account","aggregate_id":"acc-9","command_type":"Deposit","payload":{"amount":70}}"#,
    );
    let output = cairn.run_with_input(&["exec", "--commands", "-", "--output", "summary"], input.as_bytes());
    assert_exit(&output, 1);
    let lines = json_lines(&output);
    let numbers: Vec<&Value> = lines.iter().map(|line| &line["line"]).collect();
    assert_eq!(numbers, [1, 3, 4], "the blank line counts but gets no answer: {lines:?}");
    assert_eq!(lines[0]["outcome"]["event_types"], serde_json::json!(["AccountOpened"]), "{lines:?}");
    assert_eq!((lines[1]["ok"].as_bool(), lines[1]["error"].as_str()), (Some(false), Some("rejected")), "{lines:?}");
    assert_eq!(lines[2]["outcome"]["stream_version"], 2, "the last line, without a line end, runs too: {lines:?}");
}
