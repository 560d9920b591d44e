//! State shared by every session of one server: connection counts, agent
//! presence, shutdown, and counters for metrics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use neurochat_core::domain::{Availability, UserId};
use neurochat_core::{Desk, Principal};
use tokio::sync::{Semaphore, watch};

use crate::config::GatewayConfig;

/// Counters a host can export as metrics.
#[derive(Debug, Default)]
pub struct GatewayStats {
    /// Connections accepted since start.
    pub connections_opened: AtomicU64,
    /// Chat messages written to clients (live and replayed).
    pub messages_relayed: AtomicU64,
    /// Connections closed because they read too slowly.
    pub slow_consumers: AtomicU64,
    /// Inbox resynchronisations: an agent's connection fell behind on the
    /// inbox topic and re-read the tickets it missed from the store.
    pub inbox_resyncs: AtomicU64,
}

/// The real-time gateway: one per server, shared by all sessions.
pub struct Gateway {
    pub(crate) desk: Desk,
    pub(crate) config: GatewayConfig,
    per_user: Mutex<HashMap<UserId, usize>>,
    total: AtomicUsize,
    shutdown: watch::Sender<bool>,
    stats: GatewayStats,
    /// Turns to write a replay page (see [`GatewayConfig::replays_at_once`]).
    pub(crate) replays: Arc<Semaphore>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway over `desk` with `config`.
    pub fn new(desk: Desk, config: GatewayConfig) -> Arc<Gateway> {
        Arc::new(Gateway {
            desk,
            per_user: Mutex::new(HashMap::new()),
            total: AtomicUsize::new(0),
            shutdown: watch::channel(false).0,
            stats: GatewayStats::default(),
            replays: Arc::new(Semaphore::new(config.replays_at_once.max(1))),
            config,
        })
    }

    /// The desk sessions act through.
    pub fn desk(&self) -> &Desk {
        &self.desk
    }

    /// The limits in force.
    pub fn config(&self) -> &GatewayConfig {
        &self.config
    }

    /// Open connections (authenticated or not).
    pub fn connections(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Counters for metrics.
    pub fn stats(&self) -> &GatewayStats {
        &self.stats
    }

    /// Asks every session to close with `going_away` (1001) after flushing
    /// what it has queued. New connections should no longer be accepted.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Counts a new connection unless the server is full.
    pub(crate) fn open_connection(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let prev = self.total.fetch_add(1, Ordering::AcqRel);
        if prev >= self.config.max_connections {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        self.stats
            .connections_opened
            .fetch_add(1, Ordering::Relaxed);
        Some(ConnectionSlot {
            gateway: self.clone(),
            user: None,
        })
    }
}

/// One counted connection; dropping it releases the counts and, for the
/// last connection of an agent, starts the presence grace period.
pub(crate) struct ConnectionSlot {
    gateway: Arc<Gateway>,
    user: Option<(Principal, bool)>,
}

impl ConnectionSlot {
    /// Binds the slot to an authenticated user, unless they have too many
    /// connections. Staff who were offline become online.
    pub(crate) async fn bind(&mut self, principal: &Principal) -> bool {
        let first = {
            let mut per_user = self
                .gateway
                .per_user
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let n = per_user.entry(principal.user_id()).or_insert(0);
            if *n >= self.gateway.config.max_connections_per_user {
                return false;
            }
            *n += 1;
            *n == 1
        };
        let staff = principal.is_staff();
        self.user = Some((principal.clone(), staff));
        if staff && first {
            let desk = &self.gateway.desk;
            if let Ok(u) = desk.get_user(principal, principal.user_id()).await
                && u.availability == Availability::Offline
                && let Err(e) = desk
                    .set_agent_settings(principal, u.id, Some(Availability::Online), None)
                    .await
            {
                tracing::warn!(error = %e, "could not mark agent online");
            }
        }
        true
    }

    pub(crate) fn stats(&self) -> &GatewayStats {
        &self.gateway.stats
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.gateway.total.fetch_sub(1, Ordering::AcqRel);
        let Some((principal, staff)) = self.user.take() else {
            return;
        };
        let last = {
            let mut per_user = self
                .gateway
                .per_user
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match per_user.get_mut(&principal.user_id()) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                _ => {
                    per_user.remove(&principal.user_id());
                    true
                }
            }
        };
        if !(staff && last) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let gateway = self.gateway.clone();
        rt.spawn(async move {
            tokio::time::sleep(gateway.config.presence_grace).await;
            let still_gone = !gateway
                .per_user
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&principal.user_id());
            if still_gone
                && let Err(e) = gateway
                    .desk
                    .set_agent_settings(
                        &principal,
                        principal.user_id(),
                        Some(Availability::Offline),
                        None,
                    )
                    .await
            {
                tracing::debug!(error = %e, "could not mark agent offline");
            }
        });
    }
}
