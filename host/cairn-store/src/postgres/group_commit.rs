//! Group commit on PostgreSQL: appends that arrive while the writer task is
//! busy share one transaction, so concurrent writers of one process share
//! the log head's lock and one commit (one WAL flush) instead of queueing
//! for one each.
//!
//! A group costs the same few round trips whatever its size: `BEGIN` with
//! the head's lock, one read of the head and of every stream version the
//! group needs (plus the caller-chosen event ids and command ids, when there
//! are any), one statement that inserts every event, moves the head and
//! notifies, and `COMMIT`. When the writer's memory of the log is enough
//! to plan the group, one statement does it all (`fast_append.rs`). Each
//! append is planned in memory against the appends before it in the group,
//! exactly as if they had committed one by one, so a conflict answers only
//! its own caller. A failed statement or
//! commit fails the whole group, and nothing of it is written.

use std::collections::HashMap;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::fast_append::{self, LogMemory};
use super::{commands, decode_row, InsertColumns};
use crate::append_queue::PendingAppend;
use crate::head::HeadWatch;
use crate::plan::{caller_ids, plan_append, streams_of, AppendPlan, StoreView};
use crate::{CommandAppend, CommandMark, CommandRecord, StoreError};
use cairn_event::{AppendRequest, RecordedEvent, StreamId};

/// Appends written in one transaction at most.
const MAX_GROUP: usize = 64;

/// What the group read under the lock, updated in memory as each append
/// of the group is planned.
#[derive(Default)]
struct GroupView {
    head: u64,
    stream_versions: HashMap<StreamId, u64>,
    existing_by_id: HashMap<Uuid, RecordedEvent>,
    records: HashMap<String, CommandRecord>,
}

pub(super) struct GroupWriter {
    pub pool: sqlx::PgPool,
    pub notify_channel: String,
    pub head: HeadWatch,
    /// What the writer knows of the log, for the one-statement path.
    pub memory: LogMemory,
}

impl GroupWriter {
    pub fn spawn(self) -> mpsc::Sender<PendingAppend> {
        let (sender, receiver) = mpsc::channel(MAX_GROUP * 4);
        tokio::spawn(self.run(receiver));
        sender
    }

    async fn run(mut self, mut pending: mpsc::Receiver<PendingAppend>) {
        use futures::FutureExt;
        let mut group = Vec::with_capacity(MAX_GROUP);
        while pending.recv_many(&mut group, MAX_GROUP).await > 0 {
            // A bug that panics while writing one group must not stop every
            // later append; the group's callers hear that it failed.
            let written = std::panic::AssertUnwindSafe(self.write(std::mem::take(&mut group))).catch_unwind().await;
            if let Err(panic) = written {
                let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("no message");
                tracing::error!(panic = message, "the PostgreSQL writer panicked while writing a group of appends; this is a bug in cairn");
                // The group may have committed before the panic: what the
                // writer remembers of the log can no longer be trusted.
                self.memory.forget();
            }
        }
    }

    async fn write(&mut self, group: Vec<PendingAppend>) {
        let (replies, appends): (Vec<_>, Vec<_>) = group.into_iter().map(|append| (append.reply, (append.request, append.command))).unzip();
        match self.write_group(appends).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                let message = error.to_string();
                let mut error = Some(error);
                for reply in replies {
                    let failure = error.take().unwrap_or_else(|| StoreError::Unreachable { url: "the PostgreSQL store".to_owned(), reason: message.clone() });
                    let _ = reply.send(Err(failure));
                }
            }
        }
    }

    /// Writes a group in one transaction: each append's own result, or the
    /// store's failure, which is every append's. One statement does it when
    /// the writer's memory of the log is enough (`fast_append.rs`).
    async fn write_group(&mut self, appends: Vec<(AppendRequest, Option<CommandMark>)>) -> Result<Vec<Result<CommandAppend, StoreError>>, StoreError> {
        if let Some(plan) = fast_append::plan_from_memory(&self.memory, &appends) {
            match fast_append::write(&self.pool, &mut self.memory, plan, &self.notify_channel).await {
                Ok(Some((head, results))) => {
                    self.head.publish(head);
                    return Ok(results);
                }
                // Another writer appended since: the full path reads the log.
                Ok(None) => {}
                // Not retried: a commit whose answer was lost may have written.
                Err(error) => {
                    self.memory.forget();
                    return Err(error.into());
                }
            }
        }
        let written = self.write_reading_the_log(appends).await;
        if written.is_err() {
            self.memory.forget();
        }
        written
    }

    /// The full path: reads the head, the streams' versions and whatever
    /// else the group needs under the head's lock, then writes and commits.
    async fn write_reading_the_log(&mut self, appends: Vec<(AppendRequest, Option<CommandMark>)>) -> Result<Vec<Result<CommandAppend, StoreError>>, StoreError> {
        let mut transaction = self.pool.begin_with(include_str!("../../queries/postgres/lock_log_head.sql")).await?;
        let mut view = read_group_view(&mut transaction, &appends).await?;
        let read_head = view.head;
        let now = cairn_event::time::now_micros();
        let mut rows: Vec<RecordedEvent> = Vec::new();
        let mut new_records = Vec::new();
        let mut results = Vec::with_capacity(appends.len());
        for (request, command) in appends {
            if let Some(earlier) = command.as_ref().and_then(|command| view.records.get(&command.command_id)) {
                results.push(Ok(CommandAppend::AlreadyRecorded(earlier.clone())));
                continue;
            }
            let store_view = StoreView {
                head_position: view.head,
                stream_versions: streams_of(&request).into_iter().map(|stream| { let version = view.stream_versions.get(&stream).copied().unwrap_or(0); (stream, version) }).collect(),
                existing_by_id: caller_ids(&request).into_iter().filter_map(|id| view.existing_by_id.get(&id).map(|event| (id, event.clone()))).collect(),
                now,
            };
            match plan_append(request, store_view) {
                Ok(plan) => {
                    remember(&mut view, &plan);
                    if let Some(record) = command.and_then(|command| CommandRecord::of_append(command, &plan.outcome, now)) {
                        view.records.insert(record.mark.command_id.clone(), record.clone());
                        new_records.push(record);
                    }
                    rows.extend(plan.new_rows);
                    results.push(Ok(CommandAppend::Appended(plan.outcome)));
                }
                Err(error) => results.push(Err(error)),
            }
        }
        if rows.is_empty() && new_records.is_empty() {
            self.memory.after_full_commit(read_head, view.head, &view.stream_versions);
            return Ok(results);
        }
        if !rows.is_empty() {
            insert_events(&mut transaction, &rows, view.head, &self.notify_channel).await?;
        }
        for record in &new_records {
            commands::insert_record(&mut transaction, record).await?;
        }
        transaction.commit().await?;
        self.memory.after_full_commit(read_head, view.head, &view.stream_versions);
        if !rows.is_empty() {
            self.head.publish(view.head);
        }
        Ok(results)
    }
}

/// Reads, under the lock, what planning the group needs.
async fn read_group_view(connection: &mut sqlx::PgConnection, appends: &[(AppendRequest, Option<CommandMark>)]) -> Result<GroupView, StoreError> {
    let mut streams: Vec<StreamId> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    for (request, _) in appends {
        for stream in streams_of(request) {
            if !streams.contains(&stream) {
                streams.push(stream);
            }
        }
        ids.extend(caller_ids(request));
    }
    let aggregate_types: Vec<&str> = streams.iter().map(|stream| stream.aggregate_type.as_str()).collect();
    let aggregate_ids: Vec<&str> = streams.iter().map(|stream| stream.aggregate_id.as_str()).collect();
    let rows: Vec<(Option<String>, Option<String>, i64)> =
        sqlx::query_as(include_str!("../../queries/postgres/group_view.sql")).bind(&aggregate_types).bind(&aggregate_ids).fetch_all(&mut *connection).await?;
    let mut view = GroupView::default();
    for (aggregate_type, aggregate_id, version) in rows {
        match (aggregate_type, aggregate_id) {
            (Some(aggregate_type), Some(aggregate_id)) => {
                view.stream_versions.insert(StreamId::new(aggregate_type, aggregate_id), version as u64);
            }
            _ => view.head = version as u64,
        }
    }
    if !ids.is_empty() {
        let rows = sqlx::query(include_str!("../../queries/postgres/events_by_ids.sql")).bind(&ids).fetch_all(&mut *connection).await?;
        for row in rows {
            let event = decode_row(&row)?;
            view.existing_by_id.insert(event.id, event);
        }
    }
    for command in appends.iter().filter_map(|(_, command)| command.as_ref()) {
        if let Some(earlier) = commands::read_record(&mut *connection, &command.command_id).await? {
            view.records.insert(earlier.mark.command_id.clone(), earlier);
        }
    }
    Ok(view)
}

/// Records a planned append in the view, for the appends after it.
fn remember(view: &mut GroupView, plan: &AppendPlan) {
    for row in &plan.new_rows {
        view.head = view.head.max(row.global_position);
        view.stream_versions.insert(StreamId::new(row.aggregate_type.clone(), row.aggregate_id.clone()), row.stream_version);
        view.existing_by_id.insert(row.id, row.clone());
    }
}

/// Inserts the group's rows, moves the head and notifies, in one statement.
async fn insert_events(connection: &mut sqlx::PgConnection, rows: &[RecordedEvent], head: u64, channel: &str) -> Result<(), sqlx::Error> {
    let columns = InsertColumns::of(rows);
    columns
        .bind(sqlx::query(include_str!("../../queries/postgres/insert_events.sql")))
        .bind(head as i64)
        .bind(channel)
        .execute(connection)
        .await?;
    Ok(())
}
