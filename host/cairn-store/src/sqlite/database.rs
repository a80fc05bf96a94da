//! The SQLite connections, driven directly through rusqlite: one writer
//! connection, used by one caller at a time (`writer_queue.rs`,
//! `group_commit.rs`), and a few read-only connections lent to readers.
//!
//! Why not an async driver: every row an async SQLite driver returns crosses
//! from its worker thread to the task, and every statement is a round trip
//! to that thread. Here a read runs start to end on one blocking thread and
//! decodes rows straight into their final type, and an append group runs
//! start to end on the writer's thread.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{oneshot, Semaphore};

use super::group_commit::GroupWriter;
use super::writer_queue::WriterQueue;
use crate::append_queue::PendingAppend;
use crate::head::HeadWatch;
use crate::{Durability, StoreError};

/// Read connections open at most; reads beyond them wait for one.
const READERS: usize = 4;
/// Prepared statements each connection keeps (the query files, the insert
/// chunks and the filtered log reads in use).
const STATEMENT_CACHE: usize = 256;
/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Work for the writer.
pub(super) enum WriterJob {
    /// An append; appends waiting together share one transaction.
    Append(PendingAppend),
    /// Any other write, run alone with the writer connection; it owns its
    /// transaction and answers its caller itself.
    Run(Box<dyn FnOnce(&mut Connection) + Send>),
}

pub(super) struct Database {
    /// `sqlite://PATH`, formatted once: every append carries it for its errors.
    location: String,
    writer: Arc<WriterQueue>,
    readers: Arc<Readers>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

/// Opens a connection with the store's settings. `synchronous` applies to
/// the connection that commits, so only the writer's matters.
pub(crate) fn connect(path: &Path, durability: Durability, read_only: bool) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let journal = switch_to_wal(&connection)?;
    if !journal.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal, "SQLite refused WAL mode for this file (is it on a network file system?); readers will block the writer");
    }
    // FULL syncs every commit; NORMAL in WAL mode never corrupts the file,
    // but a power cut may lose the last commits (`--durability`).
    let synchronous = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    // Readers keep a small page cache and no memory map: a reader drops its
    // whole cache whenever the writer has committed (dropping 64 MiB of pages
    // on every page of a read-all cost more than the cache saved), and a
    // mapped file counts in the process's resident memory page by page, so
    // a read of the whole log would grow it by the log's size.
    let (cache_kib, mmap_bytes, query_only) = if read_only { (2048, 0, "ON") } else { (65536, 1 << 30, "OFF") };
    connection.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous}; PRAGMA cache_size = -{cache_kib}; PRAGMA mmap_size = {mmap_bytes}; PRAGMA query_only = {query_only};"
    ))?;
    Ok(connection)
}

/// Puts the file in WAL mode. Several processes opening a new store at once
/// all try to switch it, and SQLite answers a switch that would wait on
/// another connection's lock with "database is locked" at once, without
/// its busy handler (waiting could deadlock), so the switch is retried here
/// within the busy timeout. Once one process has switched, the others find
/// WAL already set and need no lock.
fn switch_to_wal(connection: &Connection) -> Result<String, rusqlite::Error> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(error, _)) if error.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline => {
                // The other process holds the lock for one statement; a
                // short pause lets it finish.
                std::thread::sleep(Duration::from_millis(2));
            }
            answer => return answer,
        }
    }
}

impl Database {
    /// Opens the store's connections around `writer`, an open and
    /// migrated connection. Called on the runtime that will use the store.
    pub fn start(path: &Path, writer: Connection, head: HeadWatch) -> Result<Self, StoreError> {
        let location = format!("sqlite://{}", path.display());
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StoreError::Bug("the SQLite store was opened outside a tokio runtime".to_owned()))?;
        let writer = WriterQueue::new(GroupWriter::new(writer, head, location.clone()), runtime);
        let readers = Arc::new(Readers { path: path.to_owned(), idle: Mutex::new(Vec::new()), permits: Semaphore::new(READERS) });
        Ok(Self { location, writer, readers })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn stopped(&self) -> StoreError {
        StoreError::Unreachable { url: self.location.clone(), reason: "the store's readers have closed; restart cairn".to_owned() }
    }

    /// Hands an append to the writer, writing it on this thread when the
    /// writer is idle (`writer_queue.rs`).
    pub async fn send_append(&self, append: PendingAppend) -> bool {
        let writer = self.writer.clone();
        crate::blocking::run_blocking(move || writer.append_here(append)).await;
        true
    }

    /// Runs `work` on the writer connection, serialized with appends and
    /// every other write of this process. `work` opens and ends its own
    /// transaction.
    pub async fn write<T: Send + 'static>(&self, work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.run_elsewhere(Box::new(move |connection| {
            let _ = reply.send(work(connection));
        }));
        answer.await.map_err(|_| StoreError::Bug("the SQLite writer failed while running a write".to_owned()))?
    }

    /// Runs `work` on a read-only connection, where it blocks no async worker
    /// (`blocking::run_blocking`).
    pub async fn read<T: Send + 'static>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let permit = self.readers.permits.acquire().await.map_err(|_| self.stopped())?;
        let readers_for_task = self.readers.clone();
        let result = crate::blocking::run_blocking(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let connection = match readers_for_task.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop() {
                    Some(connection) => connection,
                    None => connect(&readers_for_task.path, Durability::Full, true)?,
                };
                let result = work(&connection);
                readers_for_task.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(connection);
                result
            }))
        })
        .await;
        drop(permit);
        result.map_err(|panic| {
            let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("no message");
            tracing::error!(panic = message, "a read of the SQLite store panicked");
            StoreError::Bug(format!("a read of the store panicked: {message}"))
        })?
    }
}
