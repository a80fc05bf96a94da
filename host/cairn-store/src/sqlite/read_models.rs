//! Read models on SQLite. Every write runs on the writer's thread in a
//! `BEGIN IMMEDIATE` transaction; reads run on the read connections.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::{insert_statement, query_file, to_sql_limit, SqliteStore as Backend};
use crate::{coalesce, Generations, HandlerCommit, KeyPage, ReadModelStore, RebuildSwitch, StoreError};

/// Documents per upsert statement: 6 parameters each, well under SQLite's
/// parameter limit.
const DOCUMENTS_PER_INSERT: usize = 128;

/// The handler's generations, as seen inside the transaction, with the row
/// created when the handler has none yet.
fn locked_generations(connection: &Connection, handler: &str, now: i64) -> Result<Generations, StoreError> {
    connection.prepare_cached(query_file!("projection_ensure"))?.execute(rusqlite::params![handler, now])?;
    let (live, building): (i64, Option<i64>) = connection.prepare_cached(query_file!("projection_lock"))?.query_row([handler], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(Generations { live: live as u64, building: building.map(|generation| generation as u64) })
}

fn set_generations(connection: &Connection, handler: &str, generations: Generations, now: i64) -> Result<(), StoreError> {
    connection.prepare_cached(query_file!("projection_set"))?.execute(rusqlite::params![
        handler,
        generations.live as i64,
        generations.building.map(|generation| generation as i64),
        now
    ])?;
    Ok(())
}

/// Whether `generation` is one of the handler's replay generations.
fn is_replay_generation(connection: &Connection, handler: &str, generation: u64) -> Result<bool, StoreError> {
    let count: i64 = connection.prepare_cached(query_file!("replay_generation_count"))?.query_row(rusqlite::params![handler, generation as i64], |row| row.get(0))?;
    Ok(count > 0)
}

/// The first generation number no live, building or replay generation of
/// the handler has used.
fn next_generation(connection: &Connection, handler: &str, generations: Generations) -> Result<u64, StoreError> {
    let newest_replay: i64 = connection.prepare_cached(query_file!("replay_generation_newest"))?.query_row([handler], |row| row.get(0))?;
    Ok(generations.live.max(generations.building.unwrap_or(0)).max(newest_replay as u64) + 1)
}

/// The checkpoint's position and event count, if it exists.
fn checkpoint_of(connection: &Connection, name: &str) -> Result<Option<(i64, i64)>, StoreError> {
    Ok(connection.prepare_cached(query_file!("checkpoint_lock"))?.query_row([name], |row| Ok((row.get(0)?, row.get(1)?))).optional()?)
}

/// Writes one handler batch inside the caller's transaction.
fn write_batch(connection: &Connection, commit: &HandlerCommit, now: i64) -> Result<(), StoreError> {
    if let Some(fence) = &commit.fence {
        super::leases::check_fence(connection, fence)?;
    }
    let generations = locked_generations(connection, &commit.handler, now)?;
    let writable = generations.live == commit.generation
        || generations.building == Some(commit.generation)
        || is_replay_generation(connection, &commit.handler, commit.generation)?;
    if !writable {
        return Err(StoreError::GenerationRetired { handler: commit.handler.clone(), generation: commit.generation });
    }
    let coalesced = coalesce(&commit.writes);
    for chunk in coalesced.puts.chunks(DOCUMENTS_PER_INSERT) {
        let mut statement = connection.prepare_cached(&insert_statement(query_file!("read_model_put_rows"), chunk.len(), 6))?;
        let mut index = 0;
        let mut bind = |value: &dyn rusqlite::ToSql| -> rusqlite::Result<()> {
            index += 1;
            statement.raw_bind_parameter(index, value)
        };
        for (collection, key, value) in chunk {
            bind(&commit.handler)?;
            bind(&(commit.generation as i64))?;
            bind(collection)?;
            bind(key)?;
            bind(value)?;
            bind(&now)?;
        }
        statement.raw_execute()?;
    }
    let mut delete = connection.prepare_cached(query_file!("read_model_delete"))?;
    for (collection, key) in &coalesced.deletes {
        delete.execute(rusqlite::params![commit.handler, commit.generation as i64, collection, key])?;
    }
    let mut resolve = connection.prepare_cached(query_file!("dead_letter_delete"))?;
    for id in &commit.resolved_dead_letters {
        resolve.execute(rusqlite::params![id, commit.handler])?;
    }
    let mut upsert = connection.prepare_cached(query_file!("dead_letter_upsert"))?;
    for letter in &commit.dead_letters {
        upsert.execute(rusqlite::params![
            commit.handler,
            letter.generation as i64,
            letter.aggregate_type,
            letter.aggregate_id,
            letter.event_id.to_string(),
            letter.global_position as i64,
            letter.event_type,
            letter.status.as_str(),
            letter.error,
            letter.attempts as i64,
            now
        ])?;
    }
    if let Some(advance) = &commit.checkpoint {
        let (position, events) = checkpoint_of(connection, &advance.name)?.map_or((0, 0), |(position, events)| (position as u64, events as u64));
        if position != advance.expected_position {
            return Err(StoreError::CheckpointMoved { name: advance.name.clone(), expected: advance.expected_position, actual: position });
        }
        connection.prepare_cached(query_file!("checkpoint_upsert"))?.execute(rusqlite::params![
            advance.name,
            advance.position as i64,
            (events + advance.events) as i64,
            now
        ])?;
    }
    Ok(())
}

impl Backend {
    async fn resolve_generation(&self, handler: &str, generation: Option<u64>) -> Result<u64, StoreError> {
        match generation {
            Some(generation) => Ok(generation),
            None => Ok(self.generations(handler).await?.live),
        }
    }

    /// Runs `work` in one write transaction on the writer's thread, with
    /// the time in microseconds; an error rolls everything back.
    pub(super) async fn in_write_transaction<T: Send + 'static>(&self, work: impl FnOnce(&Connection, i64) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        self.database
            .write(move |connection| {
                let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let outcome = work(&transaction, cairn_event::time::now_micros().timestamp_micros())?;
                transaction.commit()?;
                Ok(outcome)
            })
            .await
    }
}

#[async_trait]
impl ReadModelStore for Backend {
    async fn generations(&self, handler: &str) -> Result<Generations, StoreError> {
        let handler = handler.to_owned();
        self.database
            .read(move |connection| {
                let row: Option<(i64, Option<i64>)> =
                    connection.prepare_cached(query_file!("projection_get"))?.query_row([handler], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
                Ok(row.map_or(Generations { live: 0, building: None }, |(live, building)| Generations {
                    live: live as u64,
                    building: building.map(|generation| generation as u64),
                }))
            })
            .await
    }

    async fn read_model_get(&self, handler: &str, generation: Option<u64>, collection: &str, key: &str) -> Result<Option<String>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        let (handler, collection, key) = (handler.to_owned(), collection.to_owned(), key.to_owned());
        self.database
            .read(move |connection| {
                Ok(connection
                    .prepare_cached(query_file!("read_model_get"))?
                    .query_row(rusqlite::params![handler, generation as i64, collection, key], |row| row.get(0))
                    .optional()?)
            })
            .await
    }

    async fn read_model_list(&self, handler: &str, generation: Option<u64>, collection: &str, page: &KeyPage<'_>) -> Result<Vec<(String, String)>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        let (handler, collection, start) = (handler.to_owned(), collection.to_owned(), page.start().to_owned());
        let (prefix, after, limit) = (page.prefix.to_owned(), page.after.map(str::to_owned), page.limit);
        self.database
            .read(move |connection| {
                let page = KeyPage { prefix: &prefix, after: after.as_deref(), limit };
                let mut statement = connection.prepare_cached(query_file!("read_model_list"))?;
                let rows = statement.query_map(rusqlite::params![handler, generation as i64, collection, start, to_sql_limit(page.rows_to_read())], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?;
                page.keep(rows.map(|row| row.map_err(StoreError::from)))
            })
            .await
    }

    async fn read_model_collections(&self, handler: &str, generation: Option<u64>, limit: usize) -> Result<Vec<String>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        let handler = handler.to_owned();
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("read_model_collections"))?;
                let names = statement.query_map(rusqlite::params![handler, generation as i64, to_sql_limit(limit)], |row| row.get::<_, String>(0))?;
                Ok(names.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn read_model_scan(&self, handler: &str, generation: Option<u64>, after: &(String, String), limit: usize) -> Result<Vec<(String, String, String)>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        let (handler, (after_collection, after_key)) = (handler.to_owned(), after.clone());
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("read_model_scan"))?;
                let rows = statement.query_map(rusqlite::params![handler, generation as i64, after_collection, after_key, to_sql_limit(limit)], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn commit_handler_batch(&self, commit: &HandlerCommit) -> Result<(), StoreError> {
        let commit = commit.clone();
        self.in_write_transaction(move |connection, now| write_batch(connection, &commit, now)).await
    }

    async fn replay_generation(&self, handler: &str, checkpoint: Option<&str>) -> Result<u64, StoreError> {
        let (handler, checkpoint) = (handler.to_owned(), checkpoint.map(str::to_owned));
        self.in_write_transaction(move |connection, now| {
            // Locking the handler's projection row serialises allocations.
            let generations = locked_generations(connection, &handler, now)?;
            if let Some(checkpoint) = &checkpoint {
                let existing: Option<i64> = connection
                    .prepare_cached(query_file!("replay_generation_of_checkpoint"))?
                    .query_row(rusqlite::params![handler, checkpoint], |row| row.get(0))
                    .optional()?;
                if let Some(generation) = existing {
                    return Ok(generation as u64);
                }
            }
            let generation = next_generation(connection, &handler, generations)?;
            connection.prepare_cached(query_file!("replay_generation_insert"))?.execute(rusqlite::params![handler, generation as i64, checkpoint, now])?;
            Ok(generation)
        })
        .await
    }

    async fn begin_rebuild(&self, handler: &str, rebuild_checkpoint: &str) -> Result<u64, StoreError> {
        let (handler, rebuild_checkpoint) = (handler.to_owned(), rebuild_checkpoint.to_owned());
        self.in_write_transaction(move |connection, now| {
            let generations = locked_generations(connection, &handler, now)?;
            let generation = next_generation(connection, &handler, generations)?;
            for query in [query_file!("read_model_clear_above"), query_file!("dead_letter_clear_above")] {
                connection.prepare_cached(query)?.execute(rusqlite::params![handler, generations.live as i64])?;
            }
            connection.prepare_cached(query_file!("checkpoint_delete"))?.execute([&rebuild_checkpoint])?;
            set_generations(connection, &handler, Generations { live: generations.live, building: Some(generation) }, now)?;
            Ok(generation)
        })
        .await
    }

    async fn finish_rebuild(&self, switch: &RebuildSwitch) -> Result<(), StoreError> {
        let switch = switch.clone();
        self.in_write_transaction(move |connection, now| {
            let generations = locked_generations(connection, &switch.handler, now)?;
            if generations.building != Some(switch.generation) {
                return Err(StoreError::GenerationRetired { handler: switch.handler.clone(), generation: switch.generation });
            }
            let (position, events) = checkpoint_of(connection, &switch.rebuild_checkpoint)?.unwrap_or((0, 0));
            connection.prepare_cached(query_file!("checkpoint_upsert"))?.execute(rusqlite::params![switch.live_checkpoint, position, events, now])?;
            connection.prepare_cached(query_file!("checkpoint_delete"))?.execute([&switch.rebuild_checkpoint])?;
            for query in [query_file!("read_model_clear_others"), query_file!("dead_letter_clear_others")] {
                connection.prepare_cached(query)?.execute(rusqlite::params![switch.handler, switch.generation as i64])?;
            }
            set_generations(connection, &switch.handler, Generations { live: switch.generation, building: None }, now)?;
            Ok(())
        })
        .await
    }
}
