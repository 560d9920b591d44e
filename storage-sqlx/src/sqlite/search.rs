//! The full-text index `ticket_search` (FTS5, see migration 0002): one row
//! per ticket subject and one per message, written in the same transaction
//! as the ticket or message and removed on erasure.

use sqlx::SqliteConnection;

use super::db_err;
use crate::common::id_text;
use neurochat_core::domain::TicketId;
use neurochat_core::ports::StoreResult;

/// The `kind` of a subject row (message rows carry the message kind).
pub(super) const SUBJECT_KIND: &str = "subject";

/// The rowid of a search row: `number * 2^32 + seq` for a message, `seq` 0
/// for the subject. Derived from immutable keys, so erasure finds the rows of
/// a user's messages without scanning the index.
pub(super) fn search_rowid(number: i64, seq: i64) -> i64 {
    (number << 32) + seq
}

/// The words of a search text: maximal runs of alphanumeric characters,
/// lower-cased.
pub(super) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The FTS5 query for a search text: every word as a quoted prefix term,
/// all required (`"w1"* AND "w2"*`), so one row (a subject or a message) must
/// hold every word as a word prefix. `None` when the text has no words.
///
/// The words only contain alphanumeric characters; quotes are still escaped
/// (doubled) so the query can never be anything but a list of prefix terms.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = words(text)
        .iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// Adds one row to the index.
pub(super) async fn index_row(
    conn: &mut SqliteConnection,
    rowid: i64,
    ticket_id: TicketId,
    kind: &str,
    body: &str,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO ticket_search (rowid, ticket_id, kind, body) VALUES (?, ?, ?, ?)")
        .bind(rowid)
        .bind(id_text(ticket_id))
        .bind(kind)
        .bind(body)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_alphanumeric_runs_lower_cased() {
        assert_eq!(
            words("  Refund: ÉCOLE-42, o'neil_x! "),
            ["refund", "école", "42", "o", "neil", "x"]
        );
        assert!(words(" ,;- ").is_empty());
    }

    #[test]
    fn fts_queries_are_quoted_prefix_terms() {
        assert_eq!(
            fts_query("Refund école").as_deref(),
            Some("\"refund\"* AND \"école\"*")
        );
        assert_eq!(
            fts_query("a\"b OR c*").as_deref(),
            Some("\"a\"* AND \"b\"* AND \"or\"* AND \"c\"*")
        );
        assert_eq!(fts_query("--"), None);
    }

    #[test]
    fn rowids_separate_tickets_and_messages() {
        assert_eq!(search_rowid(1, 0), 1 << 32);
        assert_eq!(search_rowid(1, 7), (1 << 32) + 7);
        assert!(search_rowid(2, 0) > search_rowid(1, u32::MAX.into()));
    }
}
