//! The full-text index `ticket_search` (FTS5, migration 0003): one row per
//! ticket subject (rowid `-number`) and one per message (rowid `pos`, the
//! message's storage position), removed on erasure. It holds no copy of the
//! texts; a match is mapped back to its ticket through `messages` or
//! `tickets` ([`match_tickets_sql`]).
//!
//! Rows are indexed off the commit path (migration 0005): inserting a
//! message or a ticket only queues its key in `search_queue`; the
//! group-commit writer indexes queued rows [`INDEX_CHUNK`] at a time while
//! no write waits (what is left once the writes pause for 50 ms; more at a
//! time, waiting or not, once about [`INDEX_BEHIND`] are queued), and a text search first indexes
//! everything still queued ([`index_queued`]), so it finds every message
//! committed before it.
//!
//! The index never merges its segments on its own (migration 0007): each
//! indexing chunk ends with a bounded `merge` step, so no chunk turns into
//! a long merge that the writes queued behind it wait for.

use sqlx::SqliteConnection;

/// Queued rows one idle indexing transaction takes (see [`Take::Chunk`]).
pub(super) const INDEX_CHUNK: u64 = 64;
/// Queued rows past which the writer indexes between batches even when
/// writes are waiting (under sustained load there is no idle moment).
pub(super) const INDEX_BEHIND: u64 = 4096;

/// Queued rows one catching-up transaction takes (see [`Take::Behind`]).
pub(super) const INDEX_BEHIND_TAKE: u64 = 1024;

/// How much of the queue one indexing transaction takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Take {
    /// [`INDEX_CHUNK`] keys: short, run while no write waits.
    Chunk,
    /// 1024 keys: catching up under sustained load.
    Behind,
    /// Everything: before a text search.
    All,
}

/// Whether anything waits in the queue (a cheap read before a search).
pub(super) const QUEUED_SQL: &str = "SELECT EXISTS (SELECT 1 FROM search_queue)";

/// The temporary table holding the keys one indexing transaction takes.
macro_rules! search_batch_table {
    () => {
        "CREATE TEMP TABLE IF NOT EXISTS search_batch (key INTEGER PRIMARY KEY)"
    };
}

/// The rows of the keys in `temp.search_batch` into the index (keys whose
/// row is gone meanwhile are skipped). `CROSS JOIN` keeps the batch the
/// outer loop: SQLite has no statistics on the temporary table and would
/// otherwise walk every message with `pos > 0` and probe the batch.
macro_rules! index_rows_sql {
    () => {
        "INSERT INTO ticket_search (rowid, body) \
         SELECT b.key, m.body FROM temp.search_batch b CROSS JOIN messages m ON m.pos = b.key \
         WHERE b.key > 0 \
         UNION ALL \
         SELECT b.key, t.subject FROM temp.search_batch b CROSS JOIN tickets t \
         ON t.number = -b.key WHERE b.key < 0"
    };
}

/// See [`index_rows_sql`] (for its query plan test).
pub(super) const INDEX_ROWS_SQL: &str = index_rows_sql!();
/// See [`search_batch_table`].
pub(super) const SEARCH_BATCH_TABLE_SQL: &str = search_batch_table!();

/// One indexing transaction as one statement list (no bound parameters, so
/// one round trip to the connection's thread): the first keys of the queue
/// (`$limit`) into a temporary table, their rows into the index, the keys
/// off the queue, then `$merge` (a bounded merge step, or nothing).
macro_rules! index_sql {
    ($limit:literal, $merge:expr) => {
        concat!(
            "BEGIN IMMEDIATE; ",
            search_batch_table!(),
            "; DELETE FROM temp.search_batch; \
             INSERT INTO temp.search_batch SELECT key FROM search_queue ORDER BY key",
            $limit,
            "; ",
            index_rows_sql!(),
            "; DELETE FROM search_queue WHERE key IN (SELECT key FROM temp.search_batch); ",
            $merge,
            "COMMIT;"
        )
    };
}

/// A merge step of the index's segments of at most about `$pages` leaf
/// pages written. The index never merges on its own (`automerge = 0`,
/// migration 0007), so these steps are what keeps the segment count down,
/// in pieces short enough not to hold up the writes queued behind them. A
/// level with fewer than four segments is left alone (FTS5's `usermerge`).
macro_rules! merge_sql {
    ($pages:literal) => {
        concat!(
            "INSERT INTO ticket_search (ticket_search, rank) VALUES ('merge', ",
            $pages,
            "); "
        )
    };
}

/// Pages one merge step after an idle chunk writes: enough to keep up with
/// the segments the chunks add (a 64-row chunk is a segment of a few
/// pages, rewritten once per level as the levels merge).
const INDEX_CHUNK_SQL: &str = index_sql!(" LIMIT 64", merge_sql!(16));
const INDEX_BEHIND_SQL: &str = index_sql!(" LIMIT 1024", merge_sql!(64));
/// Before a search: no merging, the search is waiting.
const INDEX_ALL_SQL: &str = index_sql!("", "");

/// Indexes queued rows (see [`Take`]) and takes their keys off the queue,
/// in one write transaction on `conn`; the caller holds the store's writer
/// turn. Returns how many keys left the queue.
pub(super) async fn index_queued(
    conn: &mut SqliteConnection,
    take: Take,
) -> Result<u64, sqlx::Error> {
    let sql = match take {
        Take::Chunk => INDEX_CHUNK_SQL,
        Take::Behind => INDEX_BEHIND_SQL,
        Take::All => INDEX_ALL_SQL,
    };
    match sqlx::raw_sql(sql).execute(&mut *conn).await {
        Ok(_) => {
            let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM temp.search_batch")
                .fetch_one(&mut *conn)
                .await?;
            Ok(u64::try_from(taken).unwrap_or(0))
        }
        Err(e) => {
            // The list stopped at the failing statement, inside the
            // transaction: end it. (Fails harmlessly when BEGIN failed.)
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            Err(e)
        }
    }
}

/// The tickets with a search row matching an FTS5 query, up to the `MATCH`
/// (the caller binds the query after it): a message's ticket (internal notes
/// only if `with_notes`), or a subject's.
pub(super) fn match_tickets_sql(with_notes: bool) -> &'static str {
    if with_notes {
        MATCH_TICKETS_SQL
    } else {
        MATCH_TICKETS_NO_NOTES_SQL
    }
}

/// See [`match_tickets_sql`]. One MATCH; each hit is one primary-key lookup.
pub(super) const MATCH_TICKETS_SQL: &str = "SELECT COALESCE( \
     (SELECT m.ticket_id FROM messages m WHERE m.pos = ticket_search.rowid), \
     (SELECT t.id FROM tickets t WHERE t.number = -ticket_search.rowid)) \
     FROM ticket_search WHERE ticket_search MATCH ";

const MATCH_TICKETS_NO_NOTES_SQL: &str = "SELECT COALESCE( \
     (SELECT m.ticket_id FROM messages m WHERE m.pos = ticket_search.rowid AND m.kind <> 'internal_note'), \
     (SELECT t.id FROM tickets t WHERE t.number = -ticket_search.rowid)) \
     FROM ticket_search WHERE ticket_search MATCH ";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_takes_ask_for_what_their_constants_say() {
        assert!(INDEX_CHUNK_SQL.contains(&format!(" LIMIT {INDEX_CHUNK}; ")));
        assert!(INDEX_BEHIND_SQL.contains(&format!(" LIMIT {INDEX_BEHIND_TAKE}; ")));
        assert!(!INDEX_ALL_SQL.contains(" LIMIT "));
    }

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
}
