//! `cairn bench shadow`: `cairn plugin try` of a changed bank-account
//! (deposits capped at 1,000) over 10,000 stored accounts, beside what the
//! engine itself needs to read the same streams and the same comparison
//! done natively, in one run. It also checks that the run names exactly the
//! accounts with a deposit over 1,000.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_account::{Account, AccountEvent, BankAccount};
use cairn::event::NewEvent;
use cairn::json::JsonText;
use cairn::plugins::{PluginHost, PluginSource, ShadowReport};
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{Durability, SqliteStore, StoreOptions};

use super::{append_in_batches, build_profile, events_per_second, format_rate, read_plugin, BenchReport, BenchRow, ScratchDirectory};

pub struct ShadowBenchConfig {
    pub plugin_directory: PathBuf,
    pub accounts: u64,
}

/// Events per account: an opening and four deposits.
const EVENTS_PER_ACCOUNT: u64 = 5;

/// The deposit of event `index` (1..=4) of account `account`: every tenth
/// account has one deposit over 1,000, which the capped version folds differently.
fn deposit(account: u64, index: u64) -> i64 {
    if account.is_multiple_of(10) && index == 2 {
        2_500
    } else {
        (account % 97 + index * 100) as i64
    }
}

pub async fn run(config: &ShadowBenchConfig) -> anyhow::Result<BenchReport> {
    let (active, capped) = (read_plugin(&config.plugin_directory, "bank-account")?, read_plugin(&config.plugin_directory, "bank-account-capped")?);
    let directory = ScratchDirectory::new()?;
    let path = directory.path().join("bench.db");
    let store = Arc::new(SqliteStore::open(&path, &StoreOptions::default()).await?);
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(directory.path().join("compiled")), ..RuntimeConfig::default() })?;
    let shared: Arc<dyn cairn::store::EventStore> = store.clone();
    let host = PluginHost::open(shared, runtime, true).await?;
    host.add(PluginSource { bytes: active, requested_name: None, file_stem: None }).await?;
    let accounts = config.accounts.max(10);
    append_in_batches(store.as_ref(), accounts * EVENTS_PER_ACCOUNT, |index| {
        let (account, event) = (index / EVENTS_PER_ACCOUNT, index % EVENTS_PER_ACCOUNT);
        let id = format!("acc-{account:06}");
        match event {
            0 => NewEvent::new("bank-account", &id, "AccountOpened", JsonText::parse(r#"{"owner":"Ann"}"#).expect("literal JSON")),
            _ => NewEvent::new("bank-account", &id, "MoneyDeposited", JsonText::parse(format!(r#"{{"amount":{}}}"#, deposit(account, event))).expect("built JSON")),
        }
    })
    .await?;
    let expected: BTreeSet<String> = (0..accounts).filter(|account| account.is_multiple_of(10)).map(|account| format!("acc-{account:06}")).collect();
    let events = accounts * EVENTS_PER_ACCOUNT;

    let (engine_events, engine) = engine_read(&store).await?;
    anyhow::ensure!(engine_events == events, "the engine read {engine_events} events, not {events}");
    let (native_differing, native) = native_shadow(&store).await?;
    anyhow::ensure!(native_differing == expected, "the native comparison found {} accounts, not the {} expected", native_differing.len(), expected.len());
    let started = Instant::now();
    let report = host.shadow(PluginSource { bytes: capped, requested_name: None, file_stem: None }, None, None, &|_, _| {}).await?;
    let shadow = started.elapsed();
    let ShadowReport::Aggregate(report) = report else { anyhow::bail!("bank-account-capped.wasm is not an aggregate") };
    let found: BTreeSet<String> = report.differing.iter().map(|difference| difference.aggregate_id.clone()).collect();
    anyhow::ensure!(found == expected, "the shadow run named {} accounts, not exactly the {} with a deposit over 1,000", found.len(), expected.len());

    let versus = |elapsed: Duration| format!("{:.1}× the engine's time", elapsed.as_secs_f64() / engine.as_secs_f64().max(1e-9));
    let rate = |elapsed: Duration| format!("{:.3} s ({})", elapsed.as_secs_f64(), format_rate(events_per_second(events, elapsed)));
    let rows = vec![
        BenchRow::new(format!("engine: read the {accounts} accounts' {events} events in one SQLite statement"), rate(engine), "baseline"),
        BenchRow::new("native Rust: that read, each account folded with both versions and compared", rate(native), versus(native)),
        BenchRow::new(
            format!("cairn plugin try bank-account-capped.wasm: {} of {accounts} accounts differ, exactly those with a deposit over 1,000", found.len()),
            rate(shadow),
            versus(shadow),
        ),
    ];
    Ok(BenchReport { title: format!("cairn bench shadow (SQLite, bank-account, {})", build_profile()), rows })
}

/// Every event of the type read with nothing but rusqlite, each column touched.
async fn engine_read(store: &SqliteStore) -> anyhow::Result<(u64, Duration)> {
    let connection = store.engine_connection(Durability::Full)?;
    Ok(super::store_engine::blocking(move || {
        let started = Instant::now();
        let mut statement = connection.prepare(include_str!("../queries/sqlite/bench_streams_of_type.sql"))?;
        let mut rows = statement.query(["bank-account"])?;
        let (mut count, mut bytes) = (0u64, 0usize);
        while let Some(row) = rows.next()? {
            bytes += row.get_ref(0)?.as_str().map_or(0, str::len) + row.get_ref(1)?.as_str().map_or(0, str::len) + row.get_ref(2)?.as_str().map_or(0, str::len);
            count += 1;
        }
        std::hint::black_box(bytes);
        Ok((count, started.elapsed()))
    })
    .await?)
}

/// The same read, each account folded natively with the active fold and the
/// capped one, and the accounts whose states differ collected.
async fn native_shadow(store: &SqliteStore) -> anyhow::Result<(BTreeSet<String>, Duration)> {
    let connection = store.engine_connection(Durability::Full)?;
    Ok(super::store_engine::blocking(move || {
        let started = Instant::now();
        let mut statement = connection.prepare(include_str!("../queries/sqlite/bench_streams_of_type.sql"))?;
        let mut rows = statement.query(["bank-account"])?;
        let mut differing = BTreeSet::new();
        let mut current: Option<(String, Account, Account)> = None;
        let mut finish = |account: Option<(String, Account, Account)>| {
            if let Some((id, active, capped)) = account {
                if active != capped {
                    differing.insert(id);
                }
            }
        };
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let event: AccountEvent = serde_json::from_str(&format!(r#"{{"event_type":{},"payload":{}}}"#, serde_json::Value::String(row.get(1)?), row.get::<_, String>(2)?))
                .map_err(|error| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(error)))?;
            if current.as_ref().is_none_or(|(current_id, _, _)| *current_id != id) {
                finish(current.take());
                current = Some((id, Account::default(), Account::default()));
            }
            let (_, active, capped) = current.as_mut().expect("set above");
            BankAccount::fold(active, &event);
            let capped_event = match event {
                AccountEvent::MoneyDeposited { amount } => AccountEvent::MoneyDeposited { amount: amount.min(1_000) },
                other => other,
            };
            BankAccount::fold(capped, &capped_event);
        }
        finish(current.take());
        Ok((differing, started.elapsed()))
    })
    .await?)
}
