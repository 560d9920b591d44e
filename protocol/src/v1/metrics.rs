//! Staff metrics over a time window: per agent and for the whole team.
//!
//! Durations are whole milliseconds; a figure with nothing to measure (no
//! ticket in the window) is absent rather than zero.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Staff: query string of the metrics endpoints, the half-open window
/// `[from, to)`. Absent `to` means now; absent `from` means 7 days before `to`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsQuery {
    /// Start of the window, inclusive.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub from: Option<OffsetDateTime>,
    /// End of the window, exclusive.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub to: Option<OffsetDateTime>,
}

/// One agent's (or admin's) figures for a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMetricsView {
    /// The agent.
    pub user_id: Uuid,
    /// Their current display name.
    pub display_name: String,
    /// Tickets they claimed in the window.
    pub claimed: u64,
    /// Tickets assigned to them that were resolved in the window.
    pub resolved: u64,
    /// Tickets assigned to them in `new` or `in_progress` right now.
    pub open_now: u64,
    /// Median first-response time of their tickets created in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_median_ms: Option<u64>,
    /// 90th-percentile first-response time of the same tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_p90_ms: Option<u64>,
    /// Median creation-to-resolution time of their tickets resolved in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_median_ms: Option<u64>,
}

/// The whole team's figures for a window, over every ticket (assigned or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsTotalsView {
    /// Tickets claimed in the window, by anyone.
    pub claimed: u64,
    /// Tickets resolved in the window.
    pub resolved: u64,
    /// Tickets assigned to enabled staff in `new` or `in_progress` right now.
    pub open_now: u64,
    /// Median first-response time of tickets created in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_median_ms: Option<u64>,
    /// 90th-percentile first-response time of the same tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_p90_ms: Option<u64>,
    /// Median creation-to-resolution time of tickets resolved in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_median_ms: Option<u64>,
}

/// Team totals plus per-agent rows: every agent for admins, only one's own
/// row for agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMetricsView {
    /// Start of the window, inclusive.
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// End of the window, exclusive.
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// Figures over all tickets in the window.
    pub totals: MetricsTotalsView,
    /// Per-agent figures, ordered by user id.
    pub agents: Vec<AgentMetricsView>,
}
