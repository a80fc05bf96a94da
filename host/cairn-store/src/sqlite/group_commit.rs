//! Group commit: appends that arrive while the writer is busy are written in
//! one SQLite transaction, so many concurrent writers share one commit
//! instead of queueing for one each.
//!
//! Each append in a group is planned against the appends before it, exactly
//! as if they had committed one by one: a conflict or a bad event is refused
//! before it writes anything and answers only its caller. The plan has
//! already checked every constraint the rows could break, so an INSERT fails
//! only when the store itself fails (disk full, I/O error), and SQLite may
//! then have rolled back the whole transaction; so a failed INSERT, like a
//! failed commit, fails every append of the group and nothing is written.

use tokio::sync::{mpsc, oneshot};

use super::{commands, insert_rows, SqliteStore};
use cairn_event::AppendRequest;
use crate::head::HeadWatch;
use crate::plan::{plan_append, AppendPlan};
use crate::{CommandAppend, CommandMark, CommandRecord, StoreError};

/// Appends written in one transaction at most; enough to amortize the
/// commit, few enough that one group never holds the writer for long.
const MAX_GROUP: usize = 64;

pub(super) struct PendingAppend {
    pub request: AppendRequest,
    /// The command that decided the events, recorded with them.
    pub command: Option<CommandMark>,
    pub reply: oneshot::Sender<Result<CommandAppend, StoreError>>,
}

/// What the writer made of one append before the commit.
enum Planned {
    Append(AppendPlan),
    /// Its command id was recorded already (perhaps earlier in this group).
    Recorded(CommandRecord),
}

/// The writer's side: what it needs to write, owned, so that it runs as a
/// task of its own for as long as the store has a handle to it.
pub(super) struct GroupWriter {
    pub pool: sqlx::SqlitePool,
    pub insert_statements: Vec<String>,
    pub head: HeadWatch,
}

impl GroupWriter {
    pub fn spawn(self) -> mpsc::Sender<PendingAppend> {
        let (sender, receiver) = mpsc::channel(MAX_GROUP * 4);
        tokio::spawn(self.run(receiver));
        sender
    }

    async fn run(self, mut pending: mpsc::Receiver<PendingAppend>) {
        use futures::FutureExt;
        let mut group = Vec::with_capacity(MAX_GROUP);
        while pending.recv_many(&mut group, MAX_GROUP).await > 0 {
            // A bug that panics while writing one group must not stop every
            // later append: the group's callers hear that it failed (their
            // reply senders are dropped), its transaction rolls back as it
            // is dropped, and the writer goes on with the next group.
            let written = std::panic::AssertUnwindSafe(self.write(std::mem::take(&mut group))).catch_unwind().await;
            if let Err(panic) = written {
                let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("no message");
                tracing::error!(panic = message, "the SQLite writer panicked while writing a group of appends; this is a bug in cairn");
            }
        }
    }

    async fn write(&self, group: Vec<PendingAppend>) {
        let mut transaction = match self.pool.begin_with("BEGIN IMMEDIATE").await {
            Ok(transaction) => transaction,
            Err(error) => return answer_all(group, &error.to_string()),
        };
        let mut planned: Vec<(oneshot::Sender<_>, Result<Planned, StoreError>)> = Vec::with_capacity(group.len());
        let mut store_failure = None;
        for append in group {
            if store_failure.is_some() {
                planned.push((append.reply, Err(commit_failed("an earlier append of its group failed to write"))));
                continue;
            }
            let (result, failure) = self.write_one(&mut transaction, append.request, append.command).await;
            store_failure = failure;
            planned.push((append.reply, result));
        }
        let committed = match store_failure {
            Some(message) => {
                let _ = transaction.rollback().await;
                Err(message)
            }
            None => transaction.commit().await.map_err(|error| error.to_string()),
        };
        if let Err(message) = committed {
            for (reply, result) in planned {
                let _ = reply.send(Err(result.err().unwrap_or_else(|| commit_failed(&message))));
            }
            return;
        }
        let new_head = planned.iter().filter_map(|(_, result)| match result {
            Ok(Planned::Append(plan)) => plan.new_head_position(),
            _ => None,
        });
        if let Some(head) = new_head.max() {
            self.head.publish(head);
        }
        for (reply, result) in planned {
            let _ = reply.send(result.map(|planned| match planned {
                Planned::Append(plan) => CommandAppend::Appended(plan.outcome),
                Planned::Recorded(record) => CommandAppend::AlreadyRecorded(record),
            }));
        }
    }

    /// Plans and writes one append of a group, and its command's record:
    /// its own result, and the store's failure if writing failed (which
    /// fails the whole group).
    async fn write_one(
        &self,
        transaction: &mut sqlx::SqliteConnection,
        request: AppendRequest,
        command: Option<CommandMark>,
    ) -> (Result<Planned, StoreError>, Option<String>) {
        if let Some(command) = &command {
            match commands::read_record(&mut *transaction, &command.command_id).await {
                Ok(Some(earlier)) => return (Ok(Planned::Recorded(earlier)), None),
                Ok(None) => {}
                Err(error) => return (Err(error), None),
            }
        }
        let plan = match SqliteStore::read_view(&mut *transaction, &request).await {
            Ok(view) => plan_append(request, view),
            Err(error) => Err(error),
        };
        let plan = match plan {
            Ok(plan) => plan,
            Err(error) => return (Err(error), None),
        };
        if let Err(error) = insert_rows(&mut *transaction, &self.insert_statements, &plan.new_rows).await {
            return (Ok(Planned::Append(plan)), Some(error.to_string()));
        }
        if let Some(record) = command.and_then(|command| CommandRecord::of_append(command, &plan.outcome, cairn_event::time::now_micros())) {
            if let Err(error) = commands::insert_record(&mut *transaction, &record).await {
                return (Ok(Planned::Append(plan)), Some(error.to_string()));
            }
        }
        (Ok(Planned::Append(plan)), None)
    }
}

fn commit_failed(message: &str) -> StoreError {
    StoreError::Unreachable { url: "the SQLite store".to_owned(), reason: format!("the commit failed, so nothing of this append was written: {message}") }
}

fn answer_all(group: Vec<PendingAppend>, message: &str) {
    for append in group {
        let _ = append.reply.send(Err(commit_failed(message)));
    }
}
