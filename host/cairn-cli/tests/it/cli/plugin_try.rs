//! `cairn plugin try` and `plugin add --shadow`, as a plugin author runs
//! them: a changed aggregate, migrator or handler built from a template and
//! run over stored history beside the active version.

use super::plugin_project::run_in_project;
use super::{assert_exit, json_lines, stderr, Cairn};

/// A changed aggregate (additions capped at 1,000): exactly the streams
/// with a larger addition differ, over the CLI and HTTP.
#[test]
fn plugin_try_names_exactly_the_streams_a_changed_aggregate_would_fold_differently() {
    let cairn = Cairn::with_sqlite();
    let project = cairn.directory().join("ledger");
    let project_text = project.to_string_lossy().into_owned();
    assert_exit(&cairn.run(&["plugin", "new", "--lang", "rust", "--kind", "aggregate", "ledger", &project_text]), 0);
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project_text]), 0);
    let component = format!("{project_text}/ledger.wasm");
    // A first version has nothing to be compared with.
    let first = cairn.run(&["plugin", "add", "--shadow", &component]);
    assert_exit(&first, 0);
    assert!(String::from_utf8_lossy(&first.stdout).contains("nothing to compare"), "{}", String::from_utf8_lossy(&first.stdout));
    for (stream, amounts) in [("small", &[5, 900][..]), ("large", &[5, 2_000, 7]), ("larger", &[1_500])] {
        for amount in amounts {
            assert_exit(&cairn.run(&["exec", "ledger", stream, "Add", &format!(r#"{{"amount":{amount}}}"#)]), 0);
        }
    }
    let clean = cairn.run(&["plugin", "try", &component]);
    assert_exit(&clean, 0);
    assert!(String::from_utf8_lossy(&clean.stdout).contains("compared 3 ledger streams (6 events) with the active version 1: 0 differ"), "{}", String::from_utf8_lossy(&clean.stdout));

    // The candidate caps each addition at 1,000.
    let source = project.join("src/lib.rs");
    let capped = std::fs::read_to_string(&source).unwrap().replace("state.value += amount", "state.value += amount.min(1_000)");
    std::fs::write(&source, capped).unwrap();
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project_text]), 0);
    let log_before = json_lines(&cairn.run(&["log"]));
    let tried = cairn.run(&["plugin", "try", &component, "--json"]);
    assert_exit(&tried, 1);
    assert!(stderr(&tried).contains("2 of 3 ledger streams would fold differently"), "{}", stderr(&tried));
    let report: serde_json::Value = serde_json::from_slice(&tried.stdout).unwrap();
    let differing = report["differing"].as_array().unwrap();
    let streams: Vec<&str> = differing.iter().map(|difference| difference["aggregate_id"].as_str().unwrap()).collect();
    assert_eq!(streams, ["large", "larger"]);
    assert_eq!(differing[0]["first_diverging_version"], 2, "large first differs after its 2,000");
    assert_eq!(differing[0]["differences"], serde_json::json!([{"path": "/value", "active": 2012, "candidate": 1012}]));
    assert_eq!(differing[1]["first_diverging_version"], 1);
    let table = cairn.run(&["plugin", "try", &component]);
    assert!(String::from_utf8_lossy(&table.stdout).contains("/value: 2012 → 1012"), "{}", String::from_utf8_lossy(&table.stdout));
    let limited: serde_json::Value = serde_json::from_slice(&cairn.run(&["plugin", "try", &component, "--json", "--limit", "1"]).stdout).unwrap();
    assert_eq!(limited["streams_compared"], 1);
    assert_eq!(json_lines(&cairn.run(&["log"])), log_before, "a shadow run writes nothing");
    assert!(json_lines(&cairn.run(&["plugin", "list", "--json"])).iter().all(|record| record["version"] == 1), "and registers nothing");

    // Over HTTP, an upload with shadow=true is refused with the report...
    let server = super::serve::Server::start(&cairn, &[]);
    let upload = |query: &str| {
        let request = super::serve::agent().post(&server.url(&format!("/plugins?{query}"))).set("content-type", "application/wasm");
        let response = match request.send_bytes(&std::fs::read(&component).unwrap()) {
            Ok(response) | Err(ureq::Error::Status(_, response)) => response,
            Err(error) => panic!("upload failed: {error}"),
        };
        (response.status(), serde_json::from_str::<serde_json::Value>(&response.into_string().unwrap()).unwrap())
    };
    let (status, refused) = upload("shadow=true");
    assert_eq!(status, 409, "{refused}");
    assert_eq!((refused["error"].as_str(), refused["shadow"]["kind"].as_str(), refused["shadow"]["differing"].as_array().map(Vec::len)), (Some("shadow_differences"), Some("aggregate"), Some(2)), "{refused}");
    assert_eq!(upload("accept_differences=true").0, 400, "accept_differences needs shadow");
    drop(server);
    // ...and so is `plugin add --shadow`...
    let refused = cairn.run(&["plugin", "add", "--shadow", &component]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("refused: 2 of 3 ledger streams would fold differently"), "{}", stderr(&refused));
    assert!(json_lines(&cairn.run(&["plugin", "list", "--json"])).iter().all(|record| record["version"] == 1), "nothing was registered");
    assert_exit(&cairn.run(&["plugin", "add", "--accept-differences", &component]), 2);
    // ...unless the differences are accepted.
    assert_exit(&cairn.run(&["plugin", "add", "--shadow", "--accept-differences", &component]), 0);
    assert!(json_lines(&cairn.run(&["plugin", "list", "--json"])).iter().any(|record| record["version"] == 2 && record["active"] == true));
}

/// A migrator changed to fail on one stored event: the shadow run names
/// that event, and `plugin add --shadow` refuses the change.
#[test]
fn plugin_try_names_the_stored_event_a_changed_migrator_fails_on_and_add_shadow_refuses_it() {
    let cairn = Cairn::with_sqlite();
    let events = cairn.directory().join("events.jsonl");
    let lines: Vec<String> = [1, 13, 2].iter().map(|amount| format!(r#"{{"aggregate_type":"counter","aggregate_id":"c-1","event_type":"Added","payload":{{"amount":{amount}}}}}"#)).collect();
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    assert_exit(&cairn.run(&["append", "--file", &events.to_string_lossy()]), 0);
    let unlucky = json_lines(&cairn.run(&["log", "--raw"])).into_iter().find(|event| event["payload"]["amount"] == 13).unwrap()["id"].as_str().unwrap().to_owned();

    let project = cairn.directory().join("units");
    let project_text = project.to_string_lossy().into_owned();
    assert_exit(&cairn.run(&["plugin", "new", "--lang", "rust", "--kind", "migrator", "units", &project_text]), 0);
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project_text]), 0);
    let component = format!("{project_text}/units.wasm");
    assert_exit(&cairn.run(&["plugin", "add", &component]), 0);
    let clean = cairn.run(&["plugin", "try", &component]);
    assert_exit(&clean, 0);
    assert!(String::from_utf8_lossy(&clean.stdout).contains("compared 3 stored events of Added with the active version 1 of units: 0 differ"), "{}", String::from_utf8_lossy(&clean.stdout));

    let source = project.join("src/lib.rs");
    let failing = std::fs::read_to_string(&source).unwrap().replace(
        "let mut payload = event.body;",
        "let mut payload = event.body;\n        if payload[\"amount\"] == 13 {\n            return Err(PluginError::invalid(\"thirteen is unlucky\"));\n        }",
    );
    std::fs::write(&source, failing).unwrap();
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project_text]), 0);
    let tried = cairn.run(&["plugin", "try", &component, "--json"]);
    assert_exit(&tried, 1);
    assert!(stderr(&tried).contains("1 of 3 stored events would upcast differently"), "{}", stderr(&tried));
    let report: serde_json::Value = serde_json::from_slice(&tried.stdout).unwrap();
    assert_eq!(report["kind"], "migrator");
    let differing = report["differing"].as_array().unwrap();
    assert_eq!(differing.len(), 1, "{report}");
    assert_eq!(differing[0]["event_id"], unlucky.as_str(), "the shadow run names the event");
    assert!(differing[0]["candidate_error"].as_str().unwrap().contains("thirteen is unlucky"), "{report}");
    assert_eq!(differing[0]["active_error"], serde_json::Value::Null);

    let refused = cairn.run(&["plugin", "add", "--shadow", &component]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("refused: 1 of 3 stored events would upcast differently"), "{}", stderr(&refused));
    assert!(json_lines(&cairn.run(&["plugin", "list", "--json"])).iter().all(|record| record["version"] == 1), "nothing was registered");
}

/// A changed handler, built into a throwaway generation up to the live
/// projection's checkpoint: each document it would add, remove or change is
/// named, and so is the event it would fail on; nothing is written.
#[test]
fn plugin_try_names_the_documents_a_changed_handler_would_add_remove_or_change() {
    let cairn = Cairn::with_sqlite();
    let project = cairn.directory().join("tally");
    let project_text = project.to_string_lossy().into_owned();
    assert_exit(&cairn.run(&["plugin", "new", "--lang", "rust", "--kind", "handler", "tally", &project_text]), 0);
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project_text]), 0);
    let component = format!("{project_text}/tally.wasm");
    assert_exit(&cairn.run(&["plugin", "add", &component]), 0);
    for event_type in ["Added", "Added", "Reset", "Poison"] {
        assert_exit(&cairn.run(&["append", "counter", "c-1", event_type, "{}"]), 0);
    }
    let unprojected = cairn.run(&["plugin", "try", &component]);
    assert_exit(&unprojected, 6);
    assert!(stderr(&unprojected).contains("handler tally has no live read model yet") && stderr(&unprojected).contains("cairn replay --handler tally"), "{}", stderr(&unprojected));
    let skipped = cairn.run(&["plugin", "add", "--shadow", &component]);
    assert!(String::from_utf8_lossy(&skipped.stdout).contains("nothing to compare"), "{}", String::from_utf8_lossy(&skipped.stdout));
    assert_exit(&cairn.run(&["replay", "--handler", "tally"]), 0);
    let clean = cairn.run(&["plugin", "try", &component]);
    assert_exit(&clean, 0);
    assert!(String::from_utf8_lossy(&clean.stdout).contains("compared its 3 documents with the live generation 0 of version 1: 0 added, 0 removed, 0 changed; 0 events fail"), "{}", String::from_utf8_lossy(&clean.stdout));

    // The candidate fails on Poison, ignores Reset, counts in tens, and
    // keeps a new total.
    let source = project.join("src/lib.rs");
    let changed = std::fs::read_to_string(&source).unwrap().replace(
        "let count: u64 = read_models.get(\"counts\", &event.event_type)?.unwrap_or(0);\n        read_models.put(\"counts\", &event.event_type, &(count + 1))",
        "if event.event_type == \"Poison\" {\n            return Err(PluginError::invalid(\"poisoned\"));\n        }\n        if event.event_type == \"Reset\" {\n            return Ok(());\n        }\n        let count: u64 = read_models.get(\"counts\", &event.event_type)?.unwrap_or(0);\n        read_models.put(\"counts\", &event.event_type, &(count + 10))?;\n        read_models.put(\"totals\", \"all\", &1)",
    );
    std::fs::write(&source, changed).unwrap();
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project_text]), 0);
    assert_exit(&cairn.run(&["append", "counter", "c-2", "Added", "{}"]), 0);
    let tried = cairn.run(&["plugin", "try", &component, "--json"]);
    assert_exit(&tried, 1);
    let report: serde_json::Value = serde_json::from_slice(&tried.stdout).unwrap();
    assert_eq!((report["kind"].as_str(), report["position"].as_u64(), report["events_handled"].as_u64()), (Some("handler"), Some(4), Some(3)), "up to the live checkpoint only: {report}");
    let differing: Vec<(&str, &str, &str)> = report["differing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|difference| (difference["collection"].as_str().unwrap(), difference["key"].as_str().unwrap(), difference["change"].as_str().unwrap()))
        .collect();
    assert_eq!(differing, [("counts", "Added", "changed"), ("counts", "Poison", "removed"), ("counts", "Reset", "removed"), ("totals", "all", "added")], "{report}");
    assert_eq!(report["differing"][0]["differences"], serde_json::json!([{"path": "", "active": 2, "candidate": 20}]));
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{report}");
    assert_eq!((failures[0]["event_type"].as_str(), failures[0]["global_position"].as_u64()), (Some("Poison"), Some(4)));
    assert!(failures[0]["error"].as_str().unwrap().contains("poisoned"), "{report}");
    assert!(stderr(&tried).contains("4 of 4 tally documents would differ") && stderr(&tried).contains("it fails on 1 events"), "{}", stderr(&tried));
    let table = String::from_utf8_lossy(&cairn.run(&["plugin", "try", &component]).stdout).into_owned();
    assert!(table.contains("counts/Added") && table.contains("(the document): 2 → 20") && table.contains("poisoned"), "{table}");
    assert_exit(&cairn.run(&["plugin", "try", &component, "--limit", "1"]), 2);

    let documents = json_lines(&cairn.run(&["read-model", "list", "tally", "counts"]));
    assert_eq!(documents.len(), 3, "the live read model is untouched: {documents:?}");
    assert!(json_lines(&cairn.run(&["dead-letter", "list", "--json"])).is_empty(), "the candidate's failure was not dead-lettered");
    let refused = cairn.run(&["plugin", "add", "--shadow", &component]);
    assert_exit(&refused, 2);
    assert!(stderr(&refused).contains("refused: 4 of 4 tally documents would differ"), "{}", stderr(&refused));
    assert!(json_lines(&cairn.run(&["plugin", "list", "--json"])).iter().all(|record| record["version"] == 1), "nothing was registered");
}
