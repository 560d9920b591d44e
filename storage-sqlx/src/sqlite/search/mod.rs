//! The full-text index, in a database file of its own (migration 0008).
//!
//! # Layout
//!
//! `ticket_search` (FTS5, contentless with delete support) holds one row per
//! ticket subject (rowid `-number`) and one per message (rowid `pos`, the
//! message's storage position). It keeps no copy of the texts: a match is
//! mapped back to its ticket through `messages` or `tickets`
//! ([`match_tickets_sql`]). `search_state` remembers how far the index got.
//!
//! It lives in `<database>-search` beside the chat database (an in-memory
//! store: a second in-memory database on its one connection), attached as
//! `search` — but only to the connections of the index's own small pool and
//! its indexer, never to the store's pool or its group-commit writer:
//! `BEGIN IMMEDIATE` write-locks every attached database, so a writer with
//! the index attached would still wait for a merge of its segments. Apart,
//! indexing and merging hold the index's write lock, never the chat's: a
//! merge of a burst's large segments held the chat's lock for 7-16 ms, and
//! the commits queued behind it, when the index was in the same file.
//!
//! The file is derived data: deleted, or found not to match the chat
//! database (restored from an older backup), it is rebuilt from the chat
//! database in the background (checked by `prepare` on open; the indexer
//! then fills it).
//!
//! # Keeping up
//!
//! Messages and tickets get their positions (`pos`, `number`) in commit
//! order and are never deleted (erasure replaces their texts), so the index
//! follows them with two high-water marks: each indexing transaction
//! ([`index_step`]) takes the index's write lock first, then reads the rows
//! past the marks from one snapshot of the chat database, indexes them and
//! moves the marks, all in one commit of the index's file. The indexer task
//! (`indexer.rs`) runs such transactions at a low CPU priority after the
//! writes, and a text search first runs one itself ([`SearchIndex::catch_up`]),
//! so it finds every message committed before it.
//!
//! Erasure appends the erased rows' keys to `search_erasures` in the chat
//! database, in its own transaction; indexing never indexes a logged key and
//! removes those it had indexed before, past a third mark. So no erased text
//! is found once the erasure has committed, whatever happens between the
//! two files.

mod indexer;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Connection as _, SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, mpsc};

use super::{BUSY_TIMEOUT, is_busy};

pub(super) use indexer::spawn as spawn_indexer;

/// Rows one background indexing transaction takes at most (of messages
/// and of tickets each): a commit of the index's file per ~1,000 rows.
pub(super) const INDEX_CHUNK: i64 = 1024;

/// Connections of the index's pool (text searches; the indexer has one of
/// its own besides).
const SEARCH_CONNECTIONS: u32 = 4;

/// The format of the index's file this code writes; a file of another
/// format is rebuilt.
const FORMAT: i64 = 1;

/// The index's file commits pages back from its WAL (it is written by its
/// own connections only, so SQLite's own checkpoints are fine there): at
/// 16 MiB, rarely, since each checkpoint syncs the disk.
const SEARCH_AUTOCHECKPOINT_PAGES: &str = "4096";

/// The full-text index of a store: its pool (connections with the chat
/// database as `main` and the index attached as `search`), the turns its
/// writers take, and the indexer's wake-up queue.
#[derive(Debug, Clone)]
pub(crate) struct SearchIndex {
    index: IndexHandle,
    /// Wakes the indexer (full: a wake-up is pending). The indexer ends once
    /// every sender is gone.
    wake: mpsc::Sender<()>,
}

/// What the indexer task needs (see `indexer.rs`).
pub(super) struct IndexerParts {
    pub(super) index: IndexHandle,
    pub(super) wake: mpsc::Receiver<()>,
}

/// A [`SearchIndex`] without a wake-up sender (held by the indexer task,
/// which must not keep its own queue open).
#[derive(Debug, Clone)]
pub(super) struct IndexHandle {
    pool: SqlitePool,
    /// The index's file, `None` for an in-memory store.
    file: Option<Arc<str>>,
    /// Turns for the index's write transactions within this store (the
    /// indexer and searches catching up), so they follow each other
    /// instead of meeting SQLite's busy handler.
    turn: Arc<Mutex<()>>,
    /// Whether [`prepare`] has run (it may not have at open, see
    /// [`SearchIndex::open`]).
    prepared: Arc<AtomicBool>,
}

impl IndexHandle {
    /// One indexing transaction (see [`index_step`]) on `conn`, preparing
    /// the index first if that has not happened yet; the caller holds the
    /// index's turn.
    async fn step(&self, conn: &mut SqliteConnection, limit: i64) -> Result<Step, sqlx::Error> {
        if !self.prepared.load(Ordering::Acquire) {
            prepare(conn).await?;
            self.prepared.store(true, Ordering::Release);
        }
        index_step(conn, limit).await
    }
}

impl SearchIndex {
    /// The index of the chat database `main` is a pool of: opens (creating
    /// if missing) `<database>-search`, or, for an in-memory database,
    /// attaches an in-memory index to its one connection. Checks the file
    /// against the chat database and clears it if they do not match.
    pub(super) async fn open(
        main: &SqlitePool,
    ) -> Result<(SearchIndex, IndexerParts), sqlx::Error> {
        let file: Option<String> =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_optional(main)
                .await?
                .filter(|f: &String| !f.is_empty());
        let (pool, file, prepared) = match file {
            Some(file) => {
                let file: Arc<str> = format!("{file}-search").into();
                let options = main.connect_options().as_ref().clone();
                // On a connection of its own, closed after: the index's
                // pool opens connections (each a thread of sqlx's) only
                // for text searches.
                let mut conn = SqliteConnection::connect_with(&options).await?;
                attach(&mut conn, Some(&file)).await?;
                let prepared = match prepare(&mut conn).await {
                    Ok(()) => true,
                    // Another store's indexer held the index past the busy
                    // timeout: open the chat anyway (the index is derived
                    // data); the first indexing step prepares it.
                    Err(e) if is_busy(&e) => {
                        tracing::warn!(error = %e, "search index busy at open; preparing it later");
                        false
                    }
                    Err(e) => return Err(e),
                };
                conn.close().await?;
                (search_pool(options, file.clone()), Some(file), prepared)
            }
            None => {
                // One connection, never closed (see `open_in_memory`): the
                // index attached to it stays.
                let mut conn = main.acquire().await?;
                attach(&mut conn, None).await?;
                prepare(&mut conn).await?;
                (main.clone(), None, true)
            }
        };
        let (wake, rx) = mpsc::channel(1);
        let handle = IndexHandle {
            pool,
            file,
            turn: Arc::new(Mutex::new(())),
            prepared: Arc::new(AtomicBool::new(prepared)),
        };
        let parts = IndexerParts {
            index: handle.clone(),
            wake: rx,
        };
        let index = SearchIndex {
            index: handle,
            wake,
        };
        Ok((index, parts))
    }

    /// The pool whose connections have the index attached as `search`.
    pub(super) fn pool(&self) -> &SqlitePool {
        &self.index.pool
    }

    /// Tells the indexer that rows were committed.
    pub(super) fn wake(&self) {
        // Full: a wake-up is pending already.
        let _ = self.wake.try_send(());
    }

    /// The turn the index's write transactions take (the indexer's reads
    /// of the chat database happen inside them): the checkpoint task holds
    /// it while it starts the chat's WAL over.
    pub(super) fn turn(&self) -> Arc<Mutex<()>> {
        self.index.turn.clone()
    }

    /// A handle to wake the indexer from elsewhere (the group-commit
    /// writer).
    pub(super) fn waker(&self) -> mpsc::Sender<()> {
        self.wake.clone()
    }

    /// Indexes everything committed so far, in one transaction on a pooled
    /// connection (a text search does this first).
    pub(super) async fn catch_up(&self) -> Result<Step, sqlx::Error> {
        let _turn = self.index.turn.lock().await;
        let mut conn = self.index.pool.acquire().await?;
        self.index.step(&mut conn, -1).await
    }

    /// Where the index's file is, `None` for an in-memory store.
    pub(super) fn file(&self) -> Option<&str> {
        self.index.file.as_deref()
    }
}

/// The index's pool: connections to the chat database (`main`, options as
/// the store's) with the index's file attached, opened when first needed.
/// Never used to write the chat database.
fn search_pool(options: SqliteConnectOptions, file: Arc<str>) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(SEARCH_CONNECTIONS)
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            let file = file.clone();
            Box::pin(async move { attach(conn, Some(&file)).await })
        })
        .connect_lazy_with(options.pragma("wal_autocheckpoint", SEARCH_AUTOCHECKPOINT_PAGES))
}

/// Attaches the index (`file`, or an in-memory database) as `search`, in
/// WAL mode for a file.
async fn attach(conn: &mut SqliteConnection, file: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("ATTACH DATABASE ? AS search")
        .bind(file.unwrap_or(":memory:"))
        .execute(&mut *conn)
        .await?;
    if file.is_none() {
        return Ok(());
    }
    // Switching a new file to WAL takes an exclusive lock SQLite does not
    // wait for: retry within the busy timeout (see `SqliteStore::open`).
    let started = std::time::Instant::now();
    loop {
        match sqlx::query("PRAGMA search.journal_mode = WAL")
            .execute(&mut *conn)
            .await
        {
            Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            done => break done.map(|_| ())?,
        }
    }
    // Derived data: a power loss may lose the last commits of the index
    // (never corrupting it), as for the chat database.
    sqlx::raw_sql(
        "PRAGMA search.synchronous = NORMAL; PRAGMA search.journal_size_limit = 67108864",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates the index's tables if missing (a file of another format is
/// cleared first) and checks its marks against the chat database: a mark
/// past the chat's last row, or on a row of another id, means the chat
/// database is not the one indexed (restored from a backup, replaced), and
/// the index starts over.
async fn prepare(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    // Both files' write locks, waited for, before anything is read: another
    // store opening the same files at once then finds the tables in place
    // (a read first would leave a stale snapshot that cannot become a
    // write). Once per open, so holding the chat's lock this long is fine.
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let format: i64 = sqlx::query_scalar("PRAGMA search.user_version")
        .fetch_one(&mut *tx)
        .await?;
    if format != FORMAT && format != 0 {
        tracing::warn!(format, "search index of another format: rebuilding it");
        sqlx::raw_sql(
            "DROP TABLE IF EXISTS search.ticket_search; DROP TABLE IF EXISTS search.search_state",
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::raw_sql(SCHEMA_SQL).execute(&mut *tx).await?;
    let matches: bool = sqlx::query_scalar(MARKS_MATCH_SQL)
        .fetch_one(&mut *tx)
        .await?;
    if !matches {
        tracing::warn!("the search index does not match the chat database: rebuilding it");
        sqlx::raw_sql(CLEAR_SQL).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// The index's tables (`FORMAT` 1). unicode61 with `remove_diacritics 2`:
/// case- and accent-insensitive words. The marks: the last message `pos`
/// and ticket `number` indexed (with their ids, to recognise the chat
/// database) and the last `search_erasures.seq` applied.
const SCHEMA_SQL: &str = "\
    CREATE VIRTUAL TABLE IF NOT EXISTS search.ticket_search USING fts5 ( \
        body, content = '', contentless_delete = 1, \
        tokenize = 'unicode61 remove_diacritics 2'); \
    CREATE TABLE IF NOT EXISTS search.search_state ( \
        id INTEGER PRIMARY KEY CHECK (id = 1), \
        message_pos INTEGER NOT NULL, message_id TEXT, \
        ticket_number INTEGER NOT NULL, ticket_id TEXT, \
        erased_seq INTEGER NOT NULL); \
    INSERT OR IGNORE INTO search.search_state VALUES (1, 0, NULL, 0, NULL, 0); \
    PRAGMA search.user_version = 1";

const _: () = assert!(FORMAT == 1);

/// Whether the marks fit the chat database (see [`prepare`]).
const MARKS_MATCH_SQL: &str = "SELECT \
    (s.message_pos = 0 OR s.message_id = (SELECT id FROM messages WHERE pos = s.message_pos)) \
    AND (s.ticket_number = 0 OR s.ticket_id = (SELECT id FROM tickets WHERE number = s.ticket_number)) \
    AND s.erased_seq <= (SELECT COALESCE(MAX(seq), 0) FROM search_erasures) \
    FROM search.search_state s WHERE s.id = 1";

/// Empties the index and its marks.
const CLEAR_SQL: &str = "\
    INSERT INTO search.ticket_search (ticket_search) VALUES ('delete-all'); \
    UPDATE search.search_state SET message_pos = 0, message_id = NULL, \
        ticket_number = 0, ticket_id = NULL, erased_seq = 0";

/// Takes the index's write lock (a write to the index's file only), before
/// anything of the chat database is read.
const LOCK_SQL: &str = "UPDATE search.search_state SET erased_seq = erased_seq WHERE id = 1";

const MARKS_SQL: &str =
    "SELECT message_pos, ticket_number, erased_seq FROM search.search_state WHERE id = 1";

/// The last `pos` and the count of the next messages past a mark (binds
/// the mark, the limit; -1: all).
const MESSAGES_UPTO_SQL: &str = "SELECT MAX(pos), COUNT(*) FROM \
    (SELECT pos FROM messages WHERE pos > ? ORDER BY pos LIMIT ?)";

/// Messages past a mark up to a bound into the index, except those erased
/// (binds the mark and the bound).
pub(super) const INDEX_MESSAGES_SQL: &str = "\
    INSERT INTO search.ticket_search (rowid, body) \
    SELECT m.pos, m.body FROM messages m WHERE m.pos > ? AND m.pos <= ? \
    AND NOT EXISTS (SELECT 1 FROM search_erasures e WHERE e.key = m.pos)";

const TICKETS_UPTO_SQL: &str = "SELECT MAX(number), COUNT(*) FROM \
    (SELECT number FROM tickets WHERE number > ? ORDER BY number LIMIT ?)";

/// Subjects past a mark up to a bound into the index, except those erased.
const INDEX_TICKETS_SQL: &str = "\
    INSERT INTO search.ticket_search (rowid, body) \
    SELECT -t.number, t.subject FROM tickets t WHERE t.number > ? AND t.number <= ? \
    AND NOT EXISTS (SELECT 1 FROM search_erasures e WHERE e.key = -t.number)";

/// The last erasure logged past a mark, and how many (binds the mark, the
/// limit; always -1: erasures are few).
const ERASURES_UPTO_SQL: &str = "SELECT MAX(seq), COUNT(*) FROM \
    (SELECT seq FROM search_erasures WHERE seq > ? ORDER BY seq LIMIT ?)";

/// Erased rows past a mark up to a bound out of the index (one may never
/// have been indexed: deleting a rowid the index lacks changes nothing).
const APPLY_ERASURES_SQL: &str = "DELETE FROM search.ticket_search WHERE rowid IN \
    (SELECT key FROM search_erasures WHERE seq > ? AND seq <= ?)";

const SET_MARKS_SQL: &str = "UPDATE search.search_state SET \
    message_pos = ?1, message_id = (SELECT id FROM messages WHERE pos = ?1), \
    ticket_number = ?2, ticket_id = (SELECT id FROM tickets WHERE number = ?2), \
    erased_seq = ?3 WHERE id = 1";

/// What one indexing transaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Step {
    /// Rows indexed, and erased rows removed.
    pub(super) rows: u64,
    /// It took as many messages or subjects as it was allowed: more may wait.
    pub(super) more: bool,
}

/// One indexing transaction on a connection with the index attached:
/// takes the index's write lock, then indexes up to `limit` messages and
/// `limit` ticket subjects past the marks (-1: all), applies the erasures
/// logged since the last one, and moves the marks.
pub(super) async fn index_step(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Step, sqlx::Error> {
    let mut tx = conn.begin().await?;
    sqlx::query(LOCK_SQL).execute(&mut *tx).await?;
    let (pos, number, erased): (i64, i64, i64) =
        sqlx::query_as(MARKS_SQL).fetch_one(&mut *tx).await?;
    let mut step = Step::default();
    let new_pos = advance(&mut tx, MESSAGES, pos, limit, &mut step).await?;
    let new_number = advance(&mut tx, TICKETS, number, limit, &mut step).await?;
    let new_erased = advance(&mut tx, ERASURES, erased, -1, &mut step).await?;
    if step.rows == 0 {
        // Nothing new: nothing to commit to the index's file.
        tx.rollback().await?;
        return Ok(step);
    }
    sqlx::query(SET_MARKS_SQL)
        .bind(new_pos)
        .bind(new_number)
        .bind(new_erased)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(step)
}

/// What follows one mark: the query for the last row past it (and how
/// many, up to a limit), and the statement applying the rows between the
/// mark and that bound to the index.
type Follow = (&'static str, &'static str);

const MESSAGES: Follow = (MESSAGES_UPTO_SQL, INDEX_MESSAGES_SQL);
const TICKETS: Follow = (TICKETS_UPTO_SQL, INDEX_TICKETS_SQL);
const ERASURES: Follow = (ERASURES_UPTO_SQL, APPLY_ERASURES_SQL);

/// Applies up to `limit` rows past `mark` (-1: all) within `tx`, counting
/// them in `step`; the new mark.
async fn advance(
    tx: &mut SqliteConnection,
    (upto_sql, apply_sql): Follow,
    mark: i64,
    limit: i64,
    step: &mut Step,
) -> Result<i64, sqlx::Error> {
    let (upto, rows): (Option<i64>, i64) = sqlx::query_as(upto_sql)
        .bind(mark)
        .bind(limit)
        .fetch_one(&mut *tx)
        .await?;
    step.rows += u64::try_from(rows).unwrap_or(0);
    step.more |= limit >= 0 && rows >= limit;
    let Some(upto) = upto else {
        return Ok(mark);
    };
    sqlx::query(apply_sql)
        .bind(mark)
        .bind(upto)
        .execute(&mut *tx)
        .await?;
    Ok(upto)
}

/// The tickets with a search row matching an FTS5 query, up to the `MATCH`
/// (the caller binds the query after it): a message's ticket (internal notes
/// only if `with_notes`), or a subject's. Runs on the index's pool.
pub(super) fn match_tickets_sql(with_notes: bool) -> &'static str {
    if with_notes {
        MATCH_TICKETS_SQL
    } else {
        MATCH_TICKETS_NO_NOTES_SQL
    }
}

/// See [`match_tickets_sql`]. One MATCH; each hit is one primary-key lookup.
pub(super) const MATCH_TICKETS_SQL: &str = "SELECT COALESCE( \
     (SELECT m.ticket_id FROM messages m WHERE m.pos = s.rowid), \
     (SELECT t.id FROM tickets t WHERE t.number = -s.rowid)) \
     FROM search.ticket_search s WHERE s.ticket_search MATCH ";

const MATCH_TICKETS_NO_NOTES_SQL: &str = "SELECT COALESCE( \
     (SELECT m.ticket_id FROM messages m WHERE m.pos = s.rowid AND m.kind <> 'internal_note'), \
     (SELECT t.id FROM tickets t WHERE t.number = -s.rowid)) \
     FROM search.ticket_search s WHERE s.ticket_search MATCH ";

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
