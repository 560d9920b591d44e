//! [`CategoryStore`] on SQLite. Names are unique case-insensitively through
//! the `name_key` column (the name lower-cased in Rust).

use async_trait::async_trait;
use neurochat_core::domain::{Category, CategoryId};
use neurochat_core::ports::{CategoryStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, db_err, fetch_one};
use crate::common::{fold_key, from_ms, id_text, parse_id, ts};

fn category_from_row(r: &SqliteRow) -> StoreResult<Category> {
    Ok(Category {
        id: parse_id("categories.id", r.try_get("id").map_err(db_err)?)?,
        name: r.try_get("name").map_err(db_err)?,
        archived: r.try_get("archived").map_err(db_err)?,
        created_at: from_ms(
            "categories.created_at",
            r.try_get("created_at").map_err(db_err)?,
        )?,
    })
}

#[async_trait]
impl CategoryStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_category(&self, category: &Category) -> StoreResult<()> {
        let inserted = sqlx::query(
            "INSERT INTO categories (id, name, name_key, archived, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(id_text(category.id))
        .bind(category.name.as_str())
        .bind(fold_key(&category.name))
        .bind(category.archived)
        .bind(ts(category.created_at))
        .execute(&self.pool)
        .await
        .map_err(db_err);
        match inserted {
            Ok(_) => Ok(()),
            // SQLite may name the name index first; a duplicate id comes first
            // in the contract.
            Err(StoreError::UniqueViolation { .. })
                if self.fetch_category(category.id).await?.is_some() =>
            {
                Err(StoreError::UniqueViolation {
                    constraint: "categories.id",
                })
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_category(&self, id: CategoryId) -> StoreResult<Option<Category>> {
        fetch_one(
            &self.pool,
            "SELECT id, name, archived, created_at FROM categories WHERE id = ?",
            id_text(id),
            category_from_row,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_category(&self, category: &Category) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE categories SET name = ?, name_key = ?, archived = ? WHERE id = ?")
                .bind(category.name.as_str())
                .bind(fold_key(&category.name))
                .bind(category.archived)
                .bind(id_text(category.id))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        sqlx::query("SELECT id, name, archived, created_at FROM categories ORDER BY name_key, id")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(category_from_row)
            .collect()
    }
}
