//! `embed-axum`: the Acme Shop example app (see the library docs) on
//! `http://127.0.0.1:3000` over `./embed-axum.db`.
//!
//! ```text
//! cargo run -p neurochat-example-embed-axum
//! curl -c jar -H 'content-type: application/json' \
//!      -d '{"username":"alice","password":"alice-shop-password"}' localhost:3000/login
//! curl -b jar localhost:3000/support-identity \
//!   | curl -H 'content-type: application/json' -d @- localhost:3000/support/api/v1/widget/sessions
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use neurochat_core::config::Secret;
use neurochat_core::{Config, Desk};
use neurochat_storage_sqlx::SqliteStore;
use rand::RngCore as _;

#[tokio::main]
async fn main() -> Result<()> {
    // A shop has its own secrets store; the example makes both secrets up
    // per run (so visitor sessions and tokens of an earlier run end).
    let mut signing_key = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut signing_key);
    let mut hmac_secret = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut hmac_secret);

    let store = SqliteStore::open("embed-axum.db")
        .await
        .context("opening ./embed-axum.db")?;
    let mut config = Config::new(signing_key);
    config.identity.hmac_secret = Some(Secret::new(hmac_secret.clone()));
    let desk = Desk::builder(Arc::new(store), config).build()?;

    let app = neurochat_example_embed_axum::app(desk, &hmac_secret);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("Acme Shop on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
