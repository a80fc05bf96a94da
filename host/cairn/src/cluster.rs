//! Several hosts on one store: which are alive, and which runs each piece
//! of exclusive work, through the store's leases (`cairn_store::leases`).
//!
//! Invariants:
//! - Exclusive work (a live projection) runs only under its lease, and
//!   every commit it makes names the lease's token (a `Fence`): a host that
//!   stalled past its lease finds its late commit refused, whatever its
//!   clock says, because taking a lease over raises the token.
//! - A host alive renews `host:<holder>`; the hosts alive are those whose
//!   lease has not expired, judged by the store's clock.
//! - A host takes at most its fair share of the work (the pieces divided
//!   by the hosts alive, rounded up) and, above it, hands pieces back one at
//!   a time, so work spreads when hosts join and is taken over when they die.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::{EventStore, Lease, StoreError, HOST_LEASE_PREFIX};

/// The prefix of the leases live projections run under.
const PROJECTION_LEASE_PREFIX: &str = "projection:";

/// The lease a handler's live projection runs under.
pub fn projection_lease_name(handler: &str) -> String {
    format!("{PROJECTION_LEASE_PREFIX}{handler}")
}

/// The handler whose live projection `lease_name` is, if it is one's.
pub fn projection_of_lease(lease_name: &str) -> Option<&str> {
    lease_name.strip_prefix(PROJECTION_LEASE_PREFIX)
}

/// The hosts alive, by name, among `leases` as read.
pub fn hosts_alive(leases: &[Lease]) -> Vec<&str> {
    leases.iter().filter(|lease| !lease.expired).filter_map(|lease| lease.name.strip_prefix(HOST_LEASE_PREFIX)).collect()
}

/// How many pieces of work one of `hosts` should hold.
pub fn fair_share(pieces: usize, hosts: usize) -> usize {
    pieces.div_ceil(hosts.max(1))
}

/// This process as one host of the cluster.
pub struct ClusterMember {
    store: std::sync::Arc<dyn EventStore>,
    holder: String,
    ttl: Duration,
    /// The token of this host's own lease and when it was last renewed.
    heartbeat: Mutex<Option<(u64, Instant)>>,
}

impl ClusterMember {
    /// A member named `label` (say, its address) plus a random suffix, so
    /// that a restarted host is a new holder and takes leases over with new
    /// tokens.
    pub fn new(store: std::sync::Arc<dyn EventStore>, label: &str, ttl: Duration) -> Self {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Self { store, holder: format!("{label}#{}", &suffix[..8]), ttl, heartbeat: Mutex::new(None) }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How often leases are renewed: three times per time to live, so one
    /// slow renewal does not lose them.
    pub fn renew_every(&self) -> Duration {
        self.ttl / 3
    }

    fn host_lease_name(&self) -> String {
        format!("{HOST_LEASE_PREFIX}{}", self.holder)
    }

    /// Says this host is alive, when a renewal is due.
    pub async fn heartbeat(&self) -> Result<(), StoreError> {
        let due = self.heartbeat.lock().expect("the heartbeat lock is not poisoned").is_none_or(|(_, renewed)| renewed.elapsed() >= self.renew_every());
        if due {
            // Taking it again renews it (same holder, same token).
            if let Some(lease) = self.store.acquire_lease(&self.host_lease_name(), &self.holder, self.ttl).await? {
                *self.heartbeat.lock().expect("the heartbeat lock is not poisoned") = Some((lease.token, Instant::now()));
            }
        }
        Ok(())
    }

    /// How many hosts are alive now, this one included (even before its
    /// first heartbeat lands).
    pub async fn hosts_alive(&self) -> Result<usize, StoreError> {
        let leases = self.store.leases().await?;
        Ok(hosts_alive(&leases).into_iter().filter(|host| *host != self.holder).count() + 1)
    }

    pub async fn acquire(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        self.store.acquire_lease(name, &self.holder, self.ttl).await
    }

    /// Whether `lease` is still this host's, renewed for another time to live.
    pub async fn renew(&self, lease: &Lease) -> Result<bool, StoreError> {
        self.store.renew_lease(&lease.name, &self.holder, lease.token, self.ttl).await
    }

    pub async fn release(&self, lease: &Lease) {
        if let Err(error) = self.store.release_lease(&lease.name, &self.holder, lease.token).await {
            tracing::warn!(lease = %lease.name, %error, "could not release the lease; it expires by itself");
        }
    }

    /// Leaves the cluster: this host's own lease expires now.
    pub async fn leave(&self) {
        let token = self.heartbeat.lock().expect("the heartbeat lock is not poisoned").take().map(|(token, _)| token);
        if let Some(token) = token {
            let _ = self.store.release_lease(&self.host_lease_name(), &self.holder, token).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fair_share;

    #[test]
    fn the_fair_share_rounds_up_so_every_piece_has_a_host() {
        assert_eq!(fair_share(6, 3), 2);
        assert_eq!(fair_share(7, 3), 3);
        assert_eq!(fair_share(2, 3), 1);
        assert_eq!(fair_share(0, 3), 0);
        assert_eq!(fair_share(5, 0), 5, "a host always counts itself");
    }
}
