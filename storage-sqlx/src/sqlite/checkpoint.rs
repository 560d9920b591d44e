//! WAL checkpoints off the commit path.
//!
//! The connections [`SqliteStore::open`](super::SqliteStore::open) makes
//! never checkpoint on commit (`wal_autocheckpoint = 0`); this task does,
//! beside the writers, on a pooled connection of its own. A checkpoint only
//! copies committed pages from the WAL into the database file; no commit
//! waits for one, and what is committed is safe in the WAL meanwhile.
//!
//! - **Passes.** A `PASSIVE` checkpoint whenever about
//!   [`CHECKPOINT_WAL_BYTES`] were committed to the WAL since the last one,
//!   and every [`CHECKPOINT_INTERVAL`] anyway. It copies what it can without
//!   waiting for (or holding back) anyone. The WAL grows by appending until
//!   SQLite starts it over, which it only does once every frame in it has
//!   been copied — something a pass running beside a busy writer never sees:
//!   the writer commits more while it copies.
//! - **Restarts.** So once the WAL holds more than [`RESTART_WAL_BYTES`],
//!   more passes follow, each copying what was committed during the one
//!   before (so they get shorter), and then a last one holding the store's
//!   writer turn (as every write transaction of the store does) — short,
//!   and after it every frame is copied: the next commit starts the WAL over
//!   from the top (overwriting the file; `journal_size_limit` cuts a file
//!   that grew past twice [`RESTART_WAL_BYTES`] back to that).
//! - **Restarts ahead.** A WAL whose every frame has been copied starts over
//!   at the next commit, and that commit first syncs the new WAL header:
//!   an `fsync` in the latency of the first message after every quiet
//!   second. So when an interval pass (less than a pass's worth committed
//!   in the interval) copied everything while no group commit came in, the
//!   task starts the WAL over itself (it bumps a counter of its own, under
//!   the writer turn and the search indexer's), and the next message only
//!   appends. Until another connection commits (`PRAGMA data_version`), the
//!   interval pass is then skipped: it would copy that write and leave the
//!   WAL to be started over by the next commit again.
//! - **The bound.** Should the WAL file still outgrow [`TRUNCATE_WAL_BYTES`]
//!   (the disk is slower than the writes, readers holding old snapshots kept
//!   the passes from finishing, or another process writes), a `TRUNCATE`
//!   checkpoint holds the writers back, waits for a running pass and (up to
//!   the busy timeout) for readers to move on, copies everything and empties
//!   the file. The group-commit writer checks after each of its commits and
//!   runs it itself, before its next batch — the WAL exceeds the bound by
//!   one transaction at most; this task checks for the store's other writes.
//!
//! How many bytes a commit adds to the WAL depends on how many pages it
//! changes; the task learns the average per group commit from what its
//! passes report (frames in the WAL) and the writer's commit count.
//!
//! The task ends when the store's writer ends (after the last handle of the
//! store was dropped).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

use super::{StoreTasks, TaskGuard, low_priority};

/// About this much committed to the WAL since the last checkpoint starts
/// the next one. Small, so each pass has little to copy and its two
/// `fsync`s little to flush: the ext4 journal commits an `fsync` starts
/// held the writer's own WAL writes in uninterruptible sleep for up to a
/// millisecond or two (seen in the scheduler trace of the relay's latency
/// phase), the longer the more a pass had written. p99 at 5,000 msgs/s,
/// three runs each: 4 MiB 1.9-2.9 ms, 1 MiB 1.5-2.4 ms, 16 MiB 3.0-4.3 ms.
pub const CHECKPOINT_WAL_BYTES: u64 = 1 << 20;

/// Past this much in the WAL, a checkpoint finishes under the writer turn so
/// that the WAL starts over. Each such restart holds the writes back for a
/// few milliseconds, so it is made rare: at 5,000 relayed messages/s (about
/// 30 KiB of WAL each) 32 MiB meant four restarts a second and a p99 of
/// 3.6-6.5 ms; 128 MiB means about one.
pub const RESTART_WAL_BYTES: u64 = 128 << 20;

/// The WAL file size past which the checkpoint waits for readers and empties
/// the file (`TRUNCATE`), holding the writers back meanwhile.
pub const TRUNCATE_WAL_BYTES: u64 = 4 * RESTART_WAL_BYTES;

/// A restart takes the writer turn once the writers commit less than this
/// during a pass: the pass under the turn has no more than that to copy.
const CATCH_UP_BYTES: u64 = 256 << 10;

/// How often a checkpoint runs whatever was committed.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// A frame of the WAL: a 24-byte header and a page. SQLite's default page
/// size; the task reads the database's own on start.
const DEFAULT_PAGE_SIZE: u64 = 4096;
const FRAME_HEADER: u64 = 24;

/// Held while a checkpoint of the store runs: SQLite runs one at a time and
/// refuses a second one at once (`busy`) instead of waiting, so the
/// writer's emergency `TRUNCATE` queues here behind a pass.
#[derive(Debug, Default)]
pub(super) struct Checkpoints {
    running: Mutex<()>,
}

/// The WAL frames one group commit adds, learned from the passes.
struct Pace {
    /// Commit count and frames in the WAL at the start of the last pass.
    commits: u64,
    frames: u64,
    frames_per_commit: f64,
}

impl Pace {
    /// Bytes committed to the WAL since the last pass, as far as known.
    fn pending(&self, commits: u64, frame: u64) -> u64 {
        self.bytes(commits.saturating_sub(self.commits), frame)
    }

    /// The bytes `commits` group commits add to the WAL, as far as known.
    fn bytes(&self, commits: u64, frame: u64) -> u64 {
        (commits as f64 * self.frames_per_commit) as u64 * frame
    }

    /// Learns from a pass that found `frames` in the WAL after `commits`.
    fn learn(&mut self, commits: u64, frames: u64) {
        // Fewer frames than last time: the WAL started over in between, and
        // its frames belong to an unknown share of the commits.
        if frames > self.frames && commits > self.commits {
            let now = (frames - self.frames) as f64 / (commits - self.commits) as f64;
            self.frames_per_commit = (self.frames_per_commit + now) / 2.0;
        }
        self.commits = commits;
        self.frames = frames;
    }
}

/// The checkpoint task of the store whose WAL file is `wal`. `nudges` come
/// after group commits (capacity 1: dropped while one is pending), `tasks`
/// counts them; the task ends when the nudges' sender, the writer, is gone.
pub(super) async fn run(
    pool: SqlitePool,
    turns: Turns,
    mut wal: WalSize,
    shared: Arc<Checkpoints>,
    mut nudges: mpsc::Receiver<()>,
    tasks: StoreTasks,
    _running: TaskGuard,
) {
    let page: u64 = sqlx::query_scalar::<_, i64>("PRAGMA page_size")
        .fetch_one(&pool)
        .await
        .ok()
        .and_then(|p| u64::try_from(p).ok())
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let frame = page + FRAME_HEADER;
    let mut pace = Pace {
        commits: 0,
        frames: 0,
        // A guess until the first passes tell: a small commit changes a
        // handful of pages.
        frames_per_commit: 16.0,
    };
    let mut bg = Background::open(&pool, wal.database().to_owned()).await;
    let mut last = Instant::now();
    // The task tried to start the WAL over ahead of the next commit, and
    // nothing was committed since.
    let mut settled = false;
    loop {
        // A nudge, or the interval is over; `None`: the writer has ended.
        let woke = tokio::time::timeout_at(last + CHECKPOINT_INTERVAL, nudges.recv()).await;
        if let Ok(None) = woke {
            break;
        }
        let committed = tasks.transactions();
        let by_size = pace.pending(committed, frame) >= CHECKPOINT_WAL_BYTES;
        if wal.over_truncate_bound() {
            // The other write paths do not wake the task; the writer checks
            // after its own commits.
            let _turn = turns.writer.lock().await;
            match pool.acquire().await {
                Ok(mut conn) => truncate(&mut conn, &shared).await,
                Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
            }
            pace.learn(committed, 0);
        } else if by_size || last.elapsed() >= CHECKPOINT_INTERVAL {
            // Read before every pass, so that a commit during one counts as
            // a change at the next check.
            let changed = bg.committed_since_last_look().await;
            if settled && !changed && !by_size {
                last = Instant::now();
                continue;
            }
            settled = false;
            if let Some(Pass { frames, copied }) = bg.pass(&pool, &shared).await {
                pace.learn(committed, frames);
                if frames * frame > RESTART_WAL_BYTES {
                    restart(&mut bg, &pool, &turns, &shared, &tasks, &pace, frame).await;
                    // The next commit starts the WAL over.
                    pace.learn(tasks.transactions(), 0);
                } else if !by_size
                    && frames > 0
                    && copied == frames
                    && tasks.transactions() == committed
                {
                    // Only in a quiet spell (less than a pass's worth of
                    // commits in the interval): the background connection's
                    // thread has a low priority, and holds the writer turn.
                    settled = true;
                    if bg.restart_ahead(&turns, &tasks, committed, &wal).await {
                        tasks.restarted_ahead();
                    }
                    pace.learn(tasks.transactions(), 0);
                }
            }
        } else {
            continue;
        }
        last = Instant::now();
    }
}

/// How often the WAL file's size is read against [`TRUNCATE_WAL_BYTES`].
///
/// Not per commit: since Linux 6.13 a `stat` makes the next write to the
/// file take a fine-grained modification time (multigrain timestamps), so
/// a `stat` per commit meant an inode update (an ext4 journal handle) per
/// commit where the coarse clock allows one per tick. At 5,000 messages a
/// second that was ~2,500 `stat`s a second; the inode updates took 2% of
/// the writer thread's time, 0.7% now. The bound is a safety net far above
/// the WAL's usual size, so a tenth of a second's delay costs nothing.
const WAL_SIZE_EVERY: std::time::Duration = Duration::from_millis(100);

/// The WAL file against [`TRUNCATE_WAL_BYTES`], read at most every
/// [`WAL_SIZE_EVERY`].
pub(super) struct WalSize {
    wal: PathBuf,
    database: PathBuf,
    read: Option<std::time::Instant>,
}

impl WalSize {
    pub(super) fn new(wal: PathBuf) -> WalSize {
        let name = wal.as_os_str().to_string_lossy();
        let database = PathBuf::from(name.strip_suffix("-wal").unwrap_or(&name));
        WalSize {
            wal,
            database,
            read: None,
        }
    }

    /// The database file the WAL belongs to (SQLite names the WAL
    /// `<database>-wal`).
    fn database(&self) -> &Path {
        &self.database
    }

    /// The salts of the WAL header, which SQLite changes whenever it starts
    /// the WAL over; `None` without a header. (SQLite takes no locks on the
    /// WAL file itself, so reading it with a descriptor of our own is safe.)
    fn salts(&self) -> Option<[u8; 8]> {
        use std::io::Read as _;
        let mut header = [0u8; 24];
        std::fs::File::open(&self.wal)
            .and_then(|mut file| file.read_exact(&mut header))
            .ok()?;
        header[16..24].try_into().ok()
    }

    /// Whether the file has outgrown [`TRUNCATE_WAL_BYTES`]; `false`
    /// without a look if it was read less than [`WAL_SIZE_EVERY`] ago.
    pub(super) fn over_truncate_bound(&mut self) -> bool {
        if self.read.is_some_and(|t| t.elapsed() < WAL_SIZE_EVERY) {
            return false;
        }
        self.read = Some(std::time::Instant::now());
        std::fs::metadata(&self.wal).map_or(0, |m| m.len()) > TRUNCATE_WAL_BYTES
    }
}

/// Copies everything in the WAL so that the next commit starts it over:
/// more passes while the writers committed more than [`CATCH_UP_BYTES`]
/// (by `pace`'s estimate) during the one before — each copies what was
/// committed during the one before, so they get shorter — then a last one
/// holding the writer turn, short as well.
///
/// After each of the passes before the last, the database file is written
/// to disk ([`Background::sync_database`]), off the writer turn. SQLite
/// syncs the database file only at the end of a pass that copied the whole
/// WAL, which beside a busy writer is only the last one: its `fsync` then
/// wrote every page the passes before it had copied and the kernel had not
/// written back yet while the writers waited (seen in the relay load test:
/// ~700 scattered writes, 7.5 ms, of a restart about every second at 5,000
/// messages/s). Now it writes what the last pass copied.
///
/// The last pass runs on a pooled connection at normal priority: the writers
/// wait for it.
///
/// The whole restart holds the search indexer's turn: the indexer reads the
/// chat database in its transactions, and a pass cannot copy frames past
/// the snapshot of a reader still using them. Under saturation the indexer
/// (low priority) is starved mid-transaction for long stretches; without
/// this its snapshots kept every restart from completing, and the WAL grew
/// to the `TRUNCATE` bound (~500 MiB), whose checkpoint held the writers
/// back for tens of milliseconds.
async fn restart(
    bg: &mut Background,
    pool: &SqlitePool,
    turns: &Turns,
    shared: &Checkpoints,
    tasks: &StoreTasks,
    pace: &Pace,
    frame: u64,
) {
    let _indexing = turns.indexing.lock().await;
    for _ in 0..4 {
        let before = tasks.transactions();
        if bg.pass(pool, shared).await.is_none() {
            return;
        }
        if bg.sync_database().await {
            tasks.synced_database();
        }
        if pace.bytes(tasks.transactions() - before, frame) <= CATCH_UP_BYTES {
            break;
        }
    }
    let _turn = turns.writer.lock().await;
    pass(pool, shared).await;
    tasks.restarted();
}

/// The turns the checkpoint task takes: the store's writer turn (for a
/// restart's last pass and a `TRUNCATE`) and the search indexer's (for a
/// whole restart).
pub(super) struct Turns {
    pub(super) writer: Arc<Mutex<()>>,
    pub(super) indexing: Arc<Mutex<()>>,
}

/// The connection the background passes run on, when it could be opened: its
/// SQLite thread runs at a lower CPU priority (see [`low_priority`]), so on a
/// busy core a pass copies pages when the writers and the gateway have
/// nothing to do, rather than taking turns with them (a pass of a few
/// milliseconds otherwise lands in the latency of every message committed
/// meanwhile). Also where the database file is synced off the writer turn
/// ([`Background::sync_database`]).
struct Background {
    conn: Option<SqliteConnection>,
    database: PathBuf,
    /// `PRAGMA data_version` at the last look: it changes when another
    /// connection commits.
    data_version: Option<i64>,
}

impl Background {
    /// Without a connection (passes run on the pool) if it cannot be
    /// opened; `database` is the store's database file.
    async fn open(pool: &SqlitePool, database: PathBuf) -> Background {
        let conn = match low_priority::connect((*pool.connect_options()).clone()).await {
            Ok(conn) => Some(conn),
            Err(error) => {
                tracing::debug!(%error, "checkpoint passes run on the pool");
                None
            }
        };
        Background {
            conn,
            database,
            data_version: None,
        }
    }

    /// Whether another connection committed since the last call (`true`
    /// on the first call, without the connection, or on an error: then a
    /// pass runs, as before this check).
    async fn committed_since_last_look(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return true;
        };
        let now: Option<i64> = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(conn)
            .await
            .ok();
        let before = std::mem::replace(&mut self.data_version, now);
        now.is_none() || before != now
    }

    /// Starts the fully copied WAL over now, so that the next commit need
    /// not (see the module's *Restarts ahead*); whether it did. Runs on the
    /// background connection, so that its own write does not count as a
    /// change at [`Background::committed_since_last_look`], under the
    /// writer turn, and under the search indexer's, whose snapshots would
    /// keep SQLite from starting the WAL over (see [`restart`]); not if a
    /// group commit (`committed` counts them) came in meanwhile.
    async fn restart_ahead(
        &mut self,
        turns: &Turns,
        tasks: &StoreTasks,
        committed: u64,
        wal: &WalSize,
    ) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        let _indexing = turns.indexing.lock().await;
        let _turn = turns.writer.lock().await;
        if tasks.transactions() != committed {
            return false;
        }
        let before = wal.salts();
        if let Err(error) = sqlx::query(RESTART_AHEAD_SQL).execute(conn).await {
            tracing::debug!(%error, "WAL not started over ahead of the next commit");
            return false;
        }
        before.is_some() && wal.salts() != before
    }

    /// One `PASSIVE` pass (see [`pass`]) on the background connection, or
    /// on the pool once that connection failed.
    async fn pass(&mut self, pool: &SqlitePool, shared: &Checkpoints) -> Option<Pass> {
        let Some(conn) = self.conn.as_mut() else {
            return pass(pool, shared).await;
        };
        let _running = shared.running.lock().await;
        let counts: Result<(i64, i64, i64), _> = sqlx::query_as(PASSIVE_SQL).fetch_one(conn).await;
        match counts {
            Ok((0, frames, copied)) => Pass::of(frames, copied),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(%error, "WAL checkpoint failed; later passes use the pool");
                self.conn = None;
                None
            }
        }
    }

    /// Writes the pages the passes copied into the database file out to
    /// disk, on a blocking thread, so that the next pass to sync the file
    /// (the last of a restart, under the writer turn) finds little left to
    /// write. Whether it did so; a failure is only logged, as the pass that
    /// completes a checkpoint syncs the file anyway.
    async fn sync_database(&self) -> bool {
        let database = self.database.clone();
        match tokio::task::spawn_blocking(move || sync_database_file(&database)).await {
            Ok(Ok(())) => true,
            Ok(Err(error)) => {
                tracing::debug!(%error, "database file not synced before a restart");
                false
            }
            Err(error) => {
                tracing::debug!(%error, "database file sync did not run");
                false
            }
        }
    }
}

const PASSIVE_SQL: &str = "PRAGMA wal_checkpoint(PASSIVE)";

/// `xSync` of `database` through a connection of its own: SQLite's own
/// file, so the file's locks stay SQLite's business. (Closing a descriptor
/// the process opened itself would drop every POSIX lock the process holds
/// on the file, SQLite's included.) An `fsync` writes the file's dirty pages
/// whichever descriptor wrote them.
#[allow(unsafe_code)]
fn sync_database_file(database: &Path) -> Result<(), String> {
    use rusqlite::{OpenFlags, ffi};
    let conn = rusqlite::Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: `conn` is open and owned here; FILE_POINTER writes the
    // connection's `sqlite3_file` pointer (valid while `conn` is open) into
    // `file`, a pointer-sized out-parameter as the opcode requires.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut file).cast(),
        )
    };
    if rc != ffi::SQLITE_OK || file.is_null() {
        return Err(format!("no file pointer (SQLite code {rc})"));
    }
    // SAFETY: `file` is the open main database file of `conn`, which lives
    // until the end of this function; its methods are SQLite's VFS's.
    let sync = unsafe { (*file).pMethods.as_ref() }.and_then(|methods| methods.xSync);
    let Some(sync) = sync else {
        return Err("the file has no sync method".to_owned());
    };
    // SAFETY: as above; `xSync` takes the file and the sync flags.
    let rc = unsafe { sync(file, ffi::SQLITE_SYNC_NORMAL) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("sync failed (SQLite code {rc})"))
    }
}

/// One `PASSIVE` checkpoint, or `None` if it did not run (another
/// connection was checkpointing, or an error, which is logged).
async fn pass(pool: &SqlitePool, shared: &Checkpoints) -> Option<Pass> {
    let _running = shared.running.lock().await;
    let (busy, frames, copied) = checkpoint(pool, PASSIVE_SQL).await?;
    if busy != 0 {
        return None;
    }
    Pass::of(frames, copied)
}

/// What a `PASSIVE` pass reported: the frames in the WAL, and how many of
/// them are now copied into the database file.
#[derive(Debug, Clone, Copy)]
struct Pass {
    frames: u64,
    copied: u64,
}

impl Pass {
    fn of(frames: i64, copied: i64) -> Option<Pass> {
        Some(Pass {
            frames: u64::try_from(frames).ok()?,
            copied: u64::try_from(copied).ok()?,
        })
    }
}

/// The write that starts a fully copied WAL over (and syncs its new header):
/// it counts the restarts ahead in a counter of their own. It must change a
/// value: SQLite leaves a page clean when a row is rewritten as it was.
const RESTART_AHEAD_SQL: &str = "INSERT INTO counters (name, value) VALUES ('wal_restarts_ahead', 1) \
     ON CONFLICT (name) DO UPDATE SET value = value + 1";

/// A `TRUNCATE` checkpoint on `conn`, whose caller holds the writer turn:
/// waits for a pass of the checkpoint task to end, and (up to the busy
/// timeout) for readers of old snapshots; copies the whole WAL and empties
/// the file.
pub(super) async fn truncate(conn: &mut SqliteConnection, shared: &Checkpoints) {
    let _running = shared.running.lock().await;
    let counts: Result<(i64, i64, i64), _> = sqlx::query_as(TRUNCATE_SQL).fetch_one(conn).await;
    match counts {
        Ok((0, _, _)) => {}
        Ok((_, frames, copied)) => {
            tracing::warn!(frames, copied, "WAL not truncated: readers kept it busy");
        }
        Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
    }
}

const TRUNCATE_SQL: &str = "PRAGMA wal_checkpoint(TRUNCATE)";

/// `PRAGMA wal_checkpoint(mode)`: `(busy, frames in the WAL, frames copied)`.
async fn checkpoint(pool: &SqlitePool, sql: &'static str) -> Option<(i64, i64, i64)> {
    match sqlx::query_as(sql).fetch_one(pool).await {
        Ok(counts) => Some(counts),
        Err(error) => {
            tracing::warn!(%error, sql, "WAL checkpoint failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_size_is_read_at_most_every_tenth_of_a_second() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let wal = dir.path().join("db-wal");
        let mut size = WalSize::new(wal.clone());
        assert!(!size.over_truncate_bound(), "no file yet");
        // Sparse: no disk is used.
        let file = std::fs::File::create(&wal).expect("WAL file");
        file.set_len(TRUNCATE_WAL_BYTES + 1).expect("sparse WAL");
        assert!(
            !size.over_truncate_bound(),
            "read again right after the last read"
        );
        std::thread::sleep(WAL_SIZE_EVERY + Duration::from_millis(10));
        assert!(size.over_truncate_bound(), "read once the interval is over");
        assert!(!size.over_truncate_bound(), "and not again at once");
    }

    #[test]
    fn the_database_file_is_synced_through_sqlite_and_a_missing_one_is_left_missing() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("db");
        let conn = rusqlite::Connection::open(&path).expect("database");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1); \
             PRAGMA wal_checkpoint(PASSIVE);",
        )
        .expect("a checkpointed write");
        assert_eq!(sync_database_file(&path), Ok(()));
        // The writer's connection goes on as before.
        conn.execute("INSERT INTO t VALUES (2)", [])
            .expect("a write after the sync");
        let missing = dir.path().join("missing");
        assert!(sync_database_file(&missing).is_err());
        assert!(!missing.exists(), "a sync creates no file");
    }

    #[test]
    fn the_database_is_the_wal_without_its_suffix() {
        let size = WalSize::new(PathBuf::from("/data/neurochat.db-wal"));
        assert_eq!(size.database(), Path::new("/data/neurochat.db"));
    }

    #[test]
    fn pace_learns_frames_per_commit_and_skips_restarts() {
        let mut pace = Pace {
            commits: 0,
            frames: 0,
            frames_per_commit: 16.0,
        };
        assert_eq!(pace.pending(10, 100), 16_000);
        pace.learn(10, 400);
        assert_eq!(pace.frames_per_commit, 28.0);
        assert_eq!(pace.pending(10, 100), 0);
        pace.learn(20, 600);
        assert_eq!(pace.frames_per_commit, 24.0);
        // The WAL started over: nothing learned.
        pace.learn(30, 50);
        assert_eq!(pace.frames_per_commit, 24.0);
        assert_eq!(pace.pending(40, 100), 24_000);
    }
}
