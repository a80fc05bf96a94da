//! Leases on SQLite: the same table and rules as on PostgreSQL, with this
//! machine's clock, since every process sharing the file runs on it.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::{query_file, SqliteStore as Backend};
use crate::leases::{check_fence_token, lease_from_row, ttl_micros, Lease, LeaseStore};
use crate::StoreError;

type LeaseRow = (String, String, i64, i64, i64, i64);

fn lease_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LeaseRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
}

/// The fence check of a commit: `token` must still be lease `name`'s.
pub(super) fn check_fence(connection: &rusqlite::Connection, fence: &crate::Fence) -> Result<(), StoreError> {
    let current: Option<i64> = connection.prepare_cached(query_file!("lease_token"))?.query_row([&fence.lease], |row| row.get(0)).optional()?;
    check_fence_token(fence, current)
}

#[async_trait]
impl LeaseStore for Backend {
    async fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        let row = self
            .in_write_transaction(move |connection, now| {
                Ok(connection.prepare_cached(query_file!("lease_acquire"))?.query_row(rusqlite::params![name, holder, now, ttl_micros(ttl)], lease_row).optional()?)
            })
            .await?;
        row.map(lease_from_row).transpose()
    }

    async fn renew_lease(&self, name: &str, holder: &str, token: u64, ttl: Duration) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.in_write_transaction(move |connection, now| {
            let renewed = connection.prepare_cached(query_file!("lease_renew"))?.execute(rusqlite::params![name, holder, token as i64, now + ttl_micros(ttl)])?;
            Ok(renewed == 1)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str, token: u64) -> Result<(), StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.in_write_transaction(move |connection, now| {
            connection.prepare_cached(query_file!("lease_release"))?.execute(rusqlite::params![name, holder, token as i64, now])?;
            Ok(())
        })
        .await
    }

    async fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        let now = cairn_event::time::now_micros().timestamp_micros();
        let rows = self
            .database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("leases"))?;
                let rows = statement.query_map([now], lease_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        rows.into_iter().map(lease_from_row).collect()
    }
}
