//! [`SessionStore`] on SQLite: sessions, refresh tokens, reset tokens.

use async_trait::async_trait;
use neurochat_core::domain::{
    OutboxMessage, RefreshToken, ResetToken, RotateOutcome, Session, SessionId, SessionKind,
    TokenId, UserId,
};
use neurochat_core::ports::{SessionStore, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection};
use time::OffsetDateTime;

use super::outbox::insert_outbox_with;
use super::{SqliteStore, commit, db_err, fetch_one};
use crate::common::{from_ms, from_ms_opt, id_text, parse_enum, parse_id, ts, ts_opt};

macro_rules! session_cols {
    () => {
        "id, user_id, kind, secret_hash, created_at, expires_at, revoked_at, revoke_reason"
    };
}

macro_rules! refresh_cols {
    () => {
        "id, session_id, user_id, secret_hash, issued_at, expires_at, rotated_at"
    };
}

macro_rules! reset_cols {
    () => {
        "id, user_id, secret_hash, created_at, expires_at, used_at"
    };
}

fn session_from_row(r: &SqliteRow) -> StoreResult<Session> {
    Ok(Session {
        id: parse_id("sessions.id", r.try_get("id").map_err(db_err)?)?,
        user_id: parse_id("sessions.user_id", r.try_get("user_id").map_err(db_err)?)?,
        kind: parse_enum(
            "sessions.kind",
            r.try_get("kind").map_err(db_err)?,
            SessionKind::parse,
        )?,
        secret_hash: r.try_get("secret_hash").map_err(db_err)?,
        created_at: from_ms(
            "sessions.created_at",
            r.try_get("created_at").map_err(db_err)?,
        )?,
        expires_at: from_ms(
            "sessions.expires_at",
            r.try_get("expires_at").map_err(db_err)?,
        )?,
        revoked_at: from_ms_opt(
            "sessions.revoked_at",
            r.try_get("revoked_at").map_err(db_err)?,
        )?,
        revoke_reason: r.try_get("revoke_reason").map_err(db_err)?,
    })
}

fn refresh_from_row(r: &SqliteRow) -> StoreResult<RefreshToken> {
    Ok(RefreshToken {
        id: parse_id("refresh_tokens.id", r.try_get("id").map_err(db_err)?)?,
        session_id: parse_id(
            "refresh_tokens.session_id",
            r.try_get("session_id").map_err(db_err)?,
        )?,
        user_id: parse_id(
            "refresh_tokens.user_id",
            r.try_get("user_id").map_err(db_err)?,
        )?,
        secret_hash: r.try_get("secret_hash").map_err(db_err)?,
        issued_at: from_ms(
            "refresh_tokens.issued_at",
            r.try_get("issued_at").map_err(db_err)?,
        )?,
        expires_at: from_ms(
            "refresh_tokens.expires_at",
            r.try_get("expires_at").map_err(db_err)?,
        )?,
        rotated_at: from_ms_opt(
            "refresh_tokens.rotated_at",
            r.try_get("rotated_at").map_err(db_err)?,
        )?,
    })
}

fn reset_from_row(r: &SqliteRow) -> StoreResult<ResetToken> {
    Ok(ResetToken {
        id: parse_id("reset_tokens.id", r.try_get("id").map_err(db_err)?)?,
        user_id: parse_id(
            "reset_tokens.user_id",
            r.try_get("user_id").map_err(db_err)?,
        )?,
        secret_hash: r.try_get("secret_hash").map_err(db_err)?,
        created_at: from_ms(
            "reset_tokens.created_at",
            r.try_get("created_at").map_err(db_err)?,
        )?,
        expires_at: from_ms(
            "reset_tokens.expires_at",
            r.try_get("expires_at").map_err(db_err)?,
        )?,
        used_at: from_ms_opt(
            "reset_tokens.used_at",
            r.try_get("used_at").map_err(db_err)?,
        )?,
    })
}

async fn insert_refresh_with(conn: &mut SqliteConnection, t: &RefreshToken) -> StoreResult<()> {
    sqlx::query(concat!(
        "INSERT INTO refresh_tokens (",
        refresh_cols!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(id_text(t.id))
    .bind(id_text(t.session_id))
    .bind(id_text(t.user_id))
    .bind(t.secret_hash.as_slice())
    .bind(ts(t.issued_at))
    .bind(ts(t.expires_at))
    .bind(ts_opt(t.rotated_at))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Revokes one session if it is not revoked yet; `true` if this call did it.
async fn revoke_session_with(
    conn: &mut SqliteConnection,
    id: SessionId,
    now: OffsetDateTime,
    reason: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
    )
    .bind(ts(now))
    .bind(reason)
    .bind(id_text(id))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

/// Revokes every unrevoked session of a user except `keep`; returns how many.
pub(super) async fn revoke_user_sessions_with(
    conn: &mut SqliteConnection,
    user_id: UserId,
    keep: Option<SessionId>,
    now: OffsetDateTime,
    reason: &str,
) -> StoreResult<u64> {
    // `id IS NOT ?` is true for every row when the bound value is NULL.
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = ?, revoke_reason = ? \
         WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?",
    )
    .bind(ts(now))
    .bind(reason)
    .bind(id_text(user_id))
    .bind(keep.map(id_text))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected())
}

async fn fetch_session_with<'e, E>(exec: E, id: SessionId) -> StoreResult<Option<Session>>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    fetch_one(
        exec,
        concat!("SELECT ", session_cols!(), " FROM sessions WHERE id = ?"),
        id_text(id),
        session_from_row,
    )
    .await
}

#[async_trait]
impl SessionStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_session(
        &self,
        session: &Session,
        first_refresh: Option<&RefreshToken>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(concat!(
            "INSERT INTO sessions (",
            session_cols!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(id_text(session.id))
        .bind(id_text(session.user_id))
        .bind(session.kind.as_str())
        .bind(session.secret_hash.as_deref())
        .bind(ts(session.created_at))
        .bind(ts(session.expires_at))
        .bind(ts_opt(session.revoked_at))
        .bind(session.revoke_reason.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(token) = first_refresh {
            if token.session_id != session.id {
                return Err(StoreError::ForeignKey);
            }
            insert_refresh_with(&mut tx, token).await?;
        }
        commit(tx).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_session(&self, id: SessionId) -> StoreResult<Option<Session>> {
        fetch_session_with(&self.pool, id).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_refresh_token(&self, id: TokenId) -> StoreResult<Option<RefreshToken>> {
        fetch_one(
            &self.pool,
            concat!(
                "SELECT ",
                refresh_cols!(),
                " FROM refresh_tokens WHERE id = ?"
            ),
            id_text(id),
            refresh_from_row,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn rotate_refresh_token(
        &self,
        old: TokenId,
        successor: &RefreshToken,
        now: OffsetDateTime,
    ) -> StoreResult<RotateOutcome> {
        let mut tx = self.begin_write().await?;
        let token = fetch_one(
            &mut *tx,
            concat!(
                "SELECT ",
                refresh_cols!(),
                " FROM refresh_tokens WHERE id = ?"
            ),
            id_text(old),
            refresh_from_row,
        )
        .await?
        .ok_or(StoreError::NotFound)?;
        let session = fetch_session_with(&mut *tx, token.session_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let reused = RotateOutcome::Reused {
            session_id: session.id,
            user_id: token.user_id,
        };
        if token.rotated_at.is_some() {
            // A rotated token presented again: treat as theft and end the
            // family (an earlier revocation keeps its time and reason).
            revoke_session_with(&mut tx, session.id, now, "refresh_token_reused").await?;
            commit(tx).await?;
            return Ok(reused);
        }
        if !session.is_active(now) {
            // Nothing changes; dropping the transaction rolls it back.
            return Ok(RotateOutcome::SessionInactive);
        }
        if successor.session_id != session.id {
            return Err(StoreError::ForeignKey);
        }
        // The compare-and-set: of several rotations of one token only one can
        // flip `rotated_at` from NULL. BEGIN IMMEDIATE already serialises the
        // rotations (so a later one takes the branch above); this keeps the
        // guarantee even without it.
        let rotated = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = ? WHERE id = ? AND rotated_at IS NULL",
        )
        .bind(ts(now))
        .bind(id_text(old))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            == 1;
        let outcome = if rotated {
            insert_refresh_with(&mut tx, successor).await?;
            RotateOutcome::Rotated
        } else {
            revoke_session_with(&mut tx, session.id, now, "refresh_token_reused").await?;
            reused
        };
        commit(tx).await?;
        Ok(outcome)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke_session(
        &self,
        id: SessionId,
        now: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<bool> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        revoke_session_with(&mut conn, id, now, reason).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        now: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        revoke_user_sessions_with(&mut conn, user_id, keep, now, reason).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn insert_reset_token(
        &self,
        token: &ResetToken,
        mail: &OutboxMessage,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(concat!(
            "INSERT INTO reset_tokens (",
            reset_cols!(),
            ") VALUES (?, ?, ?, ?, ?, ?)"
        ))
        .bind(id_text(token.id))
        .bind(id_text(token.user_id))
        .bind(token.secret_hash.as_slice())
        .bind(ts(token.created_at))
        .bind(ts(token.expires_at))
        .bind(ts_opt(token.used_at))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_outbox_with(&mut tx, mail).await?;
        commit(tx).await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn fetch_reset_token(&self, id: TokenId) -> StoreResult<Option<ResetToken>> {
        fetch_one(
            &self.pool,
            concat!("SELECT ", reset_cols!(), " FROM reset_tokens WHERE id = ?"),
            id_text(id),
            reset_from_row,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn update_reset_token_used(
        &self,
        id: TokenId,
        new_password_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<UserId> {
        let mut tx = self.begin_write().await?;
        let used: Option<String> = sqlx::query_scalar(
            "UPDATE reset_tokens SET used_at = ? \
             WHERE id = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id",
        )
        .bind(ts(now))
        .bind(id_text(id))
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(user_id) = used else {
            let exists = sqlx::query("SELECT 1 FROM reset_tokens WHERE id = ?")
                .bind(id_text(id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?
                .is_some();
            return Err(if exists {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        };
        let user_id: UserId = parse_id("reset_tokens.user_id", &user_id)?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = ?, version = version + 1, updated_at = ? WHERE id = ?",
        )
        .bind(new_password_hash)
        .bind(ts(now))
        .bind(id_text(user_id))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        revoke_user_sessions_with(&mut tx, user_id, None, now, "password_reset").await?;
        commit(tx).await?;
        Ok(user_id)
    }

    #[tracing::instrument(level = "debug", skip_all)]
    async fn delete_expired_tokens(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < ?")
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        let reset = sqlx::query("DELETE FROM reset_tokens WHERE expires_at < ?")
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        commit(tx).await?;
        Ok(refresh + reset)
    }
}
