//! Leases on PostgreSQL, judged by the server's clock so that hosts'
//! clocks never matter.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use super::read_models::query_file;
use super::PostgresStore as Backend;
use crate::leases::{check_fence_token, lease_from_row, ttl_micros, Lease, LeaseStore};
use crate::StoreError;

type LeaseRow = (String, String, i64, i64, i64, i64);

/// The fence check of a commit: `token` must still be lease `name`'s. The
/// row stays share-locked to the end of the transaction, so a take-over
/// waits for the commit instead of slipping in before it.
pub(super) async fn check_fence(transaction: &mut Transaction<'_, Postgres>, fence: &crate::Fence) -> Result<(), StoreError> {
    let current: Option<i64> = sqlx::query_scalar(query_file!("lease_token")).bind(&fence.lease).fetch_optional(&mut **transaction).await?;
    check_fence_token(fence, current)
}

#[async_trait]
impl LeaseStore for Backend {
    async fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let row: Option<LeaseRow> = sqlx::query_as(query_file!("lease_acquire")).bind(name).bind(holder).bind(ttl_micros(ttl)).fetch_optional(&self.pool).await?;
        row.map(lease_from_row).transpose()
    }

    async fn renew_lease(&self, name: &str, holder: &str, token: u64, ttl: Duration) -> Result<bool, StoreError> {
        let renewed = sqlx::query(query_file!("lease_renew")).bind(name).bind(holder).bind(token as i64).bind(ttl_micros(ttl)).execute(&self.pool).await?;
        Ok(renewed.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str, token: u64) -> Result<(), StoreError> {
        sqlx::query(query_file!("lease_release")).bind(name).bind(holder).bind(token as i64).bind(self.lease_channel()).execute(&self.pool).await?;
        Ok(())
    }

    async fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        let rows: Vec<LeaseRow> = sqlx::query_as(query_file!("leases")).fetch_all(&self.pool).await?;
        rows.into_iter().map(lease_from_row).collect()
    }
}
