//! The customer chat widget's public endpoints (besides its visitor
//! session, which lives with the other sessions in [`super::auth`]).

use serde::{Deserialize, Serialize};

/// `GET /api/v1/widget/status`: what the widget's header says about the
/// team, for anyone (no auth). Counts and a duration only, never who.
///
/// `reply_within_seconds` is always present, `null` when there is nothing
/// to go by (docs/WIDGET.md) — unlike the protocol's other optional fields,
/// which are omitted when absent; a missing one parses as `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetStatusView {
    /// Agents (and admins) whose availability is `online` right now.
    pub agents_online: u32,
    /// How soon the team usually replies, in seconds (the median first
    /// response of recent tickets); `null` without recent replies.
    #[serde(default)]
    pub reply_within_seconds: Option<u64>,
}
