//! Part of `cairn bench http`: an unrelated command's latency while a
//! plugin that sleeps (`test-sleep`) has hundreds of calls in flight,
//! beside the same command's latency on a quiet server (the baseline). A
//! sleeping plugin must hold only its own call slots: the other plugins'
//! calls, the store and the server keep their pace, and `/health/ready`
//! reports the saturation.

use std::time::{Duration, Instant};

use super::http::{bank_command, load, Connection, Load, TestServer};
use super::{format_latency, BenchRow};

/// What the saturated run measured.
pub(crate) struct Saturation {
    quiet: Load,
    busy: Load,
    sleeping_calls: usize,
    /// `/health/ready`'s reading of the sleeping plugin mid-load.
    reading: serde_json::Value,
}

/// One client sends unrelated commands for `duration` on a quiet server,
/// then again while `sleeping_calls` commands to `test-sleep` are in flight.
pub(crate) async fn measure(server: &TestServer, duration: Duration, sleeping_calls: usize) -> anyhow::Result<Saturation> {
    let quiet = unrelated_commands(server, duration, "quiet").await?;
    let mut sleepers = tokio::task::JoinSet::new();
    for index in 0..sleeping_calls {
        let mut connection = Connection::open(server.address).await?;
        sleepers.spawn(async move {
            let body = r#"{"command_type":"Misbehave","payload":{}}"#.to_owned();
            connection.send(hyper::Method::POST, &format!("/commands/test-sleep/sleeper-{index}"), Some(body)).await.map(|(status, _)| status)
        });
    }
    let reading = wait_for_saturation(server).await?;
    let busy = unrelated_commands(server, duration, "busy").await?;
    // Dropping the calls closes their connections; the server then drops
    // the requests still waiting for a slot.
    sleepers.abort_all();
    Ok(Saturation { quiet, busy, sleeping_calls, reading })
}

async fn unrelated_commands(server: &TestServer, duration: Duration, prefix: &'static str) -> anyhow::Result<Load> {
    let connection = std::sync::Arc::new(tokio::sync::Mutex::new(Connection::open(server.address).await?));
    let result = load(1, duration, move |client, sequence| {
        let connection = connection.clone();
        async move {
            let request = bank_command(prefix, client, sequence);
            let body = serde_json::json!({ "command_type": request.command_type, "payload": request.payload.to_value() });
            let path = format!("/commands/bank-account/{}", request.aggregate_id);
            matches!(connection.lock().await.send(hyper::Method::POST, &path, Some(body.to_string())).await, Ok((status, _)) if status == 200)
        }
    })
    .await;
    anyhow::ensure!(result.errors == 0, "{} unrelated commands failed ({prefix}); each must succeed", result.errors);
    Ok(result)
}

/// Polls `/health/ready` until it reports `test-sleep` saturated, and
/// answers that plugin's reading.
async fn wait_for_saturation(server: &TestServer) -> anyhow::Result<serde_json::Value> {
    let mut connection = Connection::open(server.address).await?;
    let started = Instant::now();
    loop {
        let (_, body) = connection.send(hyper::Method::GET, "/health/ready", None).await?;
        let health: serde_json::Value = serde_json::from_slice(&body)?;
        let plugins = health["plugin_calls"]["plugins"].as_array().cloned().unwrap_or_default();
        if let Some(reading) = plugins.into_iter().find(|reading| reading["plugin"] == "test-sleep" && reading["saturated"] == true) {
            return Ok(reading);
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "/health/ready never reported test-sleep saturated: {health}");
        tokio::task::yield_now().await;
    }
}

pub(crate) fn rows(saturation: &Saturation) -> Vec<BenchRow> {
    let latency = |load: &Load| format!("p50 {}, p99 {} ({} commands)", format_latency(load.quantile(0.5)), format_latency(load.quantile(0.99)), load.completed);
    let reading = &saturation.reading;
    vec![
        BenchRow::new("an unrelated POST /commands, one client, quiet server", latency(&saturation.quiet), "baseline"),
        BenchRow::new(
            format!("the same with {} calls to test-sleep in flight", saturation.sleeping_calls),
            format!("{}; /health/ready: {} running of {}, {} waiting, saturated", latency(&saturation.busy), reading["running"], reading["limit"], reading["waiting"]),
            format!("p99 {:.2}× quiet", saturation.busy.quantile(0.99).as_secs_f64() / saturation.quiet.quantile(0.99).as_secs_f64().max(1e-9)),
        ),
    ]
}
