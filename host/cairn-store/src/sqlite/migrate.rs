//! Schema migrations on SQLite, applied with rusqlite from the files in
//! `migrations/sqlite/`.
//!
//! The record of applied migrations is sqlx's table, `_sqlx_migrations`,
//! filled exactly as sqlx fills it (a SHA-384 checksum of each file), so a
//! store created by an earlier Cairn opens unchanged and PostgreSQL keeps
//! sqlx's own migrator. All pending migrations run in one `BEGIN IMMEDIATE`
//! transaction: processes opening a new store at once serialize on the
//! write lock, and the second finds the work done.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha384};

use crate::StoreError;

/// Every migration, in order: (version, file name). A test checks this list
/// against the directory, so a new file cannot be forgotten here.
pub(super) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "0001_event_log.sql", include_str!("../../migrations/sqlite/0001_event_log.sql")),
    (2, "0002_plugin_registry.sql", include_str!("../../migrations/sqlite/0002_plugin_registry.sql")),
    (3, "0003_snapshots.sql", include_str!("../../migrations/sqlite/0003_snapshots.sql")),
    (4, "0004_checkpoints.sql", include_str!("../../migrations/sqlite/0004_checkpoints.sql")),
    (5, "0005_read_models.sql", include_str!("../../migrations/sqlite/0005_read_models.sql")),
    (6, "0006_projection_generations.sql", include_str!("../../migrations/sqlite/0006_projection_generations.sql")),
    (7, "0007_dead_letters.sql", include_str!("../../migrations/sqlite/0007_dead_letters.sql")),
    (8, "0008_replay_jobs.sql", include_str!("../../migrations/sqlite/0008_replay_jobs.sql")),
    (9, "0009_replay_generations.sql", include_str!("../../migrations/sqlite/0009_replay_generations.sql")),
    (10, "0010_read_model_keys_in_byte_order.sql", include_str!("../../migrations/sqlite/0010_read_model_keys_in_byte_order.sql")),
    (11, "0011_command_records.sql", include_str!("../../migrations/sqlite/0011_command_records.sql")),
    (12, "0012_plugin_catalog_without_components.sql", include_str!("../../migrations/sqlite/0012_plugin_catalog_without_components.sql")),
    (13, "0013_leases.sql", include_str!("../../migrations/sqlite/0013_leases.sql")),
];

const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    success BOOLEAN NOT NULL,
    checksum BLOB NOT NULL,
    execution_time BIGINT NOT NULL
)";

/// The newest schema version this build knows.
pub(super) fn known_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _, _)| *version)
}

/// "0001_event_log.sql" → "event log", as sqlx describes a migration.
fn description(file: &str) -> String {
    let stem = file.trim_end_matches(".sql");
    stem.split_once('_').map_or(stem, |(_, rest)| rest).replace('_', " ")
}

/// Applies every migration the store lacks, in one transaction.
pub(super) fn migrate(connection: &mut Connection, location: &str) -> Result<(), StoreError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    transaction.execute_batch(MIGRATIONS_TABLE)?;
    for (version, file, sql) in MIGRATIONS {
        let checksum = Sha384::digest(sql.as_bytes()).to_vec();
        let applied: Option<(bool, Vec<u8>)> = transaction
            .query_row("SELECT success, checksum FROM _sqlx_migrations WHERE version = ?1", [version], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        match applied {
            Some((false, _)) => {
                return Err(StoreError::NotACairnStore {
                    location: location.to_owned(),
                    reason: format!("migration {file} was left half-applied by an earlier failure; restore the store from a backup"),
                })
            }
            Some((true, stored)) if stored != checksum => {
                return Err(StoreError::NotACairnStore {
                    location: location.to_owned(),
                    reason: format!("migration {file} was applied from a different file than this cairn carries; use the cairn that created the store"),
                })
            }
            Some(_) => continue,
            None => {}
        }
        let started = std::time::Instant::now();
        transaction.execute_batch(sql)?;
        transaction.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![version, description(file), checksum, started.elapsed().as_nanos() as i64],
        )?;
    }
    transaction.commit()?;
    Ok(())
}

/// Refuses a file that holds someone else's tables, or a schema newer than
/// this build knows.
pub(super) fn check_is_cairn_store(connection: &Connection, location: &str) -> Result<(), StoreError> {
    let refuse = |reason: String| StoreError::NotACairnStore { location: location.to_owned(), reason };
    let mut statement = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .map_err(|error| refuse(error.to_string()))?;
    let tables: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|error| refuse(error.to_string()))?;
    if tables.is_empty() || tables.iter().all(|table| table == "_sqlx_migrations") {
        return Ok(());
    }
    if !tables.iter().any(|table| table == "cairn_events") {
        return Err(refuse(format!("it holds other tables ({})", tables.join(", "))));
    }
    if tables.iter().any(|table| table == "_sqlx_migrations") {
        let found: Option<i64> = connection.query_row("SELECT MAX(version) FROM _sqlx_migrations", [], |row| row.get(0))?;
        if let Some(found) = found.filter(|found| *found > known_version()) {
            return Err(StoreError::NewerSchema { location: location.to_owned(), found, known: known_version() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        let mut files: Vec<String> = std::fs::read_dir(directory).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
        files.sort();
        let listed: Vec<&str> = MIGRATIONS.iter().map(|(_, file, _)| *file).collect();
        assert_eq!(listed, files);
        for (version, file, _) in MIGRATIONS {
            assert_eq!(file[..4].parse::<i64>().unwrap(), *version, "{file}");
        }
    }

    #[test]
    fn descriptions_are_the_ones_sqlx_records() {
        assert_eq!(description("0001_event_log.sql"), "event log");
        assert_eq!(description("0010_read_model_keys_in_byte_order.sql"), "read model keys in byte order");
    }
}
