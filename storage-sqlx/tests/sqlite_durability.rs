//! Durability: acknowledged writes are committed (visible to other stores and
//! surviving `kill -9`), the checkpoint task bounds the WAL, and dropping the
//! store stops its background tasks.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashSet;
use std::sync::Arc;

use neurochat_core::domain::{MessageId, TicketId, UserId};
use neurochat_core::ports::{MessageStore, UserStore};
use neurochat_storage_sqlx::SqliteStore;

use support::*;

/// An answer comes only after the commit: another store on the same file
/// (its own pool and connections) sees every acknowledged message at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_messages_are_visible_to_another_store_on_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neurochat.db");
    let writer = Arc::new(SqliteStore::open(&path).await.unwrap());
    let reader = Arc::new(SqliteStore::open(&path).await.unwrap());
    let u = fresh_user();
    writer.insert_user(&u).await.unwrap();
    let t = open_ticket(&writer, u.id).await;
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (writer, reader) = (writer.clone(), reader.clone());
            tokio::spawn(async move {
                let sent = message(t.id, Some(u.id), None);
                let seq = writer.insert_message(&sent).await.unwrap().message().seq;
                let seen = reader
                    .list_messages_after(t.id, seq - 1, 1, true)
                    .await
                    .unwrap();
                assert_eq!(seen, vec![sent.with_seq(seq)], "acknowledged, so committed");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

const KILL_TEST_DB: &str = "NEUROCHAT_SQLITE_KILL_TEST_DB";

/// Not a test on its own: the child process of
/// `acknowledged_messages_survive_kill_9` (does nothing unless started by
/// it). Writes messages from 16 concurrent callers forever, printing each
/// acknowledged message id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_child_process() {
    let Ok(path) = std::env::var(KILL_TEST_DB) else {
        return;
    };
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let (u, t): (String, String) = sqlx::query_as("SELECT customer_id, id FROM tickets LIMIT 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (u, t) = (UserId(u.parse().unwrap()), TicketId(t.parse().unwrap()));
    for _ in 0..16 {
        let store = store.clone();
        tokio::spawn(async move {
            loop {
                let m = message(t, Some(u), None);
                store.insert_message(&m).await.unwrap();
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {}", m.id.0).unwrap();
                out.flush().unwrap();
            }
        });
    }
    // Until the parent kills the process.
    std::future::pending::<()>().await;
}

/// Process-crash safety (WAL, `synchronous = NORMAL`): a child process
/// writing messages is killed with SIGKILL; every message it had been
/// answered for is in the database afterwards.
#[test]
fn acknowledged_messages_survive_kill_9() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neurochat.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        let u = fresh_user();
        store.insert_user(&u).await.unwrap();
        open_ticket(&store, u.id).await;
    });
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill_9_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_TEST_DB, &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        if let Some(id) = line.unwrap().strip_prefix("ACK ") {
            acked.push(id.to_owned());
            if acked.len() == 2_000 {
                break;
            }
        }
    }
    // SIGKILL on Unix: no destructor, no checkpoint, no orderly close.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(acked.len(), 2_000, "the child stopped writing early");
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.unwrap();
        let stored: HashSet<String> = sqlx::query_scalar("SELECT id FROM messages")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
        let lost: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(lost.is_empty(), "{} acknowledged messages lost", lost.len());
    });
}

/// Commits never checkpoint (`wal_autocheckpoint = 0`); the checkpoint task
/// moves the pages into the database file and keeps the WAL bounded. The
/// writes below go on without a pause (one transaction per message of a
/// 56 KiB body that the search index has no word of, about 0.1 MiB of WAL
/// each), so the WAL can only start over through a restart under the writer
/// turn: it must happen while they go on (the WAL header's salt changes),
/// with the file below the truncation bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_task_keeps_the_wal_bounded() {
    use neurochat_storage_sqlx::sqlite::{RESTART_WAL_BYTES, TRUNCATE_WAL_BYTES};
    let (dir, store) = temp_store().await;
    let db = dir.path().join("neurochat.db");
    let wal = dir.path().join("neurochat.db-wal");
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(autocheckpoint, 0);
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t = open_ticket(&store, u.id).await;
    let db_before = size(&db);
    let first_salt = salt(&wal);
    let mut largest = 0;
    let mut big = message(t.id, Some(u.id), None);
    big.body = ".".repeat(56 << 10);
    let mut restarted = false;
    // Up to three times the restart point (about 0.1 MiB of WAL a message).
    for i in 0..(RESTART_WAL_BYTES * 3 / (100 << 10)) {
        big.id = MessageId(uuid::Uuid::now_v7());
        store.insert_message(&big).await.unwrap();
        largest = largest.max(size(&wal));
        if i % 64 == 0 && salt(&wal) != first_salt {
            restarted = true;
            break;
        }
    }
    assert!(
        restarted,
        "the WAL never started over while the writes went on ({largest} bytes)"
    );
    let counts = store.tasks().checkpoints();
    assert!(counts.restarts >= 1, "{counts:?}");
    assert!(
        counts.database_syncs >= 1,
        "the database file is synced off the writer turn before a restart's last pass: {counts:?}"
    );
    assert!(
        largest <= TRUNCATE_WAL_BYTES + (1 << 20),
        "WAL reached {largest} bytes"
    );
    // The interval pass copies the rest; the next commit starts the WAL over
    // (from the top of the file, which is cut back if it grew past twice
    // the restart point).
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    store
        .insert_message(&message(t.id, Some(u.id), None))
        .await
        .unwrap();
    let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(
        (1..100).contains(&frames),
        "the WAL holds the last commit only: {frames} frames"
    );
    assert!(
        size(&wal) <= 2 * RESTART_WAL_BYTES,
        "WAL {} bytes",
        size(&wal)
    );
    assert!(
        size(&db) > db_before + (256 << 10),
        "checkpoints moved the pages into the database file ({db_before} -> {})",
        size(&db)
    );
}

/// The WAL header's first salt, which SQLite changes on every restart of
/// the WAL (`None` before the file has a header).
fn salt(wal: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let mut header = [0u8; 20];
    std::fs::File::open(wal)
        .and_then(|mut f| f.read_exact(&mut header))
        .ok()
        .map(|()| header[16..].to_vec())
}

/// Waits up to `secs` seconds for the checkpoint task's restarts ahead to
/// reach `at_least`; the count then.
async fn restarts_ahead(
    tasks: &neurochat_storage_sqlx::sqlite::StoreTasks,
    at_least: u64,
    secs: u64,
) -> u64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let n = tasks.checkpoints().restarts_ahead;
        if n >= at_least || std::time::Instant::now() > deadline {
            return n;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A WAL whose every frame was copied starts over at the next commit, which
/// then syncs the new WAL header first. A quiet store starts it over itself,
/// so the next message only appends; and it does so once per quiet spell,
/// not every second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_store_starts_the_wal_over_ahead_of_the_next_commit() {
    let (dir, store) = temp_store().await;
    let wal = dir.path().join("neurochat.db-wal");
    let tasks = store.tasks();
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t = open_ticket(&store, u.id).await;
    store
        .insert_message(&message(t.id, Some(u.id), None))
        .await
        .unwrap();
    // The interval pass (every second) copies the WAL; the task starts it over.
    let ahead = restarts_ahead(&tasks, 1, 5).await;
    assert!(ahead >= 1, "the quiet store never started its WAL over");
    let started_over = salt(&wal);
    assert!(started_over.is_some());
    // Quiet: no pass, no other restart (three interval periods).
    tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
    assert_eq!(
        tasks.checkpoints().restarts_ahead,
        ahead,
        "nothing to do while quiet"
    );
    assert_eq!(salt(&wal), started_over);
    // The next message appends to the WAL as it is.
    store
        .insert_message(&message(t.id, Some(u.id), None))
        .await
        .unwrap();
    assert_eq!(
        salt(&wal),
        started_over,
        "the commit did not start the WAL over"
    );
    // Once it is copied, the task starts the WAL over again.
    assert_eq!(restarts_ahead(&tasks, ahead + 1, 5).await, ahead + 1);
    assert_ne!(salt(&wal), started_over);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_store_stops_its_background_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("neurochat.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let tasks = store.tasks();
    assert_eq!(tasks.running(), 3, "writer, checkpoint task and indexer");
    let u = fresh_user();
    store.insert_user(&u).await.unwrap();
    let t = open_ticket(&store, u.id).await;
    let clone = store.clone();
    let sent = message(t.id, Some(u.id), None);
    clone.insert_message(&sent).await.unwrap();
    drop(store);
    assert_eq!(tasks.running(), 3, "a clone keeps the store open");
    drop(clone);
    tokio::time::timeout(std::time::Duration::from_secs(10), tasks.stopped())
        .await
        .expect("the tasks end after the last handle is dropped");
    assert_eq!(tasks.running(), 0);
    assert_eq!(tasks.group_commits().calls, 2);
    // The file opens again with everything in it.
    let store = SqliteStore::open(&path).await.unwrap();
    let stored = store.list_messages_after(t.id, 0, 10, true).await.unwrap();
    assert_eq!(stored, vec![stored[0].clone(), sent.with_seq(2)]);

    let memory = SqliteStore::open_in_memory().await.unwrap();
    let tasks = memory.tasks();
    assert_eq!(tasks.running(), 2, "no WAL, no checkpoint task");
    drop(memory);
    tokio::time::timeout(std::time::Duration::from_secs(10), tasks.stopped())
        .await
        .unwrap();
}
