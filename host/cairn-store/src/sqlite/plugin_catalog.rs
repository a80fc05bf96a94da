//! The plugin registry on SQLite. Registrations take the write lock with
//! `BEGIN IMMEDIATE`, so numbering versions cannot race across processes.
//!
//! The caller's check of a change runs on the caller's task while the
//! writer holds the transaction open: the writer sends the active versions
//! before and after, and commits only on the caller's yes. A caller that
//! goes away leaves a no, and the change rolls back.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};
use tokio::sync::oneshot;

use super::{query_file, SqliteStore};
use crate::{NewPluginVersion, PluginCatalog, PluginVersionRecord, Registration, RegistryChange, RegistryCheck, StoreError};
use cairn_event::time::micros_to_datetime;

/// The active versions before and after a change, sent for judging.
type Proposal = (Vec<PluginVersionRecord>, Vec<PluginVersionRecord>);

/// The writer's side of a checked change: asks the caller, waits for the
/// verdict, and says whether to commit.
struct Judge {
    proposal: oneshot::Sender<Proposal>,
    verdict: oneshot::Receiver<bool>,
}

impl Judge {
    fn accepts(self, connection: &Connection, before: Vec<PluginVersionRecord>) -> Result<bool, StoreError> {
        let after = active_versions(connection)?;
        if self.proposal.send((before, after)).is_err() {
            return Ok(false);
        }
        Ok(self.verdict.blocking_recv().unwrap_or(false))
    }
}

impl SqliteStore {
    /// Runs `work` in a write transaction that commits only if `check`
    /// accepts the change it proposes through its [`Judge`].
    async fn checked_write<T: Send + 'static>(
        &self,
        check: RegistryCheck<'_>,
        work: impl FnOnce(&Connection, Judge) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (proposal_sender, proposal) = oneshot::channel::<Proposal>();
        let (verdict, verdict_receiver) = oneshot::channel();
        let judge = Judge { proposal: proposal_sender, verdict: verdict_receiver };
        let writing = self.database.write(move |connection| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let outcome = work(&transaction, judge)?;
            transaction.commit()?;
            Ok(outcome)
        });
        tokio::pin!(writing);
        let mut refusal = None;
        tokio::select! {
            proposed = proposal => if let Ok((before, after)) = proposed {
                let judged = check(&RegistryChange { before: &before, after: &after });
                let _ = verdict.send(judged.is_ok());
                refusal = judged.err();
            },
            written = &mut writing => return written,
        }
        let written = writing.await;
        match refusal {
            Some(refusal) => Err(StoreError::RegistryRefused(refusal)),
            None => written,
        }
    }
}

#[async_trait]
impl PluginCatalog for SqliteStore {
    async fn register_plugin_checked(&self, plugin: NewPluginVersion, check: RegistryCheck<'_>) -> Result<Registration, StoreError> {
        self.checked_write(check, move |connection, judge| {
            let before = active_versions(connection)?;
            let active = connection.prepare_cached(query_file!("plugin_active_version"))?.query_row([&plugin.name], decode_version).optional()?;
            if let Some(active) = active.filter(|active| active.content_hash == plugin.content_hash) {
                return Ok(Registration::AlreadyActive(active));
            }
            let newest: Option<i64> = connection.prepare_cached(query_file!("plugin_newest_version"))?.query_row([&plugin.name], |row| row.get(0))?;
            let version = newest.unwrap_or(0) + 1;
            let added_at = cairn_event::time::now_micros();
            connection.prepare_cached(query_file!("plugin_deactivate"))?.execute([&plugin.name])?;
            connection.prepare_cached(query_file!("plugin_insert"))?.execute(rusqlite::params![
                plugin.name,
                version,
                plugin.kind,
                plugin.content_hash,
                plugin.description,
                plugin.component,
                plugin.component.len() as i64,
                added_at.timestamp_micros()
            ])?;
            if !judge.accepts(connection, before)? {
                return Err(StoreError::Bug("the registry change was not accepted, so it was rolled back".to_owned()));
            }
            Ok(Registration::Added(plugin.into_active_record(version as u64, added_at)))
        })
        .await
    }

    async fn plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError> {
        self.database.read(|connection| query_versions(connection, query_file!("plugin_versions"))).await
    }

    async fn active_plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError> {
        self.database.read(active_versions).await
    }

    async fn plugin_component(&self, name: &str, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let name = name.to_owned();
        self.database
            .read(move |connection| {
                Ok(connection.prepare_cached(query_file!("plugin_component"))?.query_row(rusqlite::params![name, version as i64], |row| row.get(0)).optional()?)
            })
            .await
    }

    async fn remove_plugin_checked(&self, name: &str, version: Option<u64>, check: RegistryCheck<'_>) -> Result<u64, StoreError> {
        let name = name.to_owned();
        self.checked_write(check, move |connection, judge| {
            let before = active_versions(connection)?;
            let deleted = connection.prepare_cached(query_file!("plugin_delete"))?.execute(rusqlite::params![name, version.map(|version| version as i64)])?;
            connection.prepare_cached(query_file!("plugin_activate_newest"))?.execute([&name])?;
            if !judge.accepts(connection, before)? {
                return Err(StoreError::Bug("the registry change was not accepted, so it was rolled back".to_owned()));
            }
            Ok(deleted as u64)
        })
        .await
    }
}

/// The active versions, as the connection sees them: what a registry
/// change's check compares before and after.
fn active_versions(connection: &Connection) -> Result<Vec<PluginVersionRecord>, StoreError> {
    query_versions(connection, query_file!("plugin_active_versions"))
}

fn query_versions(connection: &Connection, sql: &str) -> Result<Vec<PluginVersionRecord>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map([], decode_version)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn decode_version(row: &Row<'_>) -> rusqlite::Result<PluginVersionRecord> {
    Ok(PluginVersionRecord {
        name: row.get(0)?,
        version: row.get::<_, i64>(1)? as u64,
        kind: row.get(2)?,
        content_hash: row.get(3)?,
        description: row.get(4)?,
        size_bytes: row.get::<_, i64>(5)? as u64,
        added_at: micros_to_datetime(row.get(6)?),
        active: row.get::<_, i64>(7)? == 1,
    })
}
