//! The one-round-trip append. A group is planned against what this
//! process's writer knows of the log since its own last commit (the head
//! and the versions of streams it has seen), and written by one statement
//! that checks, under the head's lock, that the head has not moved since.
//! Positions are gap-free and versions checked exactly as on the full path:
//! an unmoved head means no one else has appended since the writer last
//! knew the log, so what it knows is what the log is.
//!
//! It is taken only when planning needs nothing the writer does not know:
//! no command records to check or write, no caller-chosen event ids, every
//! stream already seen, and no append that would conflict (a conflict
//! found in memory might only mean the memory is old). Anything else, and
//! a head that moved, goes the full way (`group_commit.rs`), which reads
//! the log under the lock and refreshes the memory.
//!
//! This rests on events changing only by appends, which move the head (as
//! SQLite's writer memory rests on `data_version`). A feature that deletes
//! or rewrites events must move the head too, or the memory of a stream's
//! version would outlive the stream.

use std::collections::HashMap;

use super::InsertColumns;
use crate::plan::{caller_ids, plan_append, streams_of, StoreView};
use crate::{CommandAppend, CommandMark, StoreError};
use cairn_event::{AppendRequest, RecordedEvent, StreamId};

/// Streams whose version the writer remembers; past this it starts afresh.
const REMEMBERED_STREAMS: usize = 65_536;

/// What the writer knows of the log: right while the head is at `head`.
#[derive(Default)]
pub(super) struct LogMemory {
    /// None until the writer has committed or read under the lock.
    head: Option<u64>,
    stream_versions: HashMap<StreamId, u64>,
}

impl LogMemory {
    /// After a full-path commit: `read_head` is the head the group read
    /// under the lock, `streams` the versions it read and wrote. What was
    /// remembered before still holds only if no one moved the head since.
    pub fn after_full_commit(&mut self, read_head: u64, new_head: u64, streams: &HashMap<StreamId, u64>) {
        if self.head != Some(read_head) || self.stream_versions.len() > REMEMBERED_STREAMS {
            self.stream_versions.clear();
        }
        self.stream_versions.extend(streams.iter().map(|(stream, version)| (stream.clone(), *version)));
        self.head = Some(new_head);
    }

    /// After a failure: nothing remembered can be trusted.
    pub fn forget(&mut self) {
        *self = Self::default();
    }
}

/// A group planned from memory, ready for the one statement.
pub(super) struct FastPlan {
    rows: Vec<RecordedEvent>,
    results: Vec<Result<CommandAppend, StoreError>>,
    expected_head: u64,
    new_head: u64,
    stream_versions: HashMap<StreamId, u64>,
}

/// Plans `appends` from memory; None when the full path is needed.
pub(super) fn plan_from_memory(memory: &LogMemory, appends: &[(AppendRequest, Option<CommandMark>)]) -> Option<FastPlan> {
    let expected_head = memory.head?;
    let mut stream_versions = HashMap::new();
    for (request, command) in appends {
        if command.is_some() || !caller_ids(request).is_empty() {
            return None;
        }
        for stream in streams_of(request) {
            let version = *memory.stream_versions.get(&stream)?;
            stream_versions.entry(stream).or_insert(version);
        }
    }
    let now = cairn_event::time::now_micros();
    let (mut head, mut rows, mut results) = (expected_head, Vec::new(), Vec::with_capacity(appends.len()));
    for (request, _) in appends {
        let view = StoreView {
            head_position: head,
            stream_versions: streams_of(request).into_iter().map(|stream| { let version = stream_versions[&stream]; (stream, version) }).collect(),
            existing_by_id: HashMap::new(),
            now,
        };
        let plan = plan_append(request.clone(), view).ok()?;
        for row in &plan.new_rows {
            head = head.max(row.global_position);
            stream_versions.insert(StreamId::new(row.aggregate_type.clone(), row.aggregate_id.clone()), row.stream_version);
        }
        rows.extend(plan.new_rows);
        results.push(Ok(CommandAppend::Appended(plan.outcome)));
    }
    Some(FastPlan { rows, results, expected_head, new_head: head, stream_versions })
}

/// Writes a plan with one statement; None when the head had moved (nothing
/// was written). An error leaves nothing written either.
pub(super) async fn write(pool: &sqlx::PgPool, memory: &mut LogMemory, plan: FastPlan, channel: &str) -> Result<Option<(u64, Vec<Result<CommandAppend, StoreError>>)>, sqlx::Error> {
    if !plan.rows.is_empty() {
        let columns = InsertColumns::of(&plan.rows);
        let row = columns
            .bind(sqlx::query(include_str!("../../queries/postgres/insert_events_at_head.sql")))
            .bind(plan.new_head as i64)
            .bind(channel)
            .bind(plan.expected_head as i64)
            .fetch_one(pool)
            .await?;
        let written: bool = sqlx::Row::try_get(&row, "written")?;
        if !written {
            return Ok(None);
        }
    }
    memory.head = Some(plan.new_head);
    memory.stream_versions.extend(plan.stream_versions);
    Ok(Some((plan.new_head, plan.results)))
}
