//! The plugin registry on PostgreSQL. A registry change holds a transaction
//! advisory lock on the store's registry, so that changes from several
//! processes happen one after the other: versions are numbered in order,
//! and each change's check sees the ones before it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PostgresStore;
use crate::{NewPluginVersion, PluginCatalog, PluginVersionRecord, Registration, RegistryChange, RegistryCheck, StoreError};

#[async_trait]
impl PluginCatalog for PostgresStore {
    async fn register_plugin_checked(&self, plugin: NewPluginVersion, check: RegistryCheck<'_>) -> Result<Registration, StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(include_str!("../../queries/postgres/plugin_lock_registry.sql")).execute(&mut *transaction).await?;
        let before = active_versions(&mut transaction).await?;
        let active = sqlx::query(include_str!("../../queries/postgres/plugin_active_version.sql"))
            .bind(&plugin.name)
            .fetch_optional(&mut *transaction)
            .await?
            .map(|row| decode_version(&row))
            .transpose()?;
        if let Some(active) = active.filter(|active| active.content_hash == plugin.content_hash) {
            return Ok(Registration::AlreadyActive(active));
        }
        let newest: Option<i64> =
            sqlx::query_scalar(include_str!("../../queries/postgres/plugin_newest_version.sql"))
                .bind(&plugin.name)
                .fetch_one(&mut *transaction)
                .await?;
        let version = newest.unwrap_or(0) + 1;
        let added_at = cairn_event::time::now_micros();
        sqlx::query(include_str!("../../queries/postgres/plugin_deactivate.sql"))
            .bind(&plugin.name)
            .execute(&mut *transaction)
            .await?;
        sqlx::query(include_str!("../../queries/postgres/plugin_insert.sql"))
            .bind(&plugin.name)
            .bind(version)
            .bind(&plugin.kind)
            .bind(&plugin.content_hash)
            .bind(&plugin.description)
            .bind(plugin.component.as_slice())
            .bind(plugin.component.len() as i64)
            .bind(added_at)
            .execute(&mut *transaction)
            .await?;
        let after = active_versions(&mut transaction).await?;
        check(&RegistryChange { before: &before, after: &after }).map_err(StoreError::RegistryRefused)?;
        sqlx::query(include_str!("../../queries/postgres/registry_notify.sql")).bind(self.registry_channel()).execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(Registration::Added(plugin.into_active_record(version as u64, added_at)))
    }

    async fn plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/postgres/plugin_versions.sql")).fetch_all(&self.pool).await?;
        rows.iter().map(decode_version).collect()
    }

    async fn active_plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError> {
        let rows =
            sqlx::query(include_str!("../../queries/postgres/plugin_active_versions.sql")).fetch_all(&self.pool).await?;
        rows.iter().map(decode_version).collect()
    }

    async fn plugin_component(&self, name: &str, version: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(include_str!("../../queries/postgres/plugin_component.sql"))
            .bind(name)
            .bind(version as i64)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn remove_plugin_checked(&self, name: &str, version: Option<u64>, check: RegistryCheck<'_>) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(include_str!("../../queries/postgres/plugin_lock_registry.sql")).execute(&mut *transaction).await?;
        let before = active_versions(&mut transaction).await?;
        let deleted = sqlx::query(include_str!("../../queries/postgres/plugin_delete.sql"))
            .bind(name)
            .bind(version.map(|version| version as i64))
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        sqlx::query(include_str!("../../queries/postgres/plugin_activate_newest.sql"))
            .bind(name)
            .execute(&mut *transaction)
            .await?;
        let after = active_versions(&mut transaction).await?;
        check(&RegistryChange { before: &before, after: &after }).map_err(StoreError::RegistryRefused)?;
        sqlx::query(include_str!("../../queries/postgres/registry_notify.sql")).bind(self.registry_channel()).execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(deleted)
    }
}

/// The active versions, as the transaction sees them: what a registry
/// change's check compares before and after.
async fn active_versions(connection: &mut sqlx::PgConnection) -> Result<Vec<PluginVersionRecord>, StoreError> {
    let rows = sqlx::query(include_str!("../../queries/postgres/plugin_active_versions.sql")).fetch_all(connection).await?;
    rows.iter().map(decode_version).collect()
}

fn decode_version(row: &PgRow) -> Result<PluginVersionRecord, StoreError> {
    Ok(PluginVersionRecord {
        name: row.try_get(0)?,
        version: row.try_get::<i64, _>(1)? as u64,
        kind: row.try_get(2)?,
        content_hash: row.try_get(3)?,
        description: row.try_get(4)?,
        size_bytes: row.try_get::<i64, _>(5)? as u64,
        added_at: row.try_get::<DateTime<Utc>, _>(6)?,
        active: row.try_get(7)?,
    })
}
