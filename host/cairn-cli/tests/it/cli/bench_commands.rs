//! `cairn bench commands`: Cairn and cqrs-es run the same workload, every
//! Cairn figure stands beside the peer's, the engine's floor beside both,
//! and nothing is left behind.

use serde_json::Value;

use super::plugins::run_bench;

fn row<'a>(rows: &'a [Value], measure: &str) -> &'a Value {
    rows.iter().find(|row| row["measure"] == measure).unwrap_or_else(|| panic!("no `{measure}` row in {rows:?}"))
}

/// Every Cairn row of `backend` is a ratio to the cqrs-es row before it.
fn assert_backend_rows(rows: &[Value], backend: &str) {
    for (peer, ours) in [
        ("commands, cqrs-es 0.5 (baseline)", "commands, Cairn (cairn exec --commands)"),
        ("command p50 / p99, cqrs-es (baseline)", "command p50 / p99, Cairn"),
        ("client CPU per command, cqrs-es (baseline)", "client CPU per command, Cairn"),
        ("cold loads, cqrs-es (baseline)", "cold loads, Cairn"),
    ] {
        assert_eq!(row(rows, &format!("{backend}: {peer}"))["versus_baseline"], "baseline");
        let versus = row(rows, &format!("{backend}: {ours}"))["versus_baseline"].as_str().unwrap().to_owned();
        assert!(versus.contains("× cqrs-es"), "{backend}: {ours}: {versus}");
    }
    for measure in ["cold loads, Cairn", "engine limit, one committed single-row INSERT per command", "engine limit, one whole-stream read per cold load"] {
        let rate = row(rows, &format!("{backend}: {measure}"))["value"].as_str().unwrap();
        assert!(rate.ends_with("/s") && rate.trim_end_matches("/s").parse::<f64>().unwrap() > 0.0, "{backend}: {measure}: {rate}");
    }
    // The engine's floor reads against both frameworks and the goal.
    for measure in ["engine limit, one committed single-row INSERT per command", "engine limit, one whole-stream read per cold load"] {
        let versus = row(rows, &format!("{backend}: {measure}"))["versus_baseline"].as_str().unwrap().to_owned();
        assert!(versus.starts_with("Cairn ") && versus.contains("cqrs-es") && versus.contains("2× cqrs-es is"), "{backend}: {measure}: {versus}");
    }
}

#[test]
fn bench_commands_measures_cairn_beside_cqrs_es_and_cleans_up() {
    let mut args = vec!["commands", "--accounts", "3", "--deposits", "2", "--runs", "1"];
    #[cfg(cairn_postgres)]
    let postgres = crate::support::postgres_base_url();
    #[cfg(cairn_postgres)]
    args.extend(["--postgres", postgres.as_str()]);
    let (report, scratch) = run_bench(&args);
    let rows = report["rows"].as_array().unwrap();
    assert!(report["title"].as_str().unwrap().contains("3 accounts × 3 commands"), "{report}");
    assert_backend_rows(rows, "SQLite");
    if cfg!(cairn_postgres) {
        assert_backend_rows(rows, "PostgreSQL");
    } else {
        assert_eq!(row(rows, "PostgreSQL")["value"], "not measured");
    }
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0, "the benchmark removed its stores, cache and logs");
}

#[test]
fn bench_commands_refuses_zero_accounts() {
    let cairn = super::Cairn::with_sqlite();
    let output = cairn.command().args(["bench", "commands", "--accounts", "0"]).output().unwrap();
    super::assert_exit(&output, 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("--accounts"), "{}", String::from_utf8_lossy(&output.stderr));
}
