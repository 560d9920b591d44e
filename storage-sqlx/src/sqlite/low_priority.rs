//! Connections whose SQLite thread runs at a lower CPU priority, for the
//! store's background work (checkpoint passes, search indexing): on a busy
//! core it then runs when the writers and the gateway have nothing to do,
//! rather than taking turns with them.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection as _, SqliteConnection};

/// How much lower than the server's threads background work runs (Linux
/// `nice` steps; the writers and the gateway stay at 0).
const BACKGROUND_NICE: i32 = 10;

/// Opens a connection from a thread of its own whose priority was lowered
/// first: sqlx starts each connection's SQLite thread from the thread that
/// connects, and a new thread inherits its parent's priority. (Elsewhere
/// than on Linux the priority is left alone, see [`lower_this_threads_priority`].)
pub(super) async fn connect(options: SqliteConnectOptions) -> Result<SqliteConnection, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("neurochat-background-open".into())
        .spawn(move || {
            lower_this_threads_priority();
            let opened = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    rt.block_on(SqliteConnection::connect_with(&options))
                        .map_err(|e| e.to_string())
                });
            let _ = tx.send(opened);
        })
        .map_err(|e| e.to_string())?;
    rx.await
        .map_err(|_| "the connecting thread ended".to_owned())?
}

/// Lowers the calling thread's CPU priority (Linux: `nice` is per thread).
/// Elsewhere `nice` would lower the whole process, so nothing is changed.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    if let Err(error) = rustix::process::nice(BACKGROUND_NICE) {
        tracing::debug!(%error, "background thread keeps its priority");
    }
}
