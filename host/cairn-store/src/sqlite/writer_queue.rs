//! Who runs the writer: the caller that finds it idle. An append is
//! queued; if no one is writing, its caller becomes the leader and writes
//! the queue's first group itself, where `blocking::run_blocking` runs it
//! (for `cairn exec`, on the command's own thread), with no hand-off to a
//! writer thread and back (two thread wake-ups, which cost a single writer
//! more than its commit). Callers that arrive while a leader writes wait
//! for their answer, and their appends share the next group's commit.
//! Other writes are rarer and may wait on their caller, so they are led
//! from a blocking-pool thread.
//!
//! Invariants:
//! - At most one leader at a time (`leading`), so the writer connection and
//!   its log cache have one user, as with a thread of their own.
//! - No write is left behind: the leader flag is cleared only under the
//!   queue's lock and only when the queue is empty, so a caller that queues
//!   after that becomes the next leader.
//! - A caller's wait is bounded by one group besides its own: a leader that
//!   has written the group holding its own write hands the rest of the
//!   queue to a blocking-pool thread, which leads until the queue is empty.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use super::database::WriterJob;
use super::group_commit::{GroupWriter, MAX_GROUP};
use crate::append_queue::PendingAppend;

pub(super) struct WriterQueue {
    waiting: Mutex<Waiting>,
    /// Locked only by the leader, so never contended.
    writer: Mutex<GroupWriter>,
    /// Where a leader hands the rest of the queue over.
    runtime: tokio::runtime::Handle,
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<WriterJob>,
    leading: bool,
}

/// What a leader takes from the queue at once.
enum Turn {
    Group(Vec<PendingAppend>),
    Run(Box<dyn FnOnce(&mut rusqlite::Connection) + Send>),
}

impl WriterQueue {
    pub fn new(writer: GroupWriter, runtime: tokio::runtime::Handle) -> Arc<Self> {
        Arc::new(Self { waiting: Mutex::new(Waiting::default()), writer: Mutex::new(writer), runtime })
    }

    /// Queues an append, and writes it now when no one else is writing.
    /// Blocks while it writes, so it is called through
    /// `blocking::run_blocking`; the append's own reply channel carries its
    /// answer either way.
    pub fn append_here(self: &Arc<Self>, append: PendingAppend) {
        if self.queue(WriterJob::Append(append)) {
            // The queue held only this append when its caller became
            // leader, so the first turn writes it.
            if self.take_turn() {
                self.lead_elsewhere();
            }
        }
    }

    /// Queues any other write, to run on a blocking-pool thread when no one
    /// else is writing. Never in place: a registry change waits, inside its
    /// transaction, for a verdict from its caller's task.
    pub fn run_elsewhere(self: &Arc<Self>, work: Box<dyn FnOnce(&mut rusqlite::Connection) + Send>) {
        if self.queue(WriterJob::Run(work)) {
            self.lead_elsewhere();
        }
    }

    /// Queues `job`; answers whether its caller has become the leader.
    fn queue(&self, job: WriterJob) -> bool {
        let mut waiting = self.waiting();
        waiting.jobs.push_back(job);
        !std::mem::replace(&mut waiting.leading, true)
    }

    /// Leads on a blocking-pool thread until the queue is empty: of the
    /// caller's runtime, which is running, else of the one that opened the
    /// store.
    fn lead_elsewhere(self: &Arc<Self>) {
        let queue = self.clone();
        let runtime = tokio::runtime::Handle::try_current().unwrap_or_else(|_| self.runtime.clone());
        runtime.spawn_blocking(move || while queue.take_turn() {});
    }

    /// Writes the queue's next group (or other write); answers whether more
    /// is waiting, or else gives up the lead.
    fn take_turn(&self) -> bool {
        let turn = {
            let mut waiting = self.waiting();
            match waiting.jobs.pop_front() {
                None => {
                    waiting.leading = false;
                    return false;
                }
                Some(WriterJob::Run(work)) => Turn::Run(work),
                Some(WriterJob::Append(first)) => {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP && matches!(waiting.jobs.front(), Some(WriterJob::Append(_))) {
                        if let Some(WriterJob::Append(append)) = waiting.jobs.pop_front() {
                            group.push(append);
                        }
                    }
                    Turn::Group(group)
                }
            }
        };
        let mut writer = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match turn {
            Turn::Run(work) => writer.guarded("a write", |writer| work(writer.connection())),
            Turn::Group(group) => writer.guarded("a group of appends", |writer| writer.write(group)),
        }
        drop(writer);
        let mut waiting = self.waiting();
        if waiting.jobs.is_empty() {
            waiting.leading = false;
            return false;
        }
        true
    }

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        // The queue's state is a list and a flag, consistent at every
        // unlock; a panic elsewhere cannot leave it half-changed.
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
