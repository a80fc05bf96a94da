//! How many calls of one plugin version run at once. A call first waits for
//! a permit, asynchronously, holding no thread; only then does it take a
//! blocking thread. So a plugin whose calls are slow fills its own queue,
//! not the host's thread pool, and other plugins' calls go on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct CallGate {
    limit: usize,
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
}

/// A place among the calls running at once; freed when dropped.
pub struct CallPermit {
    _permit: OwnedSemaphorePermit,
}

/// The gate's state, for readiness checks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GateReading {
    pub limit: usize,
    pub running: usize,
    pub waiting: usize,
}

impl GateReading {
    /// Every place taken and calls queued behind them.
    pub fn saturated(&self) -> bool {
        self.waiting > 0
    }
}

impl CallGate {
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self { limit, permits: Arc::new(Semaphore::new(limit)), waiting: Arc::new(AtomicUsize::new(0)) }
    }

    /// Waits for a place. Dropping the future (a request that timed out)
    /// leaves the queue at once.
    pub async fn admit(&self) -> CallPermit {
        let waiting = WaitingCount::new(&self.waiting);
        let permit = self.permits.clone().acquire_owned().await.expect("the gate's semaphore is never closed");
        drop(waiting);
        CallPermit { _permit: permit }
    }

    pub fn reading(&self) -> GateReading {
        GateReading { limit: self.limit, running: self.limit - self.permits.available_permits(), waiting: self.waiting.load(Ordering::Relaxed) }
    }
}

/// Counts a waiter for as long as it waits, however its wait ends.
struct WaitingCount<'a>(&'a AtomicUsize);

impl<'a> WaitingCount<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for WaitingCount<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
