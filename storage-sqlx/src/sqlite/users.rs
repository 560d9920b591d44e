//! [`UserStore`] on SQLite.

use async_trait::async_trait;
use neurochat_core::domain::{AgentLoad, Availability, Role, User, UserFilter, UserId};
use neurochat_core::ports::{StoreError, StoreResult, UserStore};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use time::OffsetDateTime;

use super::fetch_one;
use super::{SqliteStore, commit, db_err};
use crate::common::{fold_key, from_ms, id_text, like_contains, parse_enum, parse_id, to_u32, ts};

/// The column list every user query selects, in [`user_from_row`]'s terms.
macro_rules! user_cols {
    () => {
        "id, email, email_normalized, display_name, password_hash, role, disabled, \
         external_id, verified, contact_email, availability, capacity, created_at, \
         updated_at, version"
    };
}

pub(super) fn user_from_row(r: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: parse_id("users.id", r.try_get("id").map_err(db_err)?)?,
        email: r.try_get("email").map_err(db_err)?,
        email_normalized: r.try_get("email_normalized").map_err(db_err)?,
        display_name: r.try_get("display_name").map_err(db_err)?,
        password_hash: r.try_get("password_hash").map_err(db_err)?,
        role: parse_enum(
            "users.role",
            r.try_get("role").map_err(db_err)?,
            Role::parse,
        )?,
        disabled: r.try_get("disabled").map_err(db_err)?,
        external_id: r.try_get("external_id").map_err(db_err)?,
        verified: r.try_get("verified").map_err(db_err)?,
        contact_email: r.try_get("contact_email").map_err(db_err)?,
        availability: parse_enum(
            "users.availability",
            r.try_get("availability").map_err(db_err)?,
            Availability::parse,
        )?,
        capacity: to_u32("users.capacity", r.try_get("capacity").map_err(db_err)?)?,
        created_at: from_ms("users.created_at", r.try_get("created_at").map_err(db_err)?)?,
        updated_at: from_ms("users.updated_at", r.try_get("updated_at").map_err(db_err)?)?,
        version: r.try_get("version").map_err(db_err)?,
    })
}

/// Reads one user inside or outside a transaction.
pub(super) async fn fetch_user_with<'e, E>(exec: E, id: UserId) -> StoreResult<Option<User>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    fetch_one(
        exec,
        concat!("SELECT ", user_cols!(), " FROM users WHERE id = ?"),
        id_text(id),
        user_from_row,
    )
    .await
}

/// SQLite names whichever unique index it happens to check first. When a write
/// clashes on several keys, report them in the contract's order — `users.id`
/// (inserts only), `users.email`, `users.external_id` — like every other store.
async fn name_user_clash<'e, E>(
    exec: E,
    user: &User,
    is_insert: bool,
    err: StoreError,
) -> StoreError
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    if !matches!(err, StoreError::UniqueViolation { .. }) {
        return err;
    }
    let id = id_text(user.id);
    let row = sqlx::query(
        "SELECT EXISTS (SELECT 1 FROM users WHERE id = ?) AS by_id, \
         EXISTS (SELECT 1 FROM users WHERE email_normalized = ? AND id <> ?) AS by_email, \
         EXISTS (SELECT 1 FROM users WHERE external_id = ? AND id <> ?) AS by_external_id",
    )
    .bind(id.as_str())
    .bind(user.email_normalized.as_deref())
    .bind(id.as_str())
    .bind(user.external_id.as_deref())
    .bind(id.as_str())
    .fetch_one(exec)
    .await;
    let Ok(row) = row else { return err };
    let flag = |col: &str| row.try_get::<bool, _>(col).unwrap_or(false);
    let constraint = if is_insert && flag("by_id") {
        "users.id"
    } else if flag("by_email") {
        "users.email"
    } else if flag("by_external_id") {
        "users.external_id"
    } else {
        return err;
    };
    StoreError::UniqueViolation { constraint }
}

/// `list_agent_loads`; no binds. The count reads the partial index
/// tickets_open_assignee_idx alone.
pub(super) const AGENT_LOADS_SQL: &str = concat!(
    "SELECT ",
    user_cols!(),
    ", (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = users.id \
        AND t.status IN ('new', 'in_progress')) AS open_tickets \
     FROM users WHERE role IN ('agent', 'admin') AND disabled = 0 ORDER BY id"
);

/// The storage positions of a user's messages: as staff (the partial index
/// `messages_staff_author_idx`) and as the customer of their own tickets (a
/// customer writes nowhere else; `tickets_customer_idx`, then each ticket's
/// messages; migration 0005). Binds the user id three times.
macro_rules! authored_positions {
    () => {
        "SELECT pos FROM messages WHERE author_id = ? AND kind <> 'customer' \
         UNION ALL \
         SELECT m.pos FROM tickets t JOIN messages m ON m.ticket_id = t.id \
         WHERE t.customer_id = ? AND m.author_id = ? AND m.kind = 'customer'"
    };
}

/// Erasure: logs the search rows of a user's messages and of the subjects
/// of the tickets they opened (rowids: the message's `pos`, the ticket's
/// `-number`) in `search_erasures` (migration 0008): the search indexer
/// removes them from its file and never indexes them again. Binds the user
/// id four times.
pub(super) const ERASE_SEARCH_SQL: &str = concat!(
    "INSERT OR IGNORE INTO search_erasures (key) ",
    authored_positions!(),
    " UNION ALL SELECT -number FROM tickets WHERE customer_id = ?"
);

/// Erasure: replaces the texts of a user's messages (binds the placeholder,
/// then the user id three times).
pub(super) const ERASE_MESSAGES_SQL: &str = concat!(
    "UPDATE messages SET body = ? WHERE pos IN (",
    authored_positions!(),
    ")"
);

#[async_trait]
impl UserStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let inserted = sqlx::query(concat!(
            "INSERT INTO users (",
            user_cols!(),
            ", display_name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(id_text(user.id))
        .bind(user.email.as_deref())
        .bind(user.email_normalized.as_deref())
        .bind(user.display_name.as_str())
        .bind(user.password_hash.as_deref())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(user.external_id.as_deref())
        .bind(user.verified)
        .bind(user.contact_email.as_deref())
        .bind(user.availability.as_str())
        .bind(i64::from(user.capacity))
        .bind(ts(user.created_at))
        .bind(ts(user.updated_at))
        .bind(user.version)
        .bind(fold_key(&user.display_name))
        .execute(&self.pool)
        .await
        .map_err(db_err);
        match inserted {
            Ok(_) => Ok(()),
            Err(e) => Err(name_user_clash(&self.pool, user, true, e).await),
        }
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_user(&self, id: UserId) -> StoreResult<Option<User>> {
        fetch_user_with(&self.pool, id).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_user_by_email(&self, email_normalized: &str) -> StoreResult<Option<User>> {
        fetch_one(
            &self.pool,
            concat!(
                "SELECT ",
                user_cols!(),
                " FROM users WHERE email_normalized = ?"
            ),
            email_normalized.to_owned(),
            user_from_row,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_user_by_external_id(&self, external_id: &str) -> StoreResult<Option<User>> {
        fetch_one(
            &self.pool,
            concat!("SELECT ", user_cols!(), " FROM users WHERE external_id = ?"),
            external_id.to_owned(),
            user_from_row,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_user(&self, user: &User, expected_version: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE users SET email = ?, email_normalized = ?, display_name = ?, \
             display_name_key = ?, password_hash = ?, role = ?, disabled = ?, external_id = ?, \
             verified = ?, contact_email = ?, availability = ?, capacity = ?, created_at = ?, \
             updated_at = ?, version = ? \
             WHERE id = ? AND version = ?",
        )
        .bind(user.email.as_deref())
        .bind(user.email_normalized.as_deref())
        .bind(user.display_name.as_str())
        .bind(fold_key(&user.display_name))
        .bind(user.password_hash.as_deref())
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(user.external_id.as_deref())
        .bind(user.verified)
        .bind(user.contact_email.as_deref())
        .bind(user.availability.as_str())
        .bind(i64::from(user.capacity))
        .bind(ts(user.created_at))
        .bind(ts(user.updated_at))
        .bind(user.version)
        .bind(id_text(user.id))
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(db_err);
        let done = match done {
            Ok(done) => done,
            Err(e) => return Err(name_user_clash(&mut *tx, user, false, e).await),
        };
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM users WHERE id = ?")
                .bind(id_text(user.id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .is_some();
            return Err(if exists {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        commit(tx).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        now: OffsetDateTime,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(concat!(
            "UPDATE users SET disabled = ?, version = version + 1, updated_at = ? \
             WHERE id = ? RETURNING ",
            user_cols!()
        ))
        .bind(disabled)
        .bind(ts(now))
        .bind(id_text(id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound)?;
        let user = user_from_row(&row)?;
        if disabled {
            sqlx::query(
                "UPDATE sessions SET revoked_at = ?, revoke_reason = 'disabled' \
                 WHERE user_id = ? AND revoked_at IS NULL",
            )
            .bind(ts(now))
            .bind(id_text(id))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        commit(tx).await?;
        Ok(user)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_users(&self, filter: &UserFilter) -> StoreResult<Vec<User>> {
        let mut q = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE 1 = 1"
        ));
        if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = like_contains(&fold_key(search));
            q.push(" AND (email_normalized LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR display_name_key LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(role) = filter.role {
            q.push(" AND role = ").push_bind(role.as_str());
        }
        if let Some(disabled) = filter.disabled {
            q.push(" AND disabled = ").push_bind(disabled);
        }
        if let Some(after) = filter.after {
            q.push(" AND id > ").push_bind(id_text(after));
        }
        q.push(" ORDER BY id ASC LIMIT ")
            .push_bind(i64::from(filter.limit));
        q.build()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(user_from_row)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn count_users_with_role(&self, role: Role) -> StoreResult<u64> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = ? AND disabled = 0")
                .bind(role.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn list_agent_loads(&self) -> StoreResult<Vec<AgentLoad>> {
        let rows = sqlx::query(AGENT_LOADS_SQL)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(AgentLoad {
                    user: user_from_row(r)?,
                    open_tickets: r.try_get("open_tickets").map_err(db_err)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_user_erased(
        &self,
        id: UserId,
        placeholder: &str,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let uid = id_text(id);
        let done = sqlx::query(
            "UPDATE users SET display_name = ?, display_name_key = ?, email = NULL, \
             email_normalized = NULL, contact_email = NULL, external_id = NULL, \
             password_hash = NULL, disabled = 1, version = version + 1, updated_at = ? \
             WHERE id = ?",
        )
        .bind(placeholder)
        .bind(fold_key(placeholder))
        .bind(ts(now))
        .bind(uid.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE sessions SET revoked_at = ?, revoke_reason = 'erased' \
             WHERE user_id = ? AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(uid.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // Off the search index in the same commit as the texts.
        sqlx::query(ERASE_SEARCH_SQL)
            .bind(uid.as_str())
            .bind(uid.as_str())
            .bind(uid.as_str())
            .bind(uid.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(ERASE_MESSAGES_SQL)
            .bind(placeholder)
            .bind(uid.as_str())
            .bind(uid.as_str())
            .bind(uid.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("UPDATE tickets SET subject = ? WHERE customer_id = ?")
            .bind(placeholder)
            .bind(uid.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        commit(tx).await?;
        self.search.wake();
        Ok(())
    }
}
