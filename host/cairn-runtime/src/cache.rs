//! Compiled components on disk, keyed by content hash and engine, so that a
//! restart does not recompile: a Python component takes seconds to compile
//! and milliseconds to load from here.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use super::error::PluginLoadError;

/// Where a component's machine code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
    Cache,
    Compiled,
}

pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The default cache directory: CAIRN_CACHE_DIR, else the user's cache directory.
pub fn default_cache_directory() -> Option<PathBuf> {
    if let Some(directory) = std::env::var_os("CAIRN_CACHE_DIR") {
        return Some(PathBuf::from(directory));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
    Some(base.join("cairn").join("compiled"))
}

fn engine_fingerprint(engine: &Engine) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    hasher.finish()
}

/// Where the compiled code of the component with `hash` is cached for
/// `engine`; `None` for a hash that is not 64 hex digits, which cannot name
/// a file of this cache (a store row is input like any other).
fn entry_path(engine: &Engine, directory: &Path, hash: &str) -> Option<PathBuf> {
    let is_hash = hash.len() == 64 && hash.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    is_hash.then(|| directory.join(format!("{hash}-{:016x}.cwasm", engine_fingerprint(engine))))
}

/// The cached compiled code of the component with `hash`, without its
/// bytes: `None` when the cache has no readable entry for it.
pub fn cached(engine: &Engine, cache_directory: Option<&Path>, hash: &str) -> Option<Component> {
    let path = entry_path(engine, cache_directory?, hash)?;
    if !path.exists() {
        return None;
    }
    // Safety: as in `compile`, only this module writes the cache's files.
    match unsafe { Component::deserialize_file(engine, &path) } {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::warn!(path = %path.display(), "ignoring an unreadable compile cache entry: {error:#}");
            None
        }
    }
}

pub fn compile(
    engine: &Engine,
    cache_directory: Option<&Path>,
    bytes: &[u8],
    hash: &str,
) -> Result<(Component, CompileSource), PluginLoadError> {
    let Some(directory) = cache_directory else {
        let component = Component::from_binary(engine, bytes).map_err(|error| PluginLoadError::NotAComponent(format!("{error:#}")))?;
        return Ok((component, CompileSource::Compiled));
    };
    let path = entry_path(engine, directory, hash).expect("content_hash gives 64 hex digits");
    if path.exists() {
        // Safety: only this module writes into the cache directory, and it
        // writes only what `Component::serialize` produced for this engine.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok((component, CompileSource::Cache)),
            Err(error) => tracing::warn!(path = %path.display(), "ignoring an unreadable compile cache entry: {error:#}"),
        }
    }
    let component = Component::from_binary(engine, bytes).map_err(|error| PluginLoadError::NotAComponent(format!("{error:#}")))?;
    if let Err(error) = write_entry(directory, &path, &component) {
        // A cache that cannot be written costs only time.
        tracing::warn!(directory = %directory.display(), "cannot write the compile cache: {error}");
    }
    Ok((component, CompileSource::Compiled))
}

fn write_entry(directory: &Path, path: &Path, component: &Component) -> Result<(), String> {
    std::fs::create_dir_all(directory).map_err(|error| error.to_string())?;
    let serialized = component.serialize().map_err(|error| format!("{error:#}"))?;
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&temporary, serialized).map_err(|error| error.to_string())?;
    std::fs::rename(&temporary, path).map_err(|error| error.to_string())
}
