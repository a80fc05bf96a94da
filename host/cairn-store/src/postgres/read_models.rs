//! Read models on PostgreSQL.

use async_trait::async_trait;
use sqlx::{Postgres, Transaction};

use super::PostgresStore as Backend;
use crate::{coalesce, Generations, HandlerCommit, KeyPage, ReadModelStore, RebuildSwitch, StoreError};

macro_rules! query_file {
    ($name:literal) => {
        include_str!(concat!("../../queries/postgres/", $name, ".sql"))
    };
}
pub(super) use query_file;

/// The handler's generations, as seen inside `transaction`, with the row
/// created when the handler has none yet.
async fn locked_generations(transaction: &mut Transaction<'_, Postgres>, handler: &str, now: chrono::DateTime<chrono::Utc>) -> Result<Generations, StoreError> {
    sqlx::query(query_file!("projection_ensure")).bind(handler).bind(now).execute(&mut **transaction).await?;
    let (live, building): (i64, Option<i64>) =
        sqlx::query_as(query_file!("projection_lock")).bind(handler).fetch_one(&mut **transaction).await?;
    Ok(Generations { live: live as u64, building: building.map(|generation| generation as u64) })
}

async fn set_generations(transaction: &mut Transaction<'_, Postgres>, handler: &str, generations: Generations, now: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
    sqlx::query(query_file!("projection_set"))
        .bind(handler)
        .bind(generations.live as i64)
        .bind(generations.building.map(|generation| generation as i64))
        .bind(now)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

/// Whether `generation` is one of the handler's replay generations.
async fn is_replay_generation(transaction: &mut Transaction<'_, Postgres>, handler: &str, generation: u64) -> Result<bool, StoreError> {
    let count: i64 = sqlx::query_scalar(query_file!("replay_generation_count")).bind(handler).bind(generation as i64).fetch_one(&mut **transaction).await?;
    Ok(count > 0)
}

/// The first generation number no live, building or replay generation of
/// the handler has used.
async fn next_generation(transaction: &mut Transaction<'_, Postgres>, handler: &str, generations: Generations) -> Result<u64, StoreError> {
    let newest_replay: i64 = sqlx::query_scalar(query_file!("replay_generation_newest")).bind(handler).fetch_one(&mut **transaction).await?;
    Ok(generations.live.max(generations.building.unwrap_or(0)).max(newest_replay as u64) + 1)
}

impl Backend {
    async fn resolve_generation(&self, handler: &str, generation: Option<u64>) -> Result<u64, StoreError> {
        match generation {
            Some(generation) => Ok(generation),
            None => Ok(self.generations(handler).await?.live),
        }
    }
}

#[async_trait]
impl ReadModelStore for Backend {
    async fn generations(&self, handler: &str) -> Result<Generations, StoreError> {
        let row: Option<(i64, Option<i64>)> =
            sqlx::query_as(query_file!("projection_get")).bind(handler).fetch_optional(&self.pool).await?;
        Ok(row.map_or(Generations { live: 0, building: None }, |(live, building)| Generations {
            live: live as u64,
            building: building.map(|generation| generation as u64),
        }))
    }

    async fn read_model_get(&self, handler: &str, generation: Option<u64>, collection: &str, key: &str) -> Result<Option<String>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        Ok(sqlx::query_scalar(query_file!("read_model_get"))
            .bind(handler)
            .bind(generation as i64)
            .bind(collection)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn read_model_list(&self, handler: &str, generation: Option<u64>, collection: &str, page: &KeyPage<'_>) -> Result<Vec<(String, String)>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(query_file!("read_model_list"))
            .bind(handler)
            .bind(generation as i64)
            .bind(collection)
            .bind(page.start())
            .bind(page.rows_to_read().min(i64::MAX as usize) as i64)
            .fetch_all(&self.pool)
            .await?;
        page.keep(rows.into_iter().map(Ok))
    }

    async fn read_model_collections(&self, handler: &str, generation: Option<u64>, limit: usize) -> Result<Vec<String>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        Ok(sqlx::query_scalar(query_file!("read_model_collections"))
            .bind(handler)
            .bind(generation as i64)
            .bind(limit.min(i64::MAX as usize) as i64)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn read_model_scan(&self, handler: &str, generation: Option<u64>, after: &(String, String), limit: usize) -> Result<Vec<(String, String, String)>, StoreError> {
        let generation = self.resolve_generation(handler, generation).await?;
        Ok(sqlx::query_as(query_file!("read_model_scan"))
            .bind(handler)
            .bind(generation as i64)
            .bind(&after.0)
            .bind(&after.1)
            .bind(limit.min(i64::MAX as usize) as i64)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn commit_handler_batch(&self, commit: &HandlerCommit) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        if let Some(fence) = &commit.fence {
            super::leases::check_fence(&mut transaction, fence).await?;
        }
        let now = cairn_event::time::now_micros();
        let generations = locked_generations(&mut transaction, &commit.handler, now).await?;
        let writable = generations.live == commit.generation
            || generations.building == Some(commit.generation)
            || is_replay_generation(&mut transaction, &commit.handler, commit.generation).await?;
        if !writable {
            return Err(StoreError::GenerationRetired { handler: commit.handler.clone(), generation: commit.generation });
        }
        let coalesced = coalesce(&commit.writes);
        if !coalesced.puts.is_empty() {
            let collections: Vec<&str> = coalesced.puts.iter().map(|(collection, _, _)| *collection).collect();
            let keys: Vec<&str> = coalesced.puts.iter().map(|(_, key, _)| *key).collect();
            let values: Vec<&str> = coalesced.puts.iter().map(|(_, _, value)| *value).collect();
            sqlx::query(query_file!("read_model_put_rows"))
                .bind(&commit.handler)
                .bind(commit.generation as i64)
                .bind(collections)
                .bind(keys)
                .bind(values)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
        }
        for (collection, key) in &coalesced.deletes {
            sqlx::query(query_file!("read_model_delete"))
                .bind(&commit.handler)
                .bind(commit.generation as i64)
                .bind(*collection)
                .bind(*key)
                .execute(&mut *transaction)
                .await?;
        }
        for id in &commit.resolved_dead_letters {
            sqlx::query(query_file!("dead_letter_delete")).bind(id).bind(&commit.handler).execute(&mut *transaction).await?;
        }
        for letter in &commit.dead_letters {
            sqlx::query(query_file!("dead_letter_upsert"))
                .bind(&commit.handler)
                .bind(letter.generation as i64)
                .bind(&letter.aggregate_type)
                .bind(&letter.aggregate_id)
                .bind(letter.event_id)
                .bind(letter.global_position as i64)
                .bind(&letter.event_type)
                .bind(letter.status.as_str())
                .bind(&letter.error)
                .bind(letter.attempts as i32)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
        }
        if let Some(advance) = &commit.checkpoint {
            let current: Option<(i64, i64)> =
                sqlx::query_as(query_file!("checkpoint_lock")).bind(&advance.name).fetch_optional(&mut *transaction).await?;
            let (position, events) = current.map_or((0, 0), |(position, events)| (position as u64, events as u64));
            if position != advance.expected_position {
                return Err(StoreError::CheckpointMoved { name: advance.name.clone(), expected: advance.expected_position, actual: position });
            }
            sqlx::query(query_file!("checkpoint_upsert"))
                .bind(&advance.name)
                .bind(advance.position as i64)
                .bind((events + advance.events) as i64)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn replay_generation(&self, handler: &str, checkpoint: Option<&str>) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let now = cairn_event::time::now_micros();
        // Locking the handler's projection row serialises allocations.
        let generations = locked_generations(&mut transaction, handler, now).await?;
        if let Some(checkpoint) = checkpoint {
            let existing: Option<i64> =
                sqlx::query_scalar(query_file!("replay_generation_of_checkpoint")).bind(handler).bind(checkpoint).fetch_optional(&mut *transaction).await?;
            if let Some(generation) = existing {
                return Ok(generation as u64);
            }
        }
        let generation = next_generation(&mut transaction, handler, generations).await?;
        sqlx::query(query_file!("replay_generation_insert")).bind(handler).bind(generation as i64).bind(checkpoint).bind(now).execute(&mut *transaction).await?;
        transaction.commit().await?;
        Ok(generation)
    }

    async fn begin_rebuild(&self, handler: &str, rebuild_checkpoint: &str) -> Result<u64, StoreError> {
        let mut transaction = self.pool.begin().await?;
        let now = cairn_event::time::now_micros();
        let generations = locked_generations(&mut transaction, handler, now).await?;
        let generation = next_generation(&mut transaction, handler, generations).await?;
        for query in [query_file!("read_model_clear_above"), query_file!("dead_letter_clear_above")] {
            sqlx::query(query).bind(handler).bind(generations.live as i64).execute(&mut *transaction).await?;
        }
        sqlx::query(query_file!("checkpoint_delete")).bind(rebuild_checkpoint).execute(&mut *transaction).await?;
        set_generations(&mut transaction, handler, Generations { live: generations.live, building: Some(generation) }, now).await?;
        transaction.commit().await?;
        Ok(generation)
    }

    async fn finish_rebuild(&self, switch: &RebuildSwitch) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        let now = cairn_event::time::now_micros();
        let generations = locked_generations(&mut transaction, &switch.handler, now).await?;
        if generations.building != Some(switch.generation) {
            return Err(StoreError::GenerationRetired { handler: switch.handler.clone(), generation: switch.generation });
        }
        let built: Option<(i64, i64)> =
            sqlx::query_as(query_file!("checkpoint_lock")).bind(&switch.rebuild_checkpoint).fetch_optional(&mut *transaction).await?;
        let (position, events) = built.unwrap_or((0, 0));
        sqlx::query(query_file!("checkpoint_upsert")).bind(&switch.live_checkpoint).bind(position).bind(events).bind(now).execute(&mut *transaction).await?;
        sqlx::query(query_file!("checkpoint_delete")).bind(&switch.rebuild_checkpoint).execute(&mut *transaction).await?;
        for query in [query_file!("read_model_clear_others"), query_file!("dead_letter_clear_others")] {
            sqlx::query(query).bind(&switch.handler).bind(switch.generation as i64).execute(&mut *transaction).await?;
        }
        set_generations(&mut transaction, &switch.handler, Generations { live: switch.generation, building: None }, now).await?;
        transaction.commit().await?;
        Ok(())
    }
}
