//! `GET /metrics` in the Prometheus text exposition format (0.0.4).
//!
//! A small hand-rolled registry rather than `prometheus-client` or
//! `metrics` + an exporter: the set is fixed (a few counters, gauges and
//! histograms), the format is a page of text, and neither crate would save
//! code here while adding a dependency tree and a global recorder a host
//! embedding the router might already have set up differently.
//!
//! What is measured:
//! - every HTTP request, by method, route template (never the raw path, so
//!   the label set stays bounded) and status, with a latency histogram per
//!   method and route;
//! - the gateway: open WebSocket connections, connections opened, messages
//!   relayed, slow consumers closed (`Gateway::stats`);
//! - database latency, as the round trip of `Store::ping` on every
//!   `/readyz` probe and every scrape. It is the store's floor (pool
//!   checkout plus a trivial query), not the latency of every query: the
//!   store is called from inside core, behind the `Desk`, where this layer
//!   does not see individual queries;
//! - escalations raised, by reason, from the `Escalated` events this node's
//!   event bus carries on the inbox topic (with the in-process bus: those
//!   raised by this process's background worker).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use neurochat_core::Desk;
use neurochat_core::events::{EscalationReason, Event, Topic};
use neurochat_core::ports::bus::Delivery;
use neurochat_transport_ws::Gateway;

/// Who may read `GET /metrics`.
///
/// Off by default: the numbers tell anyone who can read them how busy the
/// desk is and which features are used, so a host turns them on
/// deliberately — `Open` behind a network boundary that keeps the public
/// out (an internal port or a proxy rule), or `BearerToken` when the
/// scraper reaches the same listener as customers.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// `GET /metrics` answers 404 `not_found` (the default).
    #[default]
    Off,
    /// Anyone who reaches the router may read the metrics.
    Open,
    /// Only requests with `Authorization: Bearer <token>` (Prometheus'
    /// `authorization` scrape setting); others get 401.
    BearerToken(String),
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsAccess::Off => f.write_str("Off"),
            MetricsAccess::Open => f.write_str("Open"),
            MetricsAccess::BearerToken(_) => f.write_str("BearerToken(***)"),
        }
    }
}

/// Upper bounds of the latency buckets, in seconds: from a cached read to a
/// request that nearly hits the default 30 s timeout.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

/// A cumulative-on-render histogram.
#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations per bucket (not cumulative); the last slot is `+Inf`.
    counts: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        let i = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[i] += 1;
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative += self.counts[i];
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// One route's numbers.
#[derive(Debug, Default, Clone)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// The registry one router records into.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Keyed by (method, route template); a `BTreeMap` on render for a
    /// stable order.
    routes: Mutex<HashMap<(&'static str, String), RouteStats>>,
    db_ping: Mutex<Histogram>,
    escalated_new: AtomicU64,
    escalated_unanswered: AtomicU64,
}

/// A bounded set of method labels: anything unusual is `other`, so a client
/// inventing methods cannot grow the label set.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Escapes a label value (`\`, `"` and newlines, per the format).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Records one answered request. `route` is the matched template or
    /// `<unmatched>`, never the raw path.
    pub(crate) fn record_request(
        &self,
        method: &axum::http::Method,
        route: &str,
        status: u16,
        took: Duration,
    ) {
        let key = (method_label(method), route.to_owned());
        // A poisoned lock only means another request panicked mid-update;
        // the counts are still usable.
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let stats = routes.entry(key).or_default();
        *stats.by_status.entry(status).or_default() += 1;
        stats.latency.observe(took.as_secs_f64());
    }

    /// Records one `Store::ping` round trip.
    pub(crate) fn record_db_ping(&self, took: Duration) {
        self.db_ping
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .observe(took.as_secs_f64());
    }

    fn record_escalation(&self, reason: EscalationReason) {
        let c = match reason {
            EscalationReason::NewTooLong => &self.escalated_new,
            EscalationReason::Unanswered => &self.escalated_unanswered,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts escalations from the desk's event bus for as long as this
    /// registry lives. Needs a tokio runtime; without one (a router built
    /// outside any runtime) escalations stay at 0.
    pub(crate) fn watch_escalations(self: &Arc<Self>, desk: &Desk) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("no tokio runtime: escalations are not counted");
            return;
        };
        let bus = desk.bus().clone();
        let weak: Weak<Metrics> = Arc::downgrade(self);
        rt.spawn(async move {
            let mut sub = match bus.subscribe(Topic::Inbox).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: cannot watch escalations");
                    return;
                }
            };
            while let Some(d) = sub.next().await {
                // The router (and its registry) is gone: stop listening.
                let Some(metrics) = weak.upgrade() else {
                    return;
                };
                if let Delivery::Event(Event::Escalated { reason, .. }) = d {
                    metrics.record_escalation(reason);
                }
            }
        });
    }

    /// The exposition text.
    pub(crate) fn render(&self, gateway: &Gateway) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Copied out so the lock is not held while formatting.
        let routes: BTreeMap<(&'static str, String), RouteStats> = {
            let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
            routes.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        };

        out.push_str(
            "# HELP neurochat_http_requests_total HTTP requests answered, by method, route template and status.\n\
             # TYPE neurochat_http_requests_total counter\n",
        );
        for ((method, route), stats) in &routes {
            let route = escape(route);
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "neurochat_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }

        out.push_str(
            "# HELP neurochat_http_request_duration_seconds Time to answer an HTTP request (until the response head), by method and route template.\n\
             # TYPE neurochat_http_request_duration_seconds histogram\n",
        );
        for ((method, route), stats) in &routes {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            stats
                .latency
                .render(&mut out, "neurochat_http_request_duration_seconds", &labels);
        }

        let stats = gateway.stats();
        let _ = write!(
            out,
            "# HELP neurochat_ws_connections Open WebSocket connections.\n\
             # TYPE neurochat_ws_connections gauge\n\
             neurochat_ws_connections {}\n\
             # HELP neurochat_ws_connections_opened_total WebSocket connections accepted.\n\
             # TYPE neurochat_ws_connections_opened_total counter\n\
             neurochat_ws_connections_opened_total {}\n\
             # HELP neurochat_ws_messages_relayed_total Chat messages written to WebSocket clients (live and replayed).\n\
             # TYPE neurochat_ws_messages_relayed_total counter\n\
             neurochat_ws_messages_relayed_total {}\n\
             # HELP neurochat_ws_slow_consumers_total WebSocket connections closed for reading too slowly.\n\
             # TYPE neurochat_ws_slow_consumers_total counter\n\
             neurochat_ws_slow_consumers_total {}\n\
             # HELP neurochat_ws_inbox_resyncs_total Times an agent's connection fell behind on the inbox and re-read the missed tickets from the store.\n\
             # TYPE neurochat_ws_inbox_resyncs_total counter\n\
             neurochat_ws_inbox_resyncs_total {}\n",
            gateway.connections(),
            stats.connections_opened.load(Ordering::Relaxed),
            stats.messages_relayed.load(Ordering::Relaxed),
            stats.slow_consumers.load(Ordering::Relaxed),
            stats.inbox_resyncs.load(Ordering::Relaxed),
        );

        out.push_str(
            "# HELP neurochat_db_ping_duration_seconds Round trip of the store's health query (Store::ping: pool checkout plus a trivial query), sampled by /readyz and every scrape.\n\
             # TYPE neurochat_db_ping_duration_seconds histogram\n",
        );
        let db = self
            .db_ping
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        db.render(&mut out, "neurochat_db_ping_duration_seconds", "");

        let _ = write!(
            out,
            "# HELP neurochat_escalations_total SLA escalations raised, by reason (seen on this node's event bus).\n\
             # TYPE neurochat_escalations_total counter\n\
             neurochat_escalations_total{{reason=\"new_too_long\"}} {}\n\
             neurochat_escalations_total{{reason=\"unanswered\"}} {}\n",
            self.escalated_new.load(Ordering::Relaxed),
            self.escalated_unanswered.load(Ordering::Relaxed),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_inf() {
        let mut h = Histogram::default();
        for s in [0.0001, 0.003, 0.003, 100.0] {
            h.observe(s);
        }
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.005\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"30\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 4\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
