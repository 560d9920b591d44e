//! Connections whose SQLite thread runs at a lower CPU priority, for the
//! store's background work (checkpoint passes, search indexing): on a busy
//! core it then runs when the writers and the gateway have nothing to do,
//! rather than taking turns with them.
//!
//! A lower weight alone (`nice` 10) is not enough for that: the scheduler
//! (EEVDF, Linux 6.6+) lets the running thread finish its slice before a
//! waking one gets the core, whatever their weights, and a checkpoint pass
//! is long enough to use all of it. So the thread also asks for the
//! shortest slice (0.1 ms, Linux 6.12+; older kernels ignore the request).
//! It keeps its `nice` 10 share of a busy core, so a saturated core cannot
//! starve the checkpoints, which `SCHED_IDLE` did.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection as _, SqliteConnection};

/// How much lower than the server's threads background work runs (Linux
/// `nice` steps; the writers and the gateway stay at 0).
const BACKGROUND_NICE: i32 = 10;

/// The slice background threads ask for: the shortest Linux grants.
#[cfg(target_os = "linux")]
const BACKGROUND_SLICE_NS: u64 = 100_000;

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

/// Lowers the calling thread's CPU priority (Linux: `nice` and the slice
/// are per thread). Elsewhere `nice` would lower the whole process, so
/// nothing is changed.
fn lower_this_threads_priority() {
    // `sched_setattr` sets the nice value too; `nice` alone is the fallback.
    #[cfg(target_os = "linux")]
    if let Err(error) = shortest_slice() {
        tracing::debug!(%error, "background thread keeps the default slice");
        if let Err(error) = rustix::process::nice(BACKGROUND_NICE) {
            tracing::debug!(%error, "background thread keeps its priority");
        }
    }
}

/// `sched_setattr` of the calling thread: `SCHED_OTHER` at
/// [`BACKGROUND_NICE`] with a [`BACKGROUND_SLICE_NS`] slice. rustix does
/// not wrap the call, and libc has its struct but no function for it.
#[cfg(target_os = "linux")]
fn shortest_slice() -> std::io::Result<()> {
    let attr = libc::sched_attr {
        size: std::mem::size_of::<libc::sched_attr>() as u32,
        sched_policy: libc::SCHED_OTHER as u32,
        sched_flags: 0,
        sched_nice: BACKGROUND_NICE,
        sched_priority: 0,
        sched_runtime: BACKGROUND_SLICE_NS,
        sched_deadline: 0,
        sched_period: 0,
    };
    // SAFETY: `attr` is a valid, fully initialised `sched_attr` whose `size`
    // says how much of it the kernel may read, and it outlives the call,
    // which only reads it; pid 0 is the calling thread, flags must be 0.
    #[allow(unsafe_code)]
    let rc = unsafe {
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A field of `/proc/thread-self/sched` (`name : value`).
    fn sched_field(name: &str) -> Option<u64> {
        let text = std::fs::read_to_string("/proc/thread-self/sched").ok()?;
        text.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().parse().ok())?
        })
    }

    /// `(major, minor)` of the running kernel.
    fn kernel() -> Option<(u32, u32)> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
        let mut parts = release.trim().split(['.', '-']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    }

    #[test]
    fn a_background_thread_runs_at_nice_10_with_the_shortest_slice() {
        let seen = std::thread::spawn(|| {
            lower_this_threads_priority();
            (sched_field("prio"), sched_field("se.slice"))
        })
        .join()
        .ok();
        let Some((prio, slice)) = seen else {
            panic!("the probe thread panicked");
        };
        assert_eq!(prio, Some(120 + BACKGROUND_NICE as u64), "nice 10");
        match kernel() {
            Some(k) if k >= (6, 12) => {
                assert_eq!(
                    slice,
                    Some(BACKGROUND_SLICE_NS),
                    "custom slice (kernel {k:?})"
                );
            }
            k => eprintln!("SKIPPED: custom slices need Linux 6.12+, this is {k:?}"),
        }
    }
}
