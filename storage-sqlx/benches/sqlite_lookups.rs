//! Point lookups on a SQLite file with 10 000 users: `fetch_user_by_email`
//! and `fetch_user` on random existing keys. Criterion reports lookups per
//! second (`Throughput::Elements(1)` per iteration), one at a time and eight
//! in flight at once.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurochat_core::domain::{Availability, Role, User, UserId};
use neurochat_core::ports::{UserStore, truncate_millis};
use neurochat_storage_sqlx::SqliteStore;
use time::OffsetDateTime;
use uuid::Uuid;

const USERS: usize = 10_000;

fn user(i: usize, now: OffsetDateTime) -> User {
    let email = format!("user{i}@Example.com");
    User {
        id: UserId(Uuid::now_v7()),
        email_normalized: Some(email.to_lowercase()),
        email: Some(email),
        display_name: format!("User {i}"),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        role: Role::Customer,
        disabled: false,
        external_id: None,
        verified: true,
        contact_email: None,
        availability: Availability::Offline,
        capacity: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// xorshift64*: a deterministic key picker without another dependency.
struct Picker(u64);

impl Picker {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

fn lookups(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, users) = rt.block_on(async {
        let store = SqliteStore::open(dir.path().join("bench.db"))
            .await
            .unwrap();
        let now = truncate_millis(OffsetDateTime::now_utc());
        let mut users = Vec::with_capacity(USERS);
        for i in 0..USERS {
            let u = user(i, now);
            store.insert_user(&u).await.unwrap();
            users.push((u.id, u.email_normalized.unwrap()));
        }
        (store, users)
    });

    let mut group = c.benchmark_group("sqlite_lookups");
    group.throughput(Throughput::Elements(1));

    let mut pick = Picker(0x9E37_79B9_7F4A_7C15);
    group.bench_function("fetch_user_by_email", |b| {
        b.to_async(&rt).iter(|| {
            let email = users[pick.next(USERS)].1.clone();
            let store = &store;
            async move {
                let u = store.fetch_user_by_email(black_box(&email)).await.unwrap();
                assert!(u.is_some());
            }
        });
    });

    let mut pick = Picker(0xD1B5_4A32_D192_ED03);
    group.bench_function("fetch_user", |b| {
        b.to_async(&rt).iter(|| {
            let id = users[pick.next(USERS)].0;
            let store = &store;
            async move {
                let u = store.fetch_user(black_box(id)).await.unwrap();
                assert!(u.is_some());
            }
        });
    });

    // Eight lookups in flight at once: what the pool serves to concurrent requests.
    group.throughput(Throughput::Elements(8));
    let mut pick = Picker(0x2545_F491_4F6C_DD1D);
    group.bench_function("fetch_user_by_email_8_concurrent", |b| {
        b.to_async(&rt).iter(|| {
            let emails: Vec<String> = (0..8).map(|_| users[pick.next(USERS)].1.clone()).collect();
            let store = &store;
            async move {
                let found = futures_util::future::join_all(
                    emails
                        .iter()
                        .map(|e| store.fetch_user_by_email(black_box(e))),
                )
                .await;
                assert!(found.into_iter().all(|u| u.unwrap().is_some()));
            }
        });
    });
    group.finish();
    rt.block_on(store.pool().close());
}

criterion_group!(benches, lookups);
criterion_main!(benches);
