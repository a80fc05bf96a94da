//! What the store promises and how long it waits: `--durability`, byte
//! order of read-model keys whatever the database's collation, and
//! PostgreSQL's lock and statement timeouts.

use std::process::{Command, Stdio};

use super::{assert_exit, json_lines, stderr, Cairn};

crate::on_both_backends!(durability_is_full_unless_asked_otherwise_and_the_store_says_which);

fn durability_is_full_unless_asked_otherwise_and_the_store_says_which(cairn: Cairn) {
    let stats = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["stats", "--json"]);
        let output = cairn.run(&args);
        assert_exit(&output, 0);
        let statistics: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        statistics["durability"].as_str().unwrap().to_owned()
    };
    assert_eq!(stats(&[]), "full");
    assert_eq!(stats(&["--durability", "normal"]), "normal");
    let refused = cairn.run(&["--durability", "sometimes", "stats"]);
    assert_exit(&refused, 2);
}

#[cfg(cairn_postgres)]
fn postgres_base_and_schema(cairn: &Cairn) -> (String, String) {
    let (base, schema) = cairn.store.rsplit_once("schema=").expect("a PostgreSQL store names its schema");
    (base.trim_end_matches(['?', '&']).to_owned(), schema.to_owned())
}

#[cfg(cairn_postgres)]
#[test]
fn a_held_log_head_lock_fails_an_append_after_the_lock_timeout_and_then_appends_go_on() {
    let cairn = Cairn::with_postgres();
    assert_exit(&cairn.run(&["append", "note", "n", "Written", "{}"]), 0);
    let (base, schema) = postgres_base_and_schema(&cairn);
    let holder = format!("BEGIN; SELECT last_position FROM {schema}.cairn_log_head FOR UPDATE; SELECT pg_sleep(120) /* cairn-test-holder-{schema} */; COMMIT;");
    let mut held = Command::new("psql").args([base.as_str(), "-q", "-c", &holder]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    cairn.wait_until("another transaction holds the log's head", |_| {
        let probe = format!("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%cairn-test-holder-{schema}%' AND state = 'active' AND query NOT LIKE '%pg_stat_activity%'");
        let output = Command::new("psql").args([base.as_str(), "-Atc", &probe]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).trim() == "1"
    });
    let blocked = cairn.run(&["--store-lock-timeout-ms", "300", "append", "note", "n", "Written", "{}"]);
    assert_exit(&blocked, 1);
    assert!(stderr(&blocked).contains("--store-lock-timeout") && stderr(&blocked).contains("retry"), "{}", stderr(&blocked));
    held.kill().unwrap();
    held.wait().unwrap();
    let terminate = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%cairn-test-holder-{schema}%' AND query NOT LIKE '%pg_stat_activity%'");
    assert!(Command::new("psql").args([base.as_str(), "-Atqc", &terminate]).stdout(Stdio::null()).status().unwrap().success());
    assert_exit(&cairn.run(&["append", "note", "n", "Written", "{}"]), 0);
    assert_eq!(json_lines(&cairn.run(&["log"])).len(), 2, "the timed-out append wrote nothing");
}

/// A database whose default collation ignores punctuation, where a key
/// order that is not byte order breaks listing by prefix.
#[cfg(cairn_postgres)]
#[test]
fn read_model_prefixes_list_right_under_a_collation_that_ignores_punctuation() {
    let base = crate::support::postgres_base_url();
    let create = "CREATE DATABASE cairn_test_icu LOCALE_PROVIDER icu ICU_LOCALE 'und-u-ka-shifted' LOCALE 'C.UTF-8' TEMPLATE template0";
    let exists = Command::new("psql").args([base.as_str(), "-Atc", "SELECT 1 FROM pg_database WHERE datname = 'cairn_test_icu'"]).output().unwrap();
    if String::from_utf8_lossy(&exists.stdout).trim() != "1" {
        let created = Command::new("psql").args([base.as_str(), "-qc", create]).output().unwrap();
        assert!(created.status.success() || String::from_utf8_lossy(&created.stderr).contains("already exists"), "{}", String::from_utf8_lossy(&created.stderr));
    }
    let (server, _database) = base.rsplit_once('/').unwrap();
    let schema = format!("cairn_cli_{}", uuid::Uuid::now_v7().simple());
    let store = format!("{server}/cairn_test_icu?schema={schema}");
    let cairn = Cairn::with_sqlite();
    let run = |args: &[&str]| cairn.command().env("CAIRN_STORE", &store).args(args).output().unwrap();
    assert_exit(&run(&["plugin", "add", &crate::support::plugin_path("picky-handler").to_string_lossy()]), 0);
    for id in ["a-1", "a1", "a-2"] {
        assert_exit(&run(&["append", "x", id, "Seen", "{}"]), 0);
    }
    assert_exit(&run(&["replay", "--handler", "picky"]), 0);
    let listed = json_lines(&run(&["read-model", "list", "picky", "seen", "--prefix", "x:a-"]));
    let keys: Vec<&str> = listed.iter().map(|document| document["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["x:a-1", "x:a-2"]);
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    let _ = Command::new("psql").args([format!("{server}/cairn_test_icu").as_str(), "-qc", &drop]).stderr(Stdio::null()).status();
}
