//! The [`ping`](crate::ports::Store::ping) scenario.

use crate::ports::Store;

/// `ping` succeeds on a working store.
pub async fn ping_ok(store: &dyn Store) {
    store.ping().await.expect("ping");
}
