//! Auth throughput with production argon2id parameters (OWASP: 19 MiB, t=2,
//! p=1): password logins per second (one at a time and 8 concurrent), access
//! token verification per second, and full bearer authentication (token +
//! session + user lookups) on the in-memory store.
//!
//! `cargo bench -p neurochat-core --bench auth`
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurochat_core::memory::MemoryStore;
use neurochat_core::service::auth::Registration;
use neurochat_core::{Config, Desk, RequestContext};

const PASSWORD: &str = "correct horse battery staple";

fn setup(rt: &tokio::runtime::Runtime) -> (Desk, String) {
    // Production parameters: this is what a login really costs.
    let config = Config::new(b"bench-signing-key-0123456789abcdef0123".to_vec());
    assert_eq!(
        config.password_hashing,
        neurochat_core::config::PasswordHashing::OWASP
    );
    let desk = Desk::builder(Arc::new(MemoryStore::new()), config)
        .build()
        .unwrap();
    let session = rt
        .block_on(desk.register(
            Registration {
                email: "bench@example.com".into(),
                password: PASSWORD.into(),
                display_name: "Bench".into(),
            },
            &RequestContext::default(),
        ))
        .unwrap();
    (desk, session.tokens.access_token)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (desk, token) = setup(&rt);
    let ctx = RequestContext::default();

    let mut g = c.benchmark_group("login_owasp_argon2id");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("sequential", |b| {
        b.to_async(&rt).iter(|| async {
            desk.login("bench@example.com", PASSWORD, &ctx)
                .await
                .unwrap()
        })
    });
    g.throughput(Throughput::Elements(8));
    g.bench_function("8_concurrent", |b| {
        b.to_async(&rt).iter(|| async {
            let logins = (0..8).map(|_| desk.login("bench@example.com", PASSWORD, &ctx));
            for r in futures_util::future::join_all(logins).await {
                r.unwrap();
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("access_token");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify", |b| {
        b.iter(|| desk.verify_access_token(&token).unwrap())
    });
    g.bench_function("authenticate_memory_store", |b| {
        b.to_async(&rt)
            .iter(|| async { desk.authenticate(&token).await.unwrap() })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
