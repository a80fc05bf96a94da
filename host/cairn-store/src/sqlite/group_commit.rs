//! The writer: the writer connection and what it knows of the log. Appends
//! that arrive while it is busy are written in one transaction, so many
//! concurrent writers share one commit instead of queueing for one each.
//! Other writes (read models, the registry, checkpoints) run between groups.
//! Whose thread it runs on is `writer_queue.rs`'s business.
//!
//! Each append in a group is planned against the appends before it, exactly
//! as if they had committed one by one: a conflict or a bad event is refused
//! before it writes anything and answers only its caller. The plan has
//! already checked every constraint the rows could break, so an INSERT fails
//! only when the store itself fails (disk full, I/O error), and SQLite may
//! then have rolled back the whole transaction; so a failed INSERT, like a
//! failed commit, fails every append of the group and nothing is written.
//!
//! The plan reads the log's head and stream versions from [`LogCache`], the
//! writer's memory of what it wrote, instead of querying for them. The
//! cache is trusted only while `PRAGMA data_version`, read under the write
//! lock, says no other connection (another process) has committed since.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use tokio::sync::oneshot;

use super::{commands, rows};
use crate::append_queue::PendingAppend;
use crate::head::HeadWatch;
use crate::plan::{caller_ids, plan_append, streams_of, AppendPlan, StoreView};
use crate::{CommandAppend, CommandMark, CommandRecord, StoreError};
use cairn_event::{AppendRequest, StreamId};

/// Appends written in one transaction at most; enough to amortize the
/// commit, few enough that one group never holds the writer for long.
pub(super) const MAX_GROUP: usize = 64;
/// Streams whose version the cache remembers; past this it starts afresh.
const CACHED_STREAMS: usize = 65_536;

/// What the writer made of one append before the commit.
enum Planned {
    Append(AppendPlan),
    /// Its command id was recorded already (perhaps earlier in this group).
    Recorded(CommandRecord),
}

/// What the writer knows of the log without asking: valid while no other
/// connection has committed (`data_version` unchanged).
struct LogCache {
    data_version: Option<i64>,
    head: u64,
    stream_versions: HashMap<StreamId, u64>,
}

pub(super) struct GroupWriter {
    connection: Connection,
    insert_statements: Vec<String>,
    head: HeadWatch,
    location: String,
    cache: LogCache,
}

impl GroupWriter {
    pub fn new(connection: Connection, head: HeadWatch, location: String) -> Self {
        let cache = LogCache { data_version: None, head: 0, stream_versions: HashMap::new() };
        GroupWriter { connection, insert_statements: rows::insert_statements(), head, location, cache }
    }

    pub fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }

    /// Runs `work`; a panic in it (a bug) must not stop every later write.
    /// The callers of the failed work hear that it failed (their reply
    /// senders are dropped), an open transaction is rolled back, and the
    /// cache, which may hold what was rolled back, is dropped.
    pub fn guarded(&mut self, what: &str, work: impl FnOnce(&mut Self)) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self)));
        if let Err(panic) = outcome {
            let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("no message");
            tracing::error!(panic = message, "the SQLite writer panicked while writing {what}; this is a bug in cairn");
            self.abandon();
        }
    }

    /// Rolls back an open transaction and drops the cache, which may hold
    /// what was rolled back.
    fn abandon(&mut self) {
        if !self.connection.is_autocommit() {
            let _ = self.connection.execute_batch("ROLLBACK");
        }
        self.cache.data_version = None;
    }

    pub fn write(&mut self, group: Vec<PendingAppend>) {
        if let Err(error) = self.connection.execute_batch("BEGIN IMMEDIATE").map_err(StoreError::from).and_then(|()| self.refresh_cache()) {
            self.abandon();
            return answer_all(group, &self.location, &error.to_string());
        }
        let mut planned: Vec<(oneshot::Sender<_>, Result<Planned, StoreError>)> = Vec::with_capacity(group.len());
        let mut store_failure = None;
        for append in group {
            if store_failure.is_some() {
                planned.push((append.reply, Err(commit_failed(&self.location, "an earlier append of its group failed to write"))));
                continue;
            }
            let (result, failure) = self.write_one(append.request, append.command);
            store_failure = failure;
            planned.push((append.reply, result));
        }
        let committed = match store_failure {
            Some(message) => Err(message),
            None => self.connection.execute_batch("COMMIT").map_err(|error| error.to_string()),
        };
        if let Err(message) = committed {
            self.abandon();
            for (reply, result) in planned {
                let _ = reply.send(Err(result.err().unwrap_or_else(|| commit_failed(&self.location, &message))));
            }
            return;
        }
        self.head.publish(self.cache.head);
        for (reply, result) in planned {
            let _ = reply.send(result.map(|planned| match planned {
                Planned::Append(plan) => CommandAppend::Appended(plan.outcome),
                Planned::Recorded(record) => CommandAppend::AlreadyRecorded(record),
            }));
        }
    }

    /// Under the write lock: drops the cache if another connection has
    /// committed since the writer last looked, and reloads the head.
    fn refresh_cache(&mut self) -> Result<(), StoreError> {
        let data_version: i64 = self.connection.query_row("PRAGMA data_version", [], |row| row.get(0))?;
        if self.cache.data_version == Some(data_version) && self.cache.stream_versions.len() < CACHED_STREAMS {
            return Ok(());
        }
        let head: i64 = self.connection.prepare_cached(include_str!("../../queries/sqlite/head_position.sql"))?.query_row([], |row| row.get(0))?;
        self.cache = LogCache { data_version: Some(data_version), head: head as u64, stream_versions: HashMap::new() };
        Ok(())
    }

    /// Plans and writes one append of a group, and its command's record:
    /// its own result, and the store's failure if writing failed (which
    /// fails the whole group).
    fn write_one(&mut self, request: AppendRequest, command: Option<CommandMark>) -> (Result<Planned, StoreError>, Option<String>) {
        if let Some(command) = &command {
            match commands::read_record(&self.connection, &command.command_id) {
                Ok(Some(earlier)) => return (Ok(Planned::Recorded(earlier)), None),
                Ok(None) => {}
                Err(error) => return (Err(error), None),
            }
        }
        let plan = match self.view(&request) {
            Ok(view) => plan_append(request, view),
            Err(error) => Err(error),
        };
        let plan = match plan {
            Ok(plan) => plan,
            Err(error) => return (Err(error), None),
        };
        if let Err(error) = rows::insert_events(&self.connection, &self.insert_statements, &plan.new_rows) {
            return (Ok(Planned::Append(plan)), Some(error.to_string()));
        }
        if let Some(record) = command.and_then(|command| CommandRecord::of_append(command, &plan.outcome, cairn_event::time::now_micros())) {
            if let Err(error) = commands::insert_record(&self.connection, &record) {
                return (Ok(Planned::Append(plan)), Some(error.to_string()));
            }
        }
        for row in &plan.new_rows {
            self.cache.head = self.cache.head.max(row.global_position);
            self.cache.stream_versions.insert(StreamId::new(row.aggregate_type.clone(), row.aggregate_id.clone()), row.stream_version);
        }
        (Ok(Planned::Append(plan)), None)
    }

    /// What the plan needs, from the cache, and from indexed lookups for
    /// the event ids the caller chose and for streams the cache lacks.
    fn view(&mut self, request: &AppendRequest) -> Result<StoreView, StoreError> {
        let mut existing_by_id = HashMap::new();
        for id in caller_ids(request) {
            let mut statement = self.connection.prepare_cached(include_str!("../../queries/sqlite/event_by_id.sql"))?;
            if let Some(event) = statement.query_row([id.as_bytes().as_slice()], rows::decode_event).optional()? {
                let event = event?;
                existing_by_id.insert(event.id, event);
            }
        }
        let mut stream_versions = HashMap::new();
        for stream in streams_of(request) {
            let version = match self.cache.stream_versions.get(&stream) {
                Some(version) => *version,
                None => {
                    let mut statement = self.connection.prepare_cached(include_str!("../../queries/sqlite/stream_version.sql"))?;
                    let version: i64 = statement.query_row([&stream.aggregate_type, &stream.aggregate_id], |row| row.get(0))?;
                    self.cache.stream_versions.insert(stream.clone(), version as u64);
                    version as u64
                }
            };
            stream_versions.insert(stream, version);
        }
        Ok(StoreView { head_position: self.cache.head, stream_versions, existing_by_id, now: cairn_event::time::now_micros() })
    }
}

fn commit_failed(location: &str, message: &str) -> StoreError {
    StoreError::Unreachable { url: location.to_owned(), reason: format!("the commit failed, so nothing of this append was written: {message}") }
}

fn answer_all(group: Vec<PendingAppend>, location: &str, message: &str) {
    for append in group {
        let _ = append.reply.send(Err(commit_failed(location, message)));
    }
}
