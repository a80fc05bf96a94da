//! Leases: exclusive work (a live projection, the publisher) held by one
//! process at a time, and which processes are alive (`host:<holder>`).
//!
//! A holder keeps a lease by renewing it before it expires; an expired
//! lease may be taken by anyone, and taking it from another holder
//! increments its token. Work committed under a lease names the token it
//! holds ([`Fence`]), and the commit is refused with
//! [`StoreError::LeaseLost`] when the token is no longer current. That is
//! what makes a stalled holder safe: however long it was stopped, and
//! whatever its clock says, its late commit finds a newer token and fails.
//! Expiry is judged by the store's clock (PostgreSQL's server clock; on
//! SQLite, the one machine's), never by the hosts'.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;

/// The prefix of the leases that say a process is alive.
pub const HOST_LEASE_PREFIX: &str = "host:";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    /// Grows each time the lease changes hands; commits under the lease
    /// name it.
    pub token: u64,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub acquired_at: DateTime<Utc>,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub expires_at: DateTime<Utc>,
    /// Whether it had expired when it was read (by the store's clock).
    pub expired: bool,
}

/// What a commit under a lease names: it is refused unless `token` is
/// still the lease's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub lease: String,
    pub token: u64,
}

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes lease `name` for `holder` until `ttl` from now, when it is
    /// free, expired, or already `holder`'s (a renewal, which keeps the
    /// token). None when another holder has it and it has not expired.
    async fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, StoreError>;

    /// Extends `holder`'s lease for `ttl` from now while `token` is still
    /// current, even if it has expired meanwhile (nobody took it); false
    /// when it was lost.
    async fn renew_lease(&self, name: &str, holder: &str, token: u64, ttl: Duration) -> Result<bool, StoreError>;

    /// Lets the lease expire now, if `holder` still holds it with `token`.
    /// The row stays, so the next holder's token is still larger.
    async fn release_lease(&self, name: &str, holder: &str, token: u64) -> Result<(), StoreError>;

    /// Every lease, by name, expired ones included.
    async fn leases(&self) -> Result<Vec<Lease>, StoreError>;
}

/// A commit's fence against the lease's current token, as read inside the
/// commit's transaction (None: the lease does not exist).
pub(crate) fn check_fence_token(fence: &Fence, current: Option<i64>) -> Result<(), StoreError> {
    match current {
        Some(token) if token as u64 == fence.token => Ok(()),
        current => Err(StoreError::LeaseLost { lease: fence.lease.clone(), token: fence.token, current: current.map(|token| token as u64) }),
    }
}

pub(crate) fn ttl_micros(ttl: Duration) -> i64 {
    ttl.as_micros().min(i64::MAX as u128) as i64
}

/// A row of `cairn_leases` as a [`Lease`]: (name, holder, token,
/// acquired_at, expires_at, now), times in microseconds.
pub(crate) fn lease_from_row(row: (String, String, i64, i64, i64, i64)) -> Result<Lease, StoreError> {
    let (name, holder, token, acquired_at, expires_at, now) = row;
    let time = |micros: i64| {
        DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(|| StoreError::CorruptRow(format!("lease {name} has a time out of range: {micros}")))
    };
    Ok(Lease { acquired_at: time(acquired_at)?, expires_at: time(expires_at)?, expired: expires_at <= now, token: token as u64, holder, name: name.clone() })
}
