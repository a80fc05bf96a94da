//! Read-model storage: JSON documents by handler, generation, collection
//! and key. The only way to write is `commit_handler_batch`, which applies
//! a batch's writes, its dead-letter changes and its checkpoint's advance in
//! one transaction, so an event's effects are never applied twice or half.
//!
//! A handler's read model has generations: readers see the live one, and a
//! blue/green rebuild fills the next one from position 0 beside it, then
//! makes it live in one transaction ([`ReadModelStore::finish_rebuild`]).

use async_trait::async_trait;
use serde::Serialize;

use super::dead_letters::NewDeadLetter;
use super::StoreError;

/// One write of a batch: a document, or its deletion (`value: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadModelWrite {
    pub collection: String,
    pub key: String,
    pub value: Option<String>,
}

/// Where a committed batch leaves the handler's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointAdvance {
    pub name: String,
    /// Where the committer last saw the checkpoint (0 when it had none). The
    /// commit is refused with [`StoreError::CheckpointMoved`] when another
    /// process has moved it since, so two runs of one handler can never
    /// apply the same events twice.
    pub expected_position: u64,
    pub position: u64,
    /// Events the batch handled, added to the checkpoint's count.
    pub events: u64,
}

/// Everything one handler batch changes, committed atomically.
#[derive(Debug, Clone, Default)]
pub struct HandlerCommit {
    pub handler: String,
    /// The read-model generation written; it must be live or building, or
    /// the commit is refused with [`StoreError::GenerationRetired`].
    pub generation: u64,
    pub writes: Vec<ReadModelWrite>,
    /// Added, or updated when the same event is already dead-lettered.
    pub dead_letters: Vec<NewDeadLetter>,
    /// Dead letters (by id) the batch resolved: handled or skipped.
    pub resolved_dead_letters: Vec<i64>,
    pub checkpoint: Option<CheckpointAdvance>,
    /// The lease the batch's work runs under: the commit is refused with
    /// [`StoreError::LeaseLost`] unless its token is still current.
    pub fence: Option<super::Fence>,
}

/// A handler's read-model generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Generations {
    /// What readers see; 0 until the first rebuild.
    pub live: u64,
    /// The copy a rebuild is filling, if one is under way.
    pub building: Option<u64>,
}

/// How a rebuild's generation becomes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildSwitch {
    pub handler: String,
    pub generation: u64,
    /// The rebuild's own checkpoint, which is removed.
    pub rebuild_checkpoint: String,
    /// The handler's live checkpoint, which takes over the rebuild's position.
    pub live_checkpoint: String,
}

/// A page of documents: keys that start with `prefix`, after `after` (the
/// last key of the previous page) when given, at most `limit`.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyPage<'a> {
    pub prefix: &'a str,
    pub after: Option<&'a str>,
    pub limit: usize,
}

impl<'a> KeyPage<'a> {
    pub fn prefixed(prefix: &'a str, limit: usize) -> Self {
        Self { prefix, after: None, limit }
    }

    /// The first key a scan reads: keys sort after their prefix, and the
    /// page's first key is at or after `after`.
    pub fn start(&self) -> &'a str {
        self.after.filter(|after| *after > self.prefix).unwrap_or(self.prefix)
    }

    /// Rows to ask for: one more than the limit, as the scan may meet
    /// `after` itself first.
    pub fn rows_to_read(&self) -> usize {
        self.limit.saturating_add(1)
    }

    /// The scan's rows (in key order, from [`Self::start`]) cut to the page:
    /// without `after` itself, up to the first key without the prefix.
    pub fn keep(&self, rows: impl IntoIterator<Item = Result<(String, String), StoreError>>) -> Result<Vec<(String, String)>, StoreError> {
        let mut documents = Vec::new();
        for row in rows {
            let (key, value) = row?;
            if !key.starts_with(self.prefix) || documents.len() == self.limit {
                break;
            }
            if Some(key.as_str()) != self.after {
                documents.push((key, value));
            }
        }
        Ok(documents)
    }
}

#[async_trait]
pub trait ReadModelStore: Send + Sync {
    async fn generations(&self, handler: &str) -> Result<Generations, StoreError>;

    /// A document of `generation`, or of the live one when `None`.
    async fn read_model_get(
        &self,
        handler: &str,
        generation: Option<u64>,
        collection: &str,
        key: &str,
    ) -> Result<Option<String>, StoreError>;

    /// One page of a collection's documents, by key: see [`KeyPage`].
    async fn read_model_list(
        &self,
        handler: &str,
        generation: Option<u64>,
        collection: &str,
        page: &KeyPage<'_>,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// The collections of `generation` (the live one when `None`) that hold
    /// documents, by name, at most `limit`.
    async fn read_model_collections(&self, handler: &str, generation: Option<u64>, limit: usize) -> Result<Vec<String>, StoreError>;

    /// Every document of `generation` (the live one when `None`), in
    /// (collection, key) order after `after`, at most `limit`: a walk over a
    /// whole read model, page by page, as (collection, key, value).
    async fn read_model_scan(
        &self,
        handler: &str,
        generation: Option<u64>,
        after: &(String, String),
        limit: usize,
    ) -> Result<Vec<(String, String, String)>, StoreError>;

    /// Applies the writes in order, the dead-letter changes and the
    /// checkpoint's advance, atomically.
    async fn commit_handler_batch(&self, commit: &HandlerCommit) -> Result<(), StoreError>;

    /// The generation a replay that is not the handler's live projection
    /// writes into: the one `checkpoint` already has, or a new one that no
    /// live, building or other replay generation uses. Commits to it are
    /// accepted; rebuilds leave it alone.
    async fn replay_generation(&self, handler: &str, checkpoint: Option<&str>) -> Result<u64, StoreError>;

    /// Starts a rebuild: a new, empty building generation, which replaces
    /// (and clears) any earlier rebuild that did not finish.
    async fn begin_rebuild(&self, handler: &str, rebuild_checkpoint: &str) -> Result<u64, StoreError>;

    /// Makes the building generation live and drops every other generation's
    /// documents and dead letters, atomically. Refused with
    /// [`StoreError::GenerationRetired`] when another rebuild replaced it.
    async fn finish_rebuild(&self, switch: &RebuildSwitch) -> Result<(), StoreError>;
}

/// A batch's writes reduced to their effect: the last write of each
/// document wins. Backends apply the puts as multi-row statements, which
/// PostgreSQL refuses when one statement names a document twice.
pub(crate) struct CoalescedWrites<'a> {
    pub puts: Vec<(&'a str, &'a str, &'a str)>,
    pub deletes: Vec<(&'a str, &'a str)>,
}

pub(crate) fn coalesce(writes: &[ReadModelWrite]) -> CoalescedWrites<'_> {
    let mut last = std::collections::HashMap::with_capacity(writes.len());
    for (index, write) in writes.iter().enumerate() {
        last.insert((write.collection.as_str(), write.key.as_str()), index);
    }
    let mut coalesced = CoalescedWrites { puts: Vec::new(), deletes: Vec::new() };
    for (index, write) in writes.iter().enumerate() {
        if last[&(write.collection.as_str(), write.key.as_str())] != index {
            continue;
        }
        match &write.value {
            Some(value) => coalesced.puts.push((&write.collection, &write.key, value)),
            None => coalesced.deletes.push((&write.collection, &write.key)),
        }
    }
    coalesced
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn write(collection: u8, key: u8, value: Option<u8>) -> ReadModelWrite {
        ReadModelWrite { collection: format!("c{collection}"), key: format!("k{key}"), value: value.map(|value| value.to_string()) }
    }

    proptest! {
        /// Coalescing keeps exactly the last write of each document, once,
        /// so applying it gives the same documents as applying every write.
        #[test]
        fn coalescing_keeps_the_last_write_of_each_document(
            writes in proptest::collection::vec((0u8..3, 0u8..4, proptest::option::of(0u8..9)), 0..30),
        ) {
            let writes: Vec<ReadModelWrite> = writes.into_iter().map(|(collection, key, value)| write(collection, key, value)).collect();
            let mut applied_one_by_one = std::collections::HashMap::new();
            for write in &writes {
                applied_one_by_one.insert((write.collection.as_str(), write.key.as_str()), write.value.as_deref());
            }
            let coalesced = coalesce(&writes);
            let mut applied_coalesced = std::collections::HashMap::new();
            for (collection, key, value) in &coalesced.puts {
                prop_assert!(applied_coalesced.insert((*collection, *key), Some(*value)).is_none(), "a document put twice");
            }
            for (collection, key) in &coalesced.deletes {
                prop_assert!(applied_coalesced.insert((*collection, *key), None).is_none(), "a document written twice");
            }
            prop_assert_eq!(applied_coalesced, applied_one_by_one);
        }
    }
}
