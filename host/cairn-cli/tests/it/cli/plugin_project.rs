//! `cairn plugin new`, `test` and `build`, as a new user runs them: a
//! project from a template, its test passing, its component built, added,
//! and answering commands; and a renamed package that still builds.

use std::path::Path;

use super::{assert_exit, json_lines, stderr, Cairn};

/// The repository's plugin build directory, so a project's dependencies
/// come compiled from `plugins/build` rather than from scratch.
pub(super) fn shared_target() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/target").to_string_lossy().into_owned()
}

pub(super) fn run_in_project(cairn: &Cairn, args: &[&str]) -> std::process::Output {
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

/// What a `cairn dev` session edits in one language's aggregate template.
struct DevEdits {
    language: &'static str,
    source: &'static str,
    /// The rejection's message in the source (its first occurrence): changed, the tests fail.
    rejection: &'static str,
    /// Where an addition is applied, and the same capped at 1,000.
    addition: &'static str,
    capped_addition: &'static str,
}

/// `cairn dev` beside a running `cairn serve`, as a new user runs it: one
/// line per cycle; a save whose tests fail registers nothing, and a save
/// that passes is registered and answers commands over HTTP. (How soon the
/// server swaps is the registry refresh's business, measured by `cairn
/// bench plugins`.)
fn dev_session_registers_each_saved_version_whose_tests_pass(edits: &DevEdits) {
    use std::io::BufRead;
    let cairn = Cairn::with_sqlite();
    let server = super::serve::Server::start(&cairn, &[]);
    let project = cairn.directory().join("ledger");
    let project_text = project.to_string_lossy().into_owned();
    assert_exit(&cairn.run(&["plugin", "new", "--lang", edits.language, "--kind", "aggregate", "ledger", &project_text]), 0);
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
    assert!(first.starts_with("cycle 1: tests passed") && first.ends_with("registered ledger version 1"), "{}: {first}", edits.language);

    let source = project.join(edits.source);
    let original = std::fs::read_to_string(&source).unwrap();
    assert!(original.contains(edits.rejection) && original.contains(edits.addition), "{}: the template changed; update the test's edits", edits.language);
    std::fs::write(&source, original.replacen(edits.rejection, "a message the tests never expect", 1)).unwrap();
    let second = next_cycle();
    assert!(second.starts_with("cycle 2: tests failed, nothing registered: "), "{}: {second}", edits.language);

    std::fs::write(&source, original.replace(edits.addition, edits.capped_addition)).unwrap();
    let third = next_cycle();
    assert!(third.ends_with("registered ledger version 2"), "{}: {third}", edits.language);
    assert!(child.wait().unwrap().success());
    let registered = std::time::Instant::now();
    loop {
        let (status, answer) = super::serve::post(&server, "/commands/ledger/h-1", serde_json::json!({"command_type": "Add", "payload": {"amount": 1500}}));
        assert_eq!(status, 200, "{answer}");
        if answer["plugin_version"] == 2 {
            break;
        }
        assert!(registered.elapsed() < std::time::Duration::from_secs(60), "{}: the server never used version 2: {answer}", edits.language);
    }
    // A fresh stream: h-1's snapshots were folded by version 1, and a fold
    // that changes without a new state version reuses them (docs/plugins.md).
    let (status, answer) = super::serve::post(&server, "/commands/ledger/fresh", serde_json::json!({"command_type": "Add", "payload": {"amount": 1500}}));
    assert_eq!((status, answer["plugin_version"].as_i64()), (200, Some(2)), "{answer}");
    let (status, state) = super::serve::get(&server, "/aggregates/ledger/fresh");
    assert_eq!((status, state["state"]["value"].as_i64()), (200, Some(1_000)), "{}: the saved version caps an addition of 1,500: {state}", edits.language);
}

#[test]
fn cairn_dev_registers_each_saved_rust_version_whose_tests_pass_and_serve_swaps_it_in() {
    dev_session_registers_each_saved_version_whose_tests_pass(&DevEdits {
        language: "rust",
        source: "src/lib.rs",
        rejection: "the amount must be positive",
        addition: "state.value += amount",
        capped_addition: "state.value += amount.min(1_000)",
    });
}

#[test]
fn cairn_dev_works_the_same_for_python_and_javascript() {
    dev_session_registers_each_saved_version_whose_tests_pass(&DevEdits {
        language: "python",
        source: "app.py",
        rejection: "the amount must be a positive whole number",
        addition: "state[\"value\"] += event[\"payload\"][\"amount\"]",
        capped_addition: "state[\"value\"] += min(event[\"payload\"][\"amount\"], 1000)",
    });
    dev_session_registers_each_saved_version_whose_tests_pass(&DevEdits {
        language: "js",
        source: "aggregate.js",
        rejection: "the amount must be a positive whole number",
        addition: "state.value += event.payload.amount;",
        capped_addition: "state.value += Math.min(event.payload.amount, 1000);",
    });
}
