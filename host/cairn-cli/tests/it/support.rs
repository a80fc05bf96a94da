use std::sync::Arc;

use cairn::store::{self, StoreLimits, StoreUrl};
use cairn::EventStore;

#[cfg(cairn_postgres)]
pub const POSTGRES_URL_VARIABLE: &str = "CAIRN_TEST_POSTGRES_URL";

/// A store that lives for one test.
pub struct TestStore {
    pub store: Arc<dyn EventStore>,
    pub url: StoreUrl,
    _directory: Option<tempfile::TempDir>,
}

pub async fn sqlite_store() -> TestStore {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = StoreUrl::Sqlite { path: directory.path().join("events.db") };
    let store = store::open(&url, StoreLimits::default()).await.expect("open SQLite store");
    TestStore { store, url, _directory: Some(directory) }
}

/// The PostgreSQL base URL. The PostgreSQL tests exist only in a build
/// made with CAIRN_TEST_POSTGRES_URL set (see `host/cairn-cli/build.rs`), so
/// here it must still be set.
#[cfg(cairn_postgres)]
pub fn postgres_base_url() -> String {
    match std::env::var(POSTGRES_URL_VARIABLE) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!("these tests were built for PostgreSQL, but {POSTGRES_URL_VARIABLE} is not set now; set it, or rebuild without it to skip them"),
    }
}

/// A PostgreSQL store in a schema of its own, so tests run in parallel on one database.
#[cfg(cairn_postgres)]
pub async fn postgres_store() -> TestStore {
    let schema = format!("cairn_test_{}", uuid::Uuid::now_v7().simple());
    let url = StoreUrl::Postgres { url: postgres_base_url(), schema: Some(schema) };
    let store = store::open(&url, StoreLimits::default())
        .await
        .unwrap_or_else(|error| panic!("{POSTGRES_URL_VARIABLE} is set but the store cannot be opened: {error}"));
    TestStore { store, url, _directory: None }
}

impl TestStore {
    /// Drops a PostgreSQL test schema; SQLite files go with their directory.
    pub async fn remove(self) {
        if let StoreUrl::Postgres { url, schema: Some(schema) } = &self.url {
            use sqlx::Connection;
            if let Ok(mut connection) = sqlx::PgConnection::connect(url).await {
                let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut connection).await;
            }
        }
    }
}

/// Runs each named conformance test against both backends.
#[macro_export]
macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let test_store = $crate::support::sqlite_store().await;
                    super::$name(test_store.store.clone()).await;
                }
            )*
        }
        #[cfg(cairn_postgres)]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let test_store = $crate::support::postgres_store().await;
                    super::$name(test_store.store.clone()).await;
                    test_store.remove().await;
                }
            )*
        }
    };
}

/// The bytes of a plugin built by `plugins/build`. A missing file fails the
/// test with the command that builds it.
pub fn plugin_bytes(name: &str) -> Vec<u8> {
    let path = plugin_path(name);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!("cannot read {} ({error}); run plugins/build first (scripts/test does)", path.display())
    })
}

pub fn plugin_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/dist").join(format!("{name}.wasm"))
}

/// The same component with a custom section appended: it behaves exactly
/// alike but has another content hash, so the registry takes it as a new
/// version. Custom sections may appear anywhere in a component.
pub fn with_custom_section(component: &[u8], label: &str) -> Vec<u8> {
    fn leb128(mut value: usize, into: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                into.push(byte);
                return;
            }
            into.push(byte | 0x80);
        }
    }
    let name = b"cairn-test-label";
    let mut content = Vec::new();
    leb128(name.len(), &mut content);
    content.extend_from_slice(name);
    content.extend_from_slice(label.as_bytes());
    let mut bytes = component.to_vec();
    bytes.push(0);
    leb128(content.len(), &mut bytes);
    bytes.extend_from_slice(&content);
    bytes
}

/// A plugin host over `store` with a runtime whose compile cache is off, so
/// tests never share state through the disk.
pub async fn plugin_host(store: Arc<dyn EventStore>) -> Arc<cairn::plugins::PluginHost> {
    let runtime = cairn::runtime::PluginRuntime::new(cairn::runtime::RuntimeConfig {
        cache_directory: None,
        call_time_limit: std::time::Duration::from_millis(500),
        ..cairn::runtime::RuntimeConfig::default()
    })
    .expect("runtime starts");
    cairn::plugins::PluginHost::open(store, runtime, false).await.expect("plugin host opens")
}

/// Adds a built plugin under its default name.
pub async fn add_plugin(host: &cairn::plugins::PluginHost, name: &str) -> cairn::store::PluginVersionRecord {
    host.add(cairn::plugins::PluginSource { bytes: plugin_bytes(name), requested_name: None, file_stem: Some(name.to_owned()) })
        .await
        .unwrap_or_else(|error| panic!("{name} is accepted: {error}"))
        .record
}
