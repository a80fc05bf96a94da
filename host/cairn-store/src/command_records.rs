//! Records of commands that ran with a caller's id, which make the id run
//! once. The record of a command that appended is written in the append's
//! own transaction ([`EventStore::append_command`](crate::EventStore::append_command)),
//! so that a duplicate racing the original either finds the record or loses
//! at commit; a command that decided nothing or was rejected is recorded on
//! its own ([`CommandRecordStore::record_command`]). Every record-writing
//! transaction is serialized with appends (SQLite's write lock, PostgreSQL's
//! log-head lock), so each sees the records committed before it.
//!
//! The store only keeps records; what a record means for a command (answer
//! it again, or refuse an id re-used for another command) is decided by the
//! command path in the `cairn` crate.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::StoreError;
use cairn_event::AppendOutcome;

/// What identifies one command, written with its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandMark {
    pub command_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub command_type: String,
    /// A digest of the command (type, stream, payload), computed by the
    /// caller; the same id with another digest is another command.
    pub digest: String,
    /// The aggregate plugin and version that decided.
    pub plugin: String,
    pub plugin_version: u64,
}

/// How a recorded command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CommandResult {
    /// It appended the events at these global positions (one append's
    /// positions are consecutive), leaving its stream at `stream_version`.
    Appended { first_position: u64, last_position: u64, stream_version: u64 },
    /// It decided no events; the stream was at `stream_version`.
    NothingToDo { stream_version: u64 },
    /// The aggregate refused it with this message.
    Rejected { message: String },
}

impl CommandResult {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CommandResult::Appended { .. } => "appended",
            CommandResult::NothingToDo { .. } => "nothing_to_do",
            CommandResult::Rejected { .. } => "rejected",
        }
    }

    /// The result from its stored columns: kind, first and last position,
    /// stream version, message.
    pub(crate) fn from_columns(kind: &str, first: Option<i64>, last: Option<i64>, version: Option<i64>, message: Option<String>) -> Result<Self, StoreError> {
        let whole = |value: Option<i64>, column: &str| {
            value.map(|value| value as u64).ok_or_else(|| StoreError::CorruptRow(format!("a recorded command of kind {kind} lacks its {column}")))
        };
        Ok(match kind {
            "appended" => CommandResult::Appended {
                first_position: whole(first, "first_position")?,
                last_position: whole(last, "last_position")?,
                stream_version: whole(version, "stream_version")?,
            },
            "nothing_to_do" => CommandResult::NothingToDo { stream_version: whole(version, "stream_version")? },
            "rejected" => CommandResult::Rejected { message: message.unwrap_or_default() },
            other => return Err(StoreError::CorruptRow(format!("a recorded command has the unknown result `{other}`"))),
        })
    }

    /// The columns first_position, last_position, stream_version, message.
    pub(crate) fn columns(&self) -> (Option<i64>, Option<i64>, Option<i64>, Option<&str>) {
        match self {
            CommandResult::Appended { first_position, last_position, stream_version } => {
                (Some(*first_position as i64), Some(*last_position as i64), Some(*stream_version as i64), None)
            }
            CommandResult::NothingToDo { stream_version } => (None, None, Some(*stream_version as i64), None),
            CommandResult::Rejected { message } => (None, None, None, Some(message)),
        }
    }
}

/// A command as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandRecord {
    #[serde(flatten)]
    pub mark: CommandMark,
    #[serde(flatten)]
    pub result: CommandResult,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub recorded_at: DateTime<Utc>,
}

impl CommandRecord {
    /// The record of an append that `outcome` describes.
    pub(crate) fn of_append(mark: CommandMark, outcome: &AppendOutcome, now: DateTime<Utc>) -> Option<Self> {
        let first = outcome.events.iter().map(|event| event.global_position).min()?;
        let last = outcome.events.iter().map(|event| event.global_position).max()?;
        let stream_version = outcome
            .events
            .iter()
            .filter(|event| event.aggregate_type == mark.aggregate_type && event.aggregate_id == mark.aggregate_id)
            .map(|event| event.stream_version)
            .max()
            .unwrap_or_default();
        Some(Self { mark, result: CommandResult::Appended { first_position: first, last_position: last, stream_version }, recorded_at: now })
    }
}

/// What [`EventStore::append_command`](crate::EventStore::append_command) did.
#[derive(Debug, Clone)]
pub enum CommandAppend {
    /// The events were appended and the command recorded with them.
    Appended(AppendOutcome),
    /// A command with this id was recorded first; nothing was written.
    AlreadyRecorded(CommandRecord),
}

/// Command records, implemented by every backend.
#[async_trait]
pub trait CommandRecordStore: Send + Sync {
    /// The record of a command id, if it ran (and was not pruned).
    async fn command_record(&self, command_id: &str) -> Result<Option<CommandRecord>, StoreError>;

    /// Records a command that appended nothing, unless its id is recorded
    /// already: then nothing is written and the earlier record is answered.
    async fn record_command(&self, record: &CommandRecord) -> Result<Option<CommandRecord>, StoreError>;

    /// Deletes records written before `recorded_before`; answers how many.
    async fn prune_command_records(&self, recorded_before: DateTime<Utc>) -> Result<u64, StoreError>;
}
