//! Read models on PostgreSQL.

use async_trait::async_trait;

use super::PostgresStore as Backend;
use crate::store::{CheckpointAdvance, ReadModelStore, ReadModelWrite, StoreError};

#[async_trait]
impl ReadModelStore for Backend {
    async fn read_model_get(&self, handler: &str, collection: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(include_str!("../../../queries/postgres/read_model_get.sql"))
            .bind(handler)
            .bind(collection)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn read_model_list(
        &self,
        handler: &str,
        collection: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError> {
        // Keys sort after their prefix, so the scan starts at the prefix and
        // stops at the first key that no longer has it.
        let rows: Vec<(String, String)> = sqlx::query_as(include_str!("../../../queries/postgres/read_model_list.sql"))
            .bind(handler)
            .bind(collection)
            .bind(prefix)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().take_while(|(key, _)| key.starts_with(prefix)).collect())
    }

    async fn commit_handler_batch(
        &self,
        handler: &str,
        writes: &[ReadModelWrite],
        checkpoint: &CheckpointAdvance,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        let now = crate::time::now_micros();
        for write in writes {
            match &write.value {
                Some(value) => sqlx::query(include_str!("../../../queries/postgres/read_model_put.sql"))
                    .bind(handler)
                    .bind(&write.collection)
                    .bind(&write.key)
                    .bind(value)
                    .bind(now)
                    .execute(&mut *transaction)
                    .await?,
                None => sqlx::query(include_str!("../../../queries/postgres/read_model_delete.sql"))
                    .bind(handler)
                    .bind(&write.collection)
                    .bind(&write.key)
                    .execute(&mut *transaction)
                    .await?,
            };
        }
        let events: Option<i64> = sqlx::query_scalar(include_str!("../../../queries/postgres/checkpoint_events.sql"))
            .bind(&checkpoint.name)
            .fetch_optional(&mut *transaction)
            .await?;
        sqlx::query(include_str!("../../../queries/postgres/checkpoint_upsert.sql"))
            .bind(&checkpoint.name)
            .bind(checkpoint.position as i64)
            .bind(events.unwrap_or(0) + checkpoint.events as i64)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }
}
