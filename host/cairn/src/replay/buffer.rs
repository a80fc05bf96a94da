//! A batch's read-model access: writes are buffered (and read back by later
//! events of the same batch), reads fall through to a per-run document cache
//! and then to the store. Nothing reaches the store until the batch commits
//! with its checkpoint.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::runtime::types::ReadModelAccess;
use crate::store::{EventStore, ReadModelWrite};

type DocumentKey = (String, String);

/// Documents of one handler generation as committed, shared by a run's
/// batches. It is only correct while this run is the generation's sole
/// writer, which the checkpoint's expected position guarantees: a commit
/// after another writer's is refused, and the run then clears the cache.
pub struct DocumentCache {
    documents: Mutex<HashMap<DocumentKey, Option<String>>>,
    capacity: usize,
    /// The cache is the whole read model (a shadow run's throwaway one): it
    /// is never emptied, and a document it lacks does not exist.
    whole: bool,
}

impl DocumentCache {
    pub fn new(capacity: usize) -> Self {
        Self { documents: Mutex::new(HashMap::new()), capacity, whole: false }
    }

    /// A read model held only in memory, with nothing behind it in the store.
    pub fn whole() -> Self {
        Self { documents: Mutex::new(HashMap::new()), capacity: usize::MAX, whole: true }
    }

    /// The documents that exist, by (collection, key).
    pub fn documents(&self) -> HashMap<DocumentKey, String> {
        let documents = self.documents.lock().expect("the cache lock is not poisoned");
        documents.iter().filter_map(|(key, value)| value.clone().map(|value| (key.clone(), value))).collect()
    }

    fn get(&self, key: &DocumentKey) -> Option<Option<String>> {
        self.documents.lock().expect("the cache lock is not poisoned").get(key).cloned()
    }

    fn insert(&self, key: DocumentKey, value: Option<String>) {
        let mut documents = self.documents.lock().expect("the cache lock is not poisoned");
        // Dropping everything keeps memory bounded without bookkeeping per
        // entry; a projection whose documents outgrow the cache reads more.
        if documents.len() >= self.capacity {
            documents.clear();
        }
        documents.insert(key, value);
    }

    /// Records what a committed batch wrote.
    pub fn apply(&self, writes: &[ReadModelWrite]) {
        for write in writes {
            self.insert((write.collection.clone(), write.key.clone()), write.value.clone());
        }
    }

    pub fn clear(&self) {
        self.documents.lock().expect("the cache lock is not poisoned").clear();
    }
}

/// Where a batch's reads go: the handler generation being written.
#[derive(Clone)]
pub struct ReadTarget {
    pub store: Arc<dyn EventStore>,
    pub handler: String,
    pub generation: u64,
    pub runtime: tokio::runtime::Handle,
    pub cache: Arc<DocumentCache>,
}

/// The documents a batch wrote, and those it read from before the batch:
/// what decides whether parallel partitions touched each other's documents.
#[derive(Clone, Default, Debug)]
pub struct Footprint {
    written: HashSet<DocumentKey>,
    read: HashSet<DocumentKey>,
}

impl Footprint {
    /// Whether `other` read or wrote a document this one wrote.
    pub fn overlaps(&self, other: &Footprint) -> bool {
        self.written.iter().any(|key| other.written.contains(key) || other.read.contains(key))
    }
}

#[derive(Clone)]
pub struct BatchBuffer {
    target: ReadTarget,
    writes: Vec<ReadModelWrite>,
    latest: HashMap<DocumentKey, Option<String>>,
    footprint: Footprint,
}

impl BatchBuffer {
    pub fn new(target: ReadTarget) -> Self {
        Self { target, writes: Vec::new(), latest: HashMap::new(), footprint: Footprint::default() }
    }

    fn record(&mut self, collection: &str, key: &str, value: Option<String>) {
        let document = (collection.to_owned(), key.to_owned());
        self.footprint.written.insert(document.clone());
        self.latest.insert(document, value.clone());
        self.writes.push(ReadModelWrite { collection: collection.to_owned(), key: key.to_owned(), value });
    }

    pub fn writes(&self) -> &[ReadModelWrite] {
        &self.writes
    }

    pub fn into_writes(self) -> Vec<ReadModelWrite> {
        self.writes
    }

    /// Whether `other` read or wrote a document this buffer wrote.
    pub fn overlaps(&self, other: &BatchBuffer) -> bool {
        self.footprint.overlaps(&other.footprint)
    }
}

impl ReadModelAccess for BatchBuffer {
    fn get(&mut self, collection: &str, key: &str) -> Result<Option<String>, String> {
        let document = (collection.to_owned(), key.to_owned());
        if let Some(value) = self.latest.get(&document) {
            return Ok(value.clone());
        }
        self.footprint.read.insert(document.clone());
        if let Some(value) = self.target.cache.get(&document) {
            return Ok(value);
        }
        if self.target.cache.whole {
            return Ok(None);
        }
        // Called inside a handler call, which holds no async worker
        // (`run_blocking`), so waiting here holds none either.
        let value = self
            .target
            .runtime
            .block_on(self.target.store.read_model_get(&self.target.handler, Some(self.target.generation), collection, key))
            .map_err(|error| error.to_string())?;
        self.target.cache.insert(document, value.clone());
        Ok(value)
    }

    fn put(&mut self, collection: &str, key: &str, value: String) -> Result<(), String> {
        self.record(collection, key, Some(value));
        Ok(())
    }

    fn delete(&mut self, collection: &str, key: &str) -> Result<(), String> {
        self.record(collection, key, None);
        Ok(())
    }

    fn as_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn footprint(written: &[(u8, u8)], read: &[(u8, u8)]) -> Footprint {
        let key = |(collection, key): &(u8, u8)| (format!("c{collection}"), format!("k{key}"));
        Footprint { written: written.iter().map(key).collect(), read: read.iter().map(key).collect() }
    }

    #[test]
    fn reading_what_another_wrote_overlaps_but_reading_alike_does_not() {
        let writer = footprint(&[(1, 1)], &[]);
        assert!(writer.overlaps(&footprint(&[], &[(1, 1)])));
        assert!(writer.overlaps(&footprint(&[(1, 1)], &[])));
        assert!(!writer.overlaps(&footprint(&[(1, 2)], &[(2, 1)])));
        assert!(!footprint(&[], &[(1, 1)]).overlaps(&footprint(&[], &[(1, 1)])), "two readers never conflict");
    }

    proptest! {
        /// Overlap is exactly: some document this one wrote, the other read or wrote.
        #[test]
        fn overlap_is_a_shared_written_document(
            a_written in proptest::collection::vec((0u8..4, 0u8..4), 0..6),
            a_read in proptest::collection::vec((0u8..4, 0u8..4), 0..6),
            b_written in proptest::collection::vec((0u8..4, 0u8..4), 0..6),
            b_read in proptest::collection::vec((0u8..4, 0u8..4), 0..6),
        ) {
            let (a, b) = (footprint(&a_written, &a_read), footprint(&b_written, &b_read));
            let expected = a_written.iter().any(|document| b_written.contains(document) || b_read.contains(document));
            prop_assert_eq!(a.overlaps(&b), expected);
            // Writers on both sides of one document conflict whichever asks.
            let both_write = a_written.iter().any(|document| b_written.contains(document));
            if both_write {
                prop_assert!(a.overlaps(&b) && b.overlaps(&a));
            }
        }
    }
}
