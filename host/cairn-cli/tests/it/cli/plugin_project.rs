//! `cairn plugin new`, `test` and `build`, as a new user runs them: a
//! project from a template, its test passing, its component built, added,
//! and answering commands; and a renamed package that still builds.

use std::path::Path;

use super::{assert_exit, json_lines, stderr, Cairn};

/// The repository's plugin build directory, so a project's dependencies
/// come compiled from `plugins/build` rather than from scratch.
fn shared_target() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/target").to_string_lossy().into_owned()
}

fn run_in_project(cairn: &Cairn, args: &[&str]) -> std::process::Output {
    cairn.command().args(args).env("CARGO_TARGET_DIR", shared_target()).output().unwrap()
}

/// Creates, tests, builds and adds a project, then runs one accepted and
/// one rejected `Add` against it (every aggregate template is a counter).
fn new_aggregate_answers_commands(cairn: &Cairn, language: &str, name: &str) {
    let project = cairn.directory().join(name);
    let project_text = project.to_string_lossy().into_owned();
    let created = cairn.run(&["plugin", "new", "--lang", language, "--kind", "aggregate", name, &project_text]);
    assert_exit(&created, 0);
    assert!(String::from_utf8_lossy(&created.stdout).contains(&format!("cairn plugin add {project_text}/{name}.wasm")), "{}", String::from_utf8_lossy(&created.stdout));
    assert_exit(&run_in_project(cairn, &["plugin", "test", &project_text]), 0);
    assert_exit(&run_in_project(cairn, &["plugin", "build", &project_text]), 0);
    assert_exit(&cairn.run(&["plugin", "add", &format!("{project_text}/{name}.wasm")]), 0);
    assert_exit(&cairn.run(&["exec", name, "a-1", "Add", r#"{"amount":2}"#]), 0);
    assert_exit(&cairn.run(&["exec", name, "a-1", "Add", r#"{"amount":0}"#]), 4);
    let events = json_lines(&cairn.run(&["read", name, "a-1"]));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0]["event_type"].as_str(), events[0]["source"].as_str()), (Some("Added"), Some(format!("{name}@1").as_str())));
}

#[test]
fn a_new_rust_aggregate_tests_builds_loads_and_still_builds_after_a_rename() {
    let cairn = Cairn::with_sqlite();
    new_aggregate_answers_commands(&cairn, "rust", "my-ledger");
    // Renaming the package, as the template's comment says to, renames the
    // component instead of breaking the build.
    let project = cairn.directory().join("my-ledger");
    let manifest = project.join("Cargo.toml");
    let renamed = std::fs::read_to_string(&manifest).unwrap().replace("name = \"my-ledger\"", "name = \"other-ledger\"");
    std::fs::write(&manifest, renamed).unwrap();
    assert_exit(&run_in_project(&cairn, &["plugin", "build", &project.to_string_lossy()]), 0);
    assert!(project.join("other-ledger.wasm").is_file(), "the build names the component after the package");
}

#[test]
fn new_python_and_javascript_aggregates_test_build_load_and_answer() {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/.tools");
    assert!(tools.join("venv/bin/componentize-py").is_file() && tools.join("js/node_modules/.bin/jco").is_file(), "the pinned toolchains are missing from {}; plugins/build installs them (scripts/test runs it)", tools.display());
    let cairn = Cairn::with_sqlite();
    new_aggregate_answers_commands(&cairn, "python", "py-ledger");
    new_aggregate_answers_commands(&cairn, "js", "js-ledger");
}

#[test]
fn plugin_new_refuses_bad_names_and_used_directories_and_writes_nothing() {
    let cairn = Cairn::with_sqlite();
    for bad in ["My_Ledger", "x-", "a--b", "2fa"] {
        let output = cairn.run(&["plugin", "new", "--lang", "rust", "--kind", "migrator", bad, &cairn.directory().join("bad").to_string_lossy()]);
        assert_exit(&output, 2);
        assert!(stderr(&output).contains("lower-case words"), "{}", stderr(&output));
    }
    assert!(!cairn.directory().join("bad").exists());
    let used = cairn.directory().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "mine").unwrap();
    let output = cairn.run(&["plugin", "new", "--lang", "python", "--kind", "handler", "counts", &used.to_string_lossy()]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("already exists and is not empty"), "{}", stderr(&output));
    assert_eq!(std::fs::read_dir(&used).unwrap().count(), 1, "nothing was written into it");
    let staged: Vec<_> = std::fs::read_dir(cairn.directory()).unwrap().filter_map(Result::ok).filter(|entry| entry.file_name().to_string_lossy().starts_with(".cairn-plugin-new")).collect();
    assert!(staged.is_empty(), "no staging directory is left behind");
    let output = cairn.run(&["plugin", "build", &cairn.directory().to_string_lossy()]);
    assert_exit(&output, 2);
    assert!(stderr(&output).contains("not a plugin project"), "{}", stderr(&output));
}

#[test]
fn every_language_and_kind_makes_a_project_named_after_the_plugin() {
    let cairn = Cairn::with_sqlite();
    for language in ["rust", "python", "js"] {
        for kind in ["aggregate", "migrator", "handler"] {
            let project = cairn.directory().join(format!("{language}-{kind}"));
            assert_exit(&cairn.run(&["plugin", "new", "--lang", language, "--kind", kind, "orders-v2", &project.to_string_lossy()]), 0);
            let build = std::fs::read_to_string(project.join("build")).unwrap();
            // Rust names the component after its package, the others after the plugin.
            let names_it = if language == "rust" { std::fs::read_to_string(project.join("Cargo.toml")).unwrap().contains("name = \"orders-v2\"") } else { build.contains("orders-v2.wasm") };
            assert!(names_it, "{language} {kind}: {build}");
            for sample in ["counter", "add-unit", "add_unit", "event-type-counts", "EventTypeCounts", "AddUnit", "../../../sdk"] {
                let files = [project.clone(), project.join("src")].into_iter().filter_map(|folder| std::fs::read_dir(folder).ok()).flatten().filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.is_file());
                for file in files {
                    let text = std::fs::read_to_string(&file).unwrap_or_default();
                    // The Rust handler's test feeds it events of a `counter` aggregate.
                    let allowed = sample == "counter" && kind == "handler";
                    assert!(allowed || !text.contains(sample), "{language} {kind}: {} still says {sample}", file.display());
                }
            }
        }
    }
}

/// The loop a plugin author runs before promoting a change: a shadow run
/// of the edited build over the stored streams names exactly the streams
/// whose state would change, and the first event where it does, writing
/// nothing; an unchanged build is clean.
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

/// `cairn dev` beside a running `cairn serve`: one line per cycle; a save
/// rebuilds and registers the new version, which the server then uses, and
/// a save whose tests fail registers nothing. (How soon the server swaps is
/// the registry refresh's business, measured by `cairn bench plugins`.)
#[test]
fn cairn_dev_registers_each_saved_version_whose_tests_pass_and_serve_swaps_it_in() {
    use std::io::BufRead;
    let cairn = Cairn::with_sqlite();
    let server = super::serve::Server::start(&cairn, &[]);
    let project = cairn.directory().join("ledger");
    let project_text = project.to_string_lossy().into_owned();
    assert_exit(&cairn.run(&["plugin", "new", "--lang", "rust", "--kind", "aggregate", "ledger", &project_text]), 0);
    let mut child = cairn
        .command()
        .args(["dev", &project_text, "--cycles", "3"])
        .env("CARGO_TARGET_DIR", shared_target())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (sender, cycles) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let next_cycle = || cycles.recv_timeout(std::time::Duration::from_secs(300)).expect("cairn dev reports every cycle");
    let first = next_cycle();
    assert!(first.starts_with("cycle 1: tests passed") && first.ends_with("registered ledger version 1"), "{first}");

    let source = project.join("src/lib.rs");
    let original = std::fs::read_to_string(&source).unwrap();
    std::fs::write(&source, original.replace("then_rejected(\"the amount must be positive\")", "then_rejected(\"a message the plugin never gives\")")).unwrap();
    let second = next_cycle();
    assert!(second.starts_with("cycle 2: tests failed, nothing registered: "), "{second}");

    std::fs::write(&source, original.replace("state.value += amount", "state.value += amount.min(1_000)")).unwrap();
    let third = next_cycle();
    assert!(third.ends_with("registered ledger version 2"), "{third}");
    assert!(child.wait().unwrap().success());
    let registered = std::time::Instant::now();
    loop {
        let (status, answer) = super::serve::post(&server, "/commands/ledger/h-1", serde_json::json!({"command_type": "Add", "payload": {"amount": 1}}));
        assert_eq!(status, 200, "{answer}");
        if answer["plugin_version"] == 2 {
            break;
        }
        assert!(registered.elapsed() < std::time::Duration::from_secs(60), "the server never used version 2: {answer}");
    }
    assert_exit(&cairn.run(&["exec", "ledger", "l-1", "Add", r#"{"amount":5000}"#]), 0);
    assert_eq!(json_lines(&cairn.run(&["state", "ledger", "l-1"]))[0]["value"], 1000, "the saved version answers");
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
