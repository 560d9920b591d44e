//! Backend-neutral helpers shared by every sqlx store: the storage
//! representation of timestamps, ids and enums, LIKE escaping, and the
//! stable names of unique constraints.

use neurochat_core::ports::StoreError;
use time::OffsetDateTime;
use uuid::Uuid;

/// A stored value that does not decode into a domain value (a corrupt row or
/// a schema newer than this code). Reported as [`StoreError::Backend`].
#[derive(Debug, thiserror::Error)]
#[error("undecodable stored value in column {column}: {detail}")]
pub(crate) struct Corrupt {
    column: &'static str,
    detail: String,
}

/// A [`StoreError::Backend`] for an undecodable column.
pub(crate) fn corrupt(column: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::backend(Corrupt {
        column,
        detail: detail.to_string(),
    })
}

/// Timestamps are stored as unix milliseconds (UTC); finer precision is
/// dropped exactly as `neurochat_core::ports::truncate_millis` drops it.
pub(crate) fn ts(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    // i64 milliseconds cover ±292 million years; OffsetDateTime's range is far smaller.
    ms as i64
}

/// [`ts`] for optional timestamps.
pub(crate) fn ts_opt(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(ts)
}

/// Reads a stored millisecond timestamp.
pub(crate) fn from_ms(column: &'static str, ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| corrupt(column, e))
}

/// Reads an optional stored millisecond timestamp.
pub(crate) fn from_ms_opt(
    column: &'static str,
    ms: Option<i64>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    ms.map(|v| from_ms(column, v)).transpose()
}

/// Ids are stored as hyphenated lower-case text: its text order equals the
/// UUID's byte order, so keyset pages by id work on the column directly.
pub(crate) fn id_text(u: impl Into<Uuid>) -> String {
    u.into().hyphenated().to_string()
}

/// [`id_text`] for optional ids.
pub(crate) fn id_text_opt<U: Into<Uuid>>(u: Option<U>) -> Option<String> {
    u.map(id_text)
}

/// Parses a stored id into its typed newtype.
pub(crate) fn parse_id<T: From<Uuid>>(column: &'static str, s: &str) -> Result<T, StoreError> {
    Uuid::parse_str(s)
        .map(T::from)
        .map_err(|e| corrupt(column, e))
}

/// Parses an optional stored id.
pub(crate) fn parse_id_opt<T: From<Uuid>>(
    column: &'static str,
    s: Option<&str>,
) -> Result<Option<T>, StoreError> {
    s.map(|v| parse_id(column, v)).transpose()
}

/// Parses a stored enum name with the domain type's `parse`.
pub(crate) fn parse_enum<T>(
    column: &'static str,
    s: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(s).ok_or_else(|| corrupt(column, format_args!("unknown value {s:?}")))
}

/// Reads a stored non-negative count into `u32`.
pub(crate) fn to_u32(column: &'static str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|e| corrupt(column, e))
}

/// The case-insensitive key of a name (Unicode lower case; SQLite's `lower()`
/// and `NOCASE` only fold ASCII, so the key is computed here).
pub(crate) fn fold_key(s: &str) -> String {
    s.to_lowercase()
}

/// A `LIKE … ESCAPE '\'` pattern matching `needle` (already case-folded) as a
/// substring: `%`, `_` and `\` in it are escaped.
pub(crate) fn like_contains(needle: &str) -> String {
    let mut p = String::with_capacity(needle.len() + 2);
    p.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Maps the columns a backend names in a unique-violation message
/// (`users.email_normalized`, `messages.ticket_id, messages.seq`, or an index
/// name such as `users_email_normalized_key`) to the stable constraint name
/// of [`StoreError::UniqueViolation`].
pub(crate) fn unique_constraint_name(detail: &str) -> &'static str {
    // Most specific first: several messages name `ticket_id`.
    const NAMES: &[(&[&str], &str)] = &[
        (
            &["users.email_normalized", "users_email_normalized_key"],
            "users.email",
        ),
        (
            &["users.external_id", "users_external_id_key"],
            "users.external_id",
        ),
        (
            &["categories.name_key", "categories_name_key_key"],
            "categories.name",
        ),
        (
            &[
                "messages.client_msg_id",
                "messages_client_msg_key",
                "messages_system_client_msg_key",
            ],
            "messages.client_msg_id",
        ),
        (&["messages.seq", "messages_ticket_seq_key"], "messages.seq"),
        (&["tickets.number", "tickets_number_key"], "tickets.number"),
        (&["users.id", "users_pkey"], "users.id"),
        (&["sessions.id", "sessions_pkey"], "sessions.id"),
        (
            &["refresh_tokens.id", "refresh_tokens_pkey"],
            "refresh_tokens.id",
        ),
        (&["reset_tokens.id", "reset_tokens_pkey"], "reset_tokens.id"),
        (&["audit_log.id", "audit_log_pkey"], "audit_log.id"),
        (&["categories.id", "categories_pkey"], "categories.id"),
        (&["tickets.id", "tickets_pkey"], "tickets.id"),
        (&["messages.id", "messages_pkey"], "messages.id"),
        (&["outbox.id", "outbox_pkey"], "outbox.id"),
        (&["counters.name", "counters_pkey"], "counters.name"),
    ];
    NAMES
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| detail.contains(n)))
        .map_or("unknown", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_at_millisecond_precision() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).ok();
        let t = t.expect("valid");
        let ms = ts(t);
        assert_eq!(ms, 1_700_000_000_123);
        let back = from_ms("t", ms).expect("valid");
        assert_eq!(back.unix_timestamp_nanos(), 1_700_000_000_123_000_000);
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000).expect("valid");
        assert_eq!(ts(before_epoch), -1);
        assert_eq!(
            from_ms("t", ts(before_epoch)).expect("valid"),
            neurochat_core::ports::truncate_millis(before_epoch)
        );
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("ann"), "%ann%");
        assert_eq!(like_contains("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn constraint_names() {
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: users.email_normalized"),
            "users.email"
        );
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: users.external_id"),
            "users.external_id"
        );
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: categories.name_key"),
            "categories.name"
        );
        assert_eq!(
            unique_constraint_name(
                "UNIQUE constraint failed: messages.ticket_id, messages.author_id, messages.client_msg_id"
            ),
            "messages.client_msg_id"
        );
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: messages.ticket_id, messages.seq"),
            "messages.seq"
        );
        assert_eq!(
            unique_constraint_name("UNIQUE constraint failed: users.id"),
            "users.id"
        );
        assert_eq!(unique_constraint_name("something else"), "unknown");
    }
}
