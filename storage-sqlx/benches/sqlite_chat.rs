//! Chat on SQLite: how fast messages are stored, and how fast a big database
//! answers the ticket listings agents use all day.
//!
//! (a) `insert_message` throughput (`Throughput::Elements`): one writer
//!     appending to one ticket; 64 and 512 concurrent writers each on its
//!     own ticket; 64 and 512 concurrent writers on one ticket; and
//!     `insert_ticket_with_first_message` from 64 concurrent callers. The
//!     store's group-commit writer takes whatever is queued into one `BEGIN
//!     IMMEDIATE` transaction (duplicate checks, ticket effects, message and
//!     search rows for the whole batch) and answers every caller after the
//!     commit; a lone writer still gets a transaction per message. Messages
//!     on many tickets change more pages per message (each ticket's rows and
//!     index entries sit together) than messages on one ticket.
//! (b) On 100 000 tickets with 1 000 000 messages (and their full-text rows):
//!     a text search matching a few hundred tickets (one word, and two word
//!     prefixes), a text search on a common word, and an agent's open queue
//!     (status in new/in_progress + assignee, most recently updated first),
//!     50 per page. Criterion reports mean and median; the median and p99 of
//!     500 more runs of each are printed too.
//! (c) The database size (main file + WAL) is printed.
//!
//! The big database is built once (through SQL, in a few large transactions)
//! into `target/tmp/sqlite_chat_bench/chat.db` and reused while its row
//! counts and generator version match; delete the file to rebuild it.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurochat_core::domain::{
    AssigneeFilter, Availability, MessageId, MessageKind, NewMessage, Priority, Role, Ticket,
    TicketFilter, TicketId, TicketStatus, User, UserId,
};
use neurochat_core::ports::{MessageStore, TicketStore, UserStore, truncate_millis};
use neurochat_storage_sqlx::SqliteStore;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};
use time::OffsetDateTime;
use uuid::Uuid;

const TICKETS: i64 = 100_000;
const MESSAGES_PER_TICKET: i64 = 10;
const MESSAGES: i64 = TICKETS * MESSAGES_PER_TICKET;
const CUSTOMERS: usize = 20_000;
const AGENTS: usize = 50;
const VOCABULARY: usize = 3_000;
/// Bump when the generated data changes, so old files are rebuilt.
const DATA_VERSION: i64 = 2;
/// Runs for the printed median and p99.
const RUNS: usize = 500;

/// xorshift64*: deterministic data without another dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Pseudo-words from syllables without `q` and `z`, so the planted search
/// words (`zephyrine`, `quasar`) occur only where planted.
fn vocabulary() -> Vec<String> {
    const CONSONANTS: &[u8] = b"bcdfghklmnprstvw";
    const VOWELS: &[u8] = b"aeiou";
    let syllable = |i: usize| {
        let c = CONSONANTS[i % CONSONANTS.len()] as char;
        let v = VOWELS[(i / CONSONANTS.len()) % VOWELS.len()] as char;
        format!("{c}{v}")
    };
    let n = CONSONANTS.len() * VOWELS.len();
    (0..VOCABULARY)
        .map(|i| {
            let mut w = syllable(i % n) + &syllable(i / n % n);
            if i % 3 == 0 {
                w += &syllable(i * 13 % n);
            }
            w
        })
        .collect()
}

fn sentence(rng: &mut Rng, vocab: &[String], min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let words: Vec<&str> = (0..n)
        .map(|_| vocab[rng.below(vocab.len() as u64) as usize].as_str())
        .collect();
    words.join(" ")
}

fn uuid_at(ms: i64, rng: &mut Rng) -> String {
    let mut bytes = [0u8; 10];
    bytes[..8].copy_from_slice(&rng.next().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next().to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(ms as u64, &bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn bench_user(role: Role, i: usize, now: OffsetDateTime) -> User {
    let email = format!(
        "{}{i}-{}@example.com",
        role.as_str(),
        Uuid::new_v4().simple()
    );
    User {
        id: UserId(Uuid::now_v7()),
        email_normalized: Some(email.clone()),
        email: Some(email),
        display_name: format!("{} {i}", role.as_str()),
        password_hash: None,
        role,
        disabled: false,
        external_id: None,
        verified: true,
        contact_email: None,
        availability: Availability::Online,
        capacity: 10,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

fn new_ticket(customer_id: UserId, now: OffsetDateTime) -> Ticket {
    Ticket {
        id: TicketId(Uuid::now_v7()),
        number: 0,
        subject: "Printer on fire".to_owned(),
        customer_id,
        category_id: None,
        priority: Priority::Normal,
        status: TicketStatus::New,
        assignee_id: None,
        created_at: now,
        updated_at: now,
        first_response_at: None,
        resolved_at: None,
        closed_at: None,
        last_seq: 0,
        awaiting_since: None,
        last_agent_seq: 0,
        last_agent_message_at: None,
        customer_notified_seq: 0,
        escalated_new_at: None,
        escalated_awaiting_since: None,
        version: 1,
    }
}

fn chat_message(ticket_id: TicketId, author: UserId) -> NewMessage {
    NewMessage {
        id: MessageId(Uuid::now_v7()),
        ticket_id,
        author_id: Some(author),
        kind: MessageKind::Customer,
        body: "It is still smoking, the paper tray melted and the office smells".to_owned(),
        client_msg_id: Some(Uuid::new_v4().simple().to_string()),
        created_at: truncate_millis(OffsetDateTime::now_utc()),
    }
}

// ---------------------------------------------------------------- (a) writes

fn writes(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let (store, customer, tickets) = rt.block_on(async {
        let store = Arc::new(
            SqliteStore::open(dir.path().join("writes.db"))
                .await
                .unwrap(),
        );
        let now = truncate_millis(OffsetDateTime::now_utc());
        let customer = bench_user(Role::Customer, 0, now);
        store.insert_user(&customer).await.unwrap();
        let opens: Vec<_> = (0..513)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let t = new_ticket(customer.id, now);
                    let first = chat_message(t.id, customer.id);
                    let opened = store.insert_ticket_with_first_message(&t, &first).await;
                    opened.unwrap().0.id
                })
            })
            .collect();
        let mut tickets = Vec::new();
        for open in opens {
            tickets.push(open.await.unwrap());
        }
        (store, customer.id, tickets)
    });

    let mut group = c.benchmark_group("sqlite_chat_insert_message");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));

    group.throughput(Throughput::Elements(1));
    group.bench_function("1_writer_one_ticket", |b| {
        b.to_async(rt).iter(|| {
            let store = store.clone();
            let m = chat_message(tickets[512], customer);
            async move {
                black_box(store.insert_message(&m).await.unwrap());
            }
        });
    });

    for writers in [64, 512] {
        group.throughput(Throughput::Elements(writers as u64));
        group.bench_function(format!("{writers}_writers_own_tickets"), |b| {
            b.to_async(rt).iter(|| {
                let tasks: Vec<_> = tickets[..writers]
                    .iter()
                    .map(|&t| {
                        let store = store.clone();
                        let m = chat_message(t, customer);
                        tokio::spawn(async move { store.insert_message(&m).await.unwrap() })
                    })
                    .collect();
                async move {
                    for t in tasks {
                        black_box(t.await.unwrap());
                    }
                }
            });
        });

        group.bench_function(format!("{writers}_writers_one_ticket"), |b| {
            b.to_async(rt).iter(|| {
                let tasks: Vec<_> = (0..writers)
                    .map(|_| {
                        let store = store.clone();
                        let m = chat_message(tickets[0], customer);
                        tokio::spawn(async move { store.insert_message(&m).await.unwrap() })
                    })
                    .collect();
                async move {
                    for t in tasks {
                        black_box(t.await.unwrap());
                    }
                }
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("sqlite_chat_open_ticket");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(64));
    group.bench_function("64_writers_new_tickets", |b| {
        b.to_async(rt).iter(|| {
            let now = truncate_millis(OffsetDateTime::now_utc());
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let store = store.clone();
                    let t = new_ticket(customer, now);
                    let first = chat_message(t.id, customer);
                    tokio::spawn(async move {
                        store
                            .insert_ticket_with_first_message(&t, &first)
                            .await
                            .unwrap()
                    })
                })
                .collect();
            async move {
                for t in tasks {
                    black_box(t.await.unwrap());
                }
            }
        });
    });
    group.finish();
    rt.block_on(store.pool().close());
}

// ---------------------------------------------------------------- (b) the big database

fn data_path() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("sqlite_chat_bench")
        .join("chat.db")
}

/// `(tickets, messages, search rows)` if `path` holds a complete data set of
/// this generator version.
async fn existing_counts(path: &Path) -> Option<(i64, i64, i64)> {
    if !path.exists() {
        return None;
    }
    let store = SqliteStore::open(path).await.ok()?;
    let version: Option<i64> =
        sqlx::query_scalar("SELECT value FROM bench_meta WHERE key = 'data_version'")
            .fetch_optional(store.pool())
            .await
            .ok()?;
    store.flush_search_index().await.ok()?;
    // The search pool reads the chat database too, with the index attached.
    let pool = store.search_pool();
    let counts = async {
        let one = |sql: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.ok()
        };
        Some((
            one("SELECT COUNT(*) FROM tickets").await?,
            one("SELECT COUNT(*) FROM messages").await?,
            one("SELECT COUNT(*) FROM search.ticket_search").await?,
        ))
    }
    .await;
    store.pool().close().await;
    (version == Some(DATA_VERSION)).then_some(counts).flatten()
}

struct Agents {
    ids: Vec<String>,
}

/// Builds the data set into `path` (through `<path>.building`, renamed when complete).
async fn build(path: &Path) -> Agents {
    let started = Instant::now();
    let building = path.with_extension("db.building");
    for p in [
        building.clone(),
        building.with_extension("building-wal"),
        building.with_extension("building-shm"),
        path.to_path_buf(),
        path.with_extension("db-wal"),
        path.with_extension("db-shm"),
        path.with_extension("db-search"),
        path.with_extension("db-search-wal"),
        path.with_extension("db-search-shm"),
        building.with_extension("building-search"),
        building.with_extension("building-search-wal"),
        building.with_extension("building-search-shm"),
    ] {
        let _ = std::fs::remove_file(p);
    }
    // The schema, exactly as the store migrates it.
    SqliteStore::open(&building)
        .await
        .unwrap()
        .pool()
        .close()
        .await;
    // Bulk load on one connection without journal or syncs.
    let mut conn = SqliteConnectOptions::new()
        .filename(&building)
        .journal_mode(SqliteJournalMode::Off)
        .synchronous(SqliteSynchronous::Off)
        .foreign_keys(false)
        .pragma("cache_size", "-262144")
        .pragma("temp_store", "memory")
        .connect()
        .await
        .unwrap();

    let vocab = vocabulary();
    let base_ms: i64 = 1_700_000_000_000;
    let mut rng = Rng::new(42);
    let customers: Vec<String> = (0..CUSTOMERS)
        .map(|_| uuid_at(base_ms - 1_000_000, &mut rng))
        .collect();
    let agents: Vec<String> = (0..AGENTS)
        .map(|_| uuid_at(base_ms - 2_000_000, &mut rng))
        .collect();
    let categories: Vec<String> = (0..5)
        .map(|_| uuid_at(base_ms - 3_000_000, &mut rng))
        .collect();

    let mut tx = conn.begin().await.unwrap();
    let users: Vec<(&String, &str, usize)> = customers
        .iter()
        .enumerate()
        .map(|(i, id)| (id, "customer", i))
        .chain(agents.iter().enumerate().map(|(i, id)| (id, "agent", i)))
        .collect();
    for chunk in users.chunks(2_000) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO users (id, email, email_normalized, display_name, display_name_key, \
             password_hash, role, disabled, external_id, verified, contact_email, availability, \
             capacity, created_at, updated_at, version) ",
        );
        q.push_values(chunk, |mut b, (id, role, i)| {
            let email = format!("{role}{i}@example.com");
            b.push_bind((*id).clone())
                .push_bind(email.clone())
                .push_bind(email)
                .push_bind(format!("{role} {i}"))
                .push_bind(format!("{role} {i}"))
                .push_bind(None::<String>)
                .push_bind(*role)
                .push_bind(0_i64)
                .push_bind(None::<String>)
                .push_bind(1_i64)
                .push_bind(None::<String>)
                .push_bind("online")
                .push_bind(10_i64)
                .push_bind(base_ms)
                .push_bind(base_ms)
                .push_bind(1_i64);
        });
        q.build().execute(&mut *tx).await.unwrap();
    }
    for (i, id) in categories.iter().enumerate() {
        sqlx::query(
            "INSERT INTO categories (id, name, name_key, archived, created_at) VALUES (?, ?, ?, 0, ?)",
        )
        .bind(id)
        .bind(format!("Category {i}"))
        .bind(format!("category {i}"))
        .bind(base_ms)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    // Tickets and messages, 1 000 tickets per transaction step.
    type TicketRow = (
        String,           // id
        i64,              // number
        String,           // subject
        String,           // customer_id
        Option<String>,   // category_id
        &'static str,     // priority
        &'static str,     // status
        Option<String>,   // assignee_id
        [Option<i64>; 5], // created, updated, first_response, resolved, closed
        [i64; 3],         // last_seq, last_agent_seq, customer_notified_seq
        [Option<i64>; 2], // awaiting_since, last_agent_message_at
    );
    type MessageRow = (String, String, i64, String, &'static str, String, i64);
    let span_ms = 365 * 24 * 3_600_000 / TICKETS;
    let mut tx = conn.begin().await.unwrap();
    for chunk_start in (0..TICKETS).step_by(1_000) {
        let mut ticket_rows: Vec<TicketRow> = Vec::with_capacity(1_000);
        let mut message_rows: Vec<MessageRow> = Vec::with_capacity(10_000);
        for i in chunk_start..chunk_start + 1_000 {
            let mut r = Rng::new(1_000 + i as u64);
            let created = base_ms + i * span_ms + r.below(60_000) as i64;
            let id = uuid_at(created, &mut r);
            let customer = customers[r.below(CUSTOMERS as u64) as usize].clone();
            let status = match r.below(100) {
                0..10 => "new",
                10..30 => "in_progress",
                30..60 => "resolved",
                _ => "closed",
            };
            let assignee = if status == "new" && r.below(2) == 0 {
                None
            } else {
                Some(agents[r.below(AGENTS as u64) as usize].clone())
            };
            let priority = match r.below(10) {
                0 => "low",
                1..7 => "normal",
                7..9 => "high",
                _ => "urgent",
            };
            let category = (r.below(4) != 0).then(|| categories[r.below(5) as usize].clone());
            let mut at = created;
            let (mut awaiting, mut first_response) = (None, None);
            let (mut last_agent_seq, mut last_agent_at) = (0, None);
            for seq in 1..=MESSAGES_PER_TICKET {
                let planted = seq == 3 && i % 333 == 7 || seq == 5 && i % 500 == 3;
                let kind = if seq == 1 || assignee.is_none() || planted {
                    "customer"
                } else {
                    match r.below(100) {
                        0..5 => "internal_note",
                        5..50 => "agent",
                        _ => "customer",
                    }
                };
                let mut body = sentence(&mut r, &vocab, 6, 14);
                if seq == 3 && i % 333 == 7 {
                    body.push_str(if i % 666 == 7 {
                        " zephyrine quasar"
                    } else {
                        " zephyrine"
                    });
                }
                if seq == 5 && i % 500 == 3 {
                    body.push_str(" quasar");
                }
                let author = match kind {
                    "customer" => customer.clone(),
                    _ => assignee.clone().unwrap(),
                };
                match kind {
                    "customer" => awaiting = awaiting.or(Some(at)),
                    "agent" => {
                        awaiting = None;
                        first_response = first_response.or(Some(at));
                        last_agent_seq = seq;
                        last_agent_at = Some(at);
                    }
                    _ => {}
                }
                message_rows.push((uuid_at(at, &mut r), id.clone(), seq, author, kind, body, at));
                at += 1_000 + r.below(4 * 3_600_000) as i64;
            }
            let last_message_at = message_rows.last().unwrap().6;
            let resolved =
                matches!(status, "resolved" | "closed").then_some(last_message_at + 60_000);
            let closed = (status == "closed").then(|| last_message_at + 7 * 86_400_000);
            let updated = closed.or(resolved).unwrap_or(last_message_at);
            let subject = sentence(&mut r, &vocab, 3, 6);
            ticket_rows.push((
                id,
                i + 1,
                subject,
                customer,
                category,
                priority,
                status,
                assignee,
                [
                    Some(created),
                    Some(updated),
                    first_response,
                    resolved,
                    closed,
                ],
                [MESSAGES_PER_TICKET, last_agent_seq, last_agent_seq],
                [awaiting, last_agent_at],
            ));
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO tickets (id, number, subject, customer_id, category_id, priority, status, \
             assignee_id, created_at, updated_at, first_response_at, resolved_at, closed_at, \
             last_seq, last_agent_seq, customer_notified_seq, awaiting_since, \
             last_agent_message_at, version) ",
        );
        q.push_values(ticket_rows, |mut b, t| {
            b.push_bind(t.0)
                .push_bind(t.1)
                .push_bind(t.2)
                .push_bind(t.3)
                .push_bind(t.4)
                .push_bind(t.5)
                .push_bind(t.6)
                .push_bind(t.7);
            for v in t.8 {
                b.push_bind(v);
            }
            for v in t.9 {
                b.push_bind(v);
            }
            for v in t.10 {
                b.push_bind(v);
            }
            b.push_bind(1_i64);
        });
        q.build().execute(&mut *tx).await.unwrap();
        let mut rows = message_rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<MessageRow> = rows.by_ref().take(2_000).collect();
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO messages (id, ticket_id, seq, author_id, kind, body, client_msg_id, \
                 created_at) ",
            );
            q.push_values(chunk, |mut b, m| {
                b.push_bind(m.0)
                    .push_bind(m.1)
                    .push_bind(m.2)
                    .push_bind(m.3)
                    .push_bind(m.4)
                    .push_bind(m.5)
                    .push_bind(uuid_at(m.6, &mut Rng::new(m.2 as u64)))
                    .push_bind(m.6);
            });
            q.build().execute(&mut *tx).await.unwrap();
        }
        if (chunk_start + 1_000) % 20_000 == 0 {
            tx.commit().await.unwrap();
            tx = conn.begin().await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    println!(
        "sqlite_chat: {TICKETS} tickets and {MESSAGES} messages stored in {:.1?}",
        started.elapsed()
    );

    // The search rows came with the inserts (triggers, migration 0003).
    let fts_started = Instant::now();
    let mut tx = conn.begin().await.unwrap();
    sqlx::raw_sql(
        "UPDATE counters SET value = (SELECT MAX(number) FROM tickets) WHERE name = 'ticket_number'; \
         CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO bench_meta (key, value) VALUES ('data_version', ?)")
        .bind(DATA_VERSION)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    println!(
        "sqlite_chat: {} search rows (indexed by triggers); finished in {:.1?}",
        TICKETS + MESSAGES,
        fts_started.elapsed()
    );
    conn.close().await.unwrap();
    std::fs::rename(&building, path).unwrap();
    println!("sqlite_chat: data set built in {:.1?}", started.elapsed());
    Agents { ids: agents }
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Runs `f` `RUNS` times and prints the median and p99 latency.
async fn percentiles<F, Fut>(what: &str, mut f: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for i in 0..RUNS {
        let start = Instant::now();
        rows += f(i).await;
        times.push(start.elapsed());
    }
    times.sort_unstable();
    println!(
        "sqlite_chat: {what}: median {:.3?}, p99 {:.3?}, max {:.3?} over {RUNS} runs \
         ({:.1} tickets per page)",
        times[RUNS / 2],
        times[RUNS * 99 / 100],
        times[RUNS - 1],
        rows as f64 / RUNS as f64
    );
}

/// The filter of a listing's `i`-th run.
type MakeFilter = Box<dyn Fn(usize) -> TicketFilter>;

fn reads(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
    let path = data_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (store, agents) = rt.block_on(async {
        let counts = existing_counts(&path).await;
        let agents = match counts {
            Some((t, m, s)) if t == TICKETS && m == MESSAGES && s == TICKETS + MESSAGES => {
                println!("sqlite_chat: reusing {}", path.display());
                None
            }
            _ => Some(build(&path).await),
        };
        let store = SqliteStore::open(&path).await.unwrap();
        let agents = match agents {
            Some(a) => a.ids,
            None => sqlx::query_scalar("SELECT id FROM users WHERE role = 'agent' ORDER BY id")
                .fetch_all(store.pool())
                .await
                .unwrap(),
        };
        (store, agents)
    });
    let agents: Vec<UserId> = agents
        .iter()
        .map(|a| UserId(Uuid::parse_str(a).unwrap()))
        .collect();
    println!(
        "sqlite_chat: database {:.1} MiB + WAL {:.1} MiB ({})",
        mib(file_size(&path)),
        mib(file_size(&path.with_extension("db-wal"))),
        path.display()
    );
    rt.block_on(async {
        // Where the bytes are (the dbstat table of the bundled SQLite).
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8",
        )
        .fetch_all(store.pool())
        .await
        .unwrap_or_default();
        for (name, bytes) in rows {
            println!("sqlite_chat:   {name}: {:.1} MiB", mib(bytes as u64));
        }
    });

    let vocab = vocabulary();
    let common = vocab[42].clone();
    let search = |text: String| TicketFilter {
        text: Some(text),
        limit: 50,
        ..Default::default()
    };
    let queue = |agent: UserId| TicketFilter {
        statuses: vec![TicketStatus::New, TicketStatus::InProgress],
        assignee: AssigneeFilter::User(agent),
        limit: 50,
        ..Default::default()
    };
    let cases: Vec<(String, MakeFilter)> = vec![
        (
            "search_one_word_300_tickets".to_owned(),
            Box::new(move |_| search("zephyrine".to_owned())),
        ),
        (
            "search_two_prefixes_150_tickets".to_owned(),
            Box::new(move |_| search("quasar zeph".to_owned())),
        ),
        (
            "search_common_word_3000_tickets".to_owned(),
            Box::new(move |_| search(common.clone())),
        ),
        (
            "agent_open_queue_updated_desc".to_owned(),
            Box::new(move |i| queue(agents[i % agents.len()])),
        ),
    ];

    let mut group = c.benchmark_group("sqlite_chat_list_tickets");
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    for (name, make) in &cases {
        let mut i = 0;
        group.bench_function(name.as_str(), |b| {
            b.to_async(rt).iter(|| {
                i += 1;
                let filter = make(i);
                let store = &store;
                async move { black_box(store.list_tickets(&filter).await.unwrap()) }
            });
        });
    }
    group.finish();
    rt.block_on(async {
        for (name, make) in &cases {
            percentiles(name, |i| {
                let filter = make(i);
                let store = &store;
                async move { store.list_tickets(&filter).await.unwrap().len() }
            })
            .await;
        }
        store.pool().close().await;
    });
    println!(
        "sqlite_chat: after the runs: database {:.1} MiB + WAL {:.1} MiB",
        mib(file_size(&path)),
        mib(file_size(&path.with_extension("db-wal")))
    );
}

fn chat(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    writes(c, &rt);
    reads(c, &rt);
}

criterion_group!(benches, chat);
criterion_main!(benches);
