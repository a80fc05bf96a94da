//! Checkpoints on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row};

use super::{query_file, SqliteStore as Backend};
use crate::{Checkpoint, CheckpointStore, StoreError};

#[async_trait]
impl CheckpointStore for Backend {
    async fn set_checkpoint(&self, name: &str, position: u64, events: u64) -> Result<Checkpoint, StoreError> {
        let updated_at = cairn_event::time::now_micros();
        let name = name.to_owned();
        self.database
            .write(move |connection| {
                connection.prepare_cached(query_file!("checkpoint_upsert"))?.execute(rusqlite::params![
                    name,
                    position as i64,
                    events as i64,
                    updated_at.timestamp_micros()
                ])?;
                Ok(Checkpoint { name, position, events, updated_at })
            })
            .await
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError> {
        let name = name.to_owned();
        self.database
            .read(move |connection| Ok(connection.prepare_cached(query_file!("checkpoint_get"))?.query_row([name], decode_checkpoint).optional()?))
            .await
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        self.database
            .read(|connection| {
                let mut statement = connection.prepare_cached(query_file!("checkpoints"))?;
                let rows = statement.query_map([], decode_checkpoint)?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn delete_checkpoint(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.database.write(move |connection| Ok(connection.prepare_cached(query_file!("checkpoint_delete"))?.execute([name])? > 0)).await
    }
}

fn decode_checkpoint(row: &Row<'_>) -> rusqlite::Result<Checkpoint> {
    Ok(Checkpoint {
        name: row.get(0)?,
        position: row.get::<_, i64>(1)? as u64,
        events: row.get::<_, i64>(2)? as u64,
        updated_at: cairn_event::time::micros_to_datetime(row.get(3)?),
    })
}
