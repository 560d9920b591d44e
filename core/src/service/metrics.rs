//! Agent metrics over a time window: tickets claimed and resolved, current
//! load, first-response and resolution times.
//!
//! Definitions, all over the half-open window `[from, to)`:
//! - *claimed*: the agent's `ticket_claimed` audit entries in the window;
//! - *resolved*: tickets whose `resolved_at` is in the window and whose
//!   assignee is the agent (whatever their status is now);
//! - *open now*: tickets assigned to the agent in `new` or `in_progress` at
//!   the time of the call;
//! - *first response time*: `first_response_at - created_at` of tickets
//!   created in the window that have a first response, attributed to the
//!   ticket's assignee;
//! - *resolution time*: `resolved_at - created_at` of tickets resolved in the
//!   window, attributed to the ticket's assignee.
//!
//! Medians and 90th percentiles use the nearest-rank method. Team totals are
//! computed over every ticket in the window (unassigned ones included), not
//! from the agents' rows.

use std::collections::BTreeMap;

use neurochat_protocol::v1::FieldErrorCode;
use time::{Duration, OffsetDateTime};

use crate::Desk;
use crate::domain::{AuditAction, Availability, UserId};
use crate::error::{Error, Result};
use crate::principal::Principal;

/// Longest metrics window accepted, in days.
pub const WINDOW_MAX_DAYS: i64 = 366;
/// How far back [`Desk::typical_first_response`] looks, in days.
pub const TYPICAL_RESPONSE_DAYS: i64 = 7;

/// The half-open time window `[from, to)` metrics are computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsWindow {
    /// Start, inclusive.
    pub from: OffsetDateTime,
    /// End, exclusive.
    pub to: OffsetDateTime,
}

impl MetricsWindow {
    /// The window `[from, to)`; checked when used.
    pub fn new(from: OffsetDateTime, to: OffsetDateTime) -> Self {
        MetricsWindow { from, to }
    }

    /// `from` must be before `to`, and the window at most
    /// [`WINDOW_MAX_DAYS`] long.
    pub fn validate(&self) -> Result<()> {
        if self.from >= self.to {
            return Err(Error::field(
                "from",
                FieldErrorCode::OutOfRange,
                "The window must start before it ends.",
            ));
        }
        if self.to - self.from > Duration::days(WINDOW_MAX_DAYS) {
            return Err(Error::field(
                "from",
                FieldErrorCode::OutOfRange,
                format!("The window may span at most {WINDOW_MAX_DAYS} days."),
            ));
        }
        Ok(())
    }

    /// Whether `t` falls in `[from, to)`.
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.from <= t && t < self.to
    }
}

/// One agent's (or admin's) figures for a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentMetrics {
    /// The agent.
    pub user_id: UserId,
    /// Their current display name.
    pub display_name: String,
    /// Tickets they claimed in the window.
    pub claimed: u64,
    /// Tickets assigned to them that were resolved in the window.
    pub resolved: u64,
    /// Tickets assigned to them in `new` or `in_progress` right now.
    pub open_now: u64,
    /// Median first-response time of their tickets created in the window.
    pub first_response_median: Option<Duration>,
    /// 90th-percentile first-response time of the same tickets.
    pub first_response_p90: Option<Duration>,
    /// Median creation-to-resolution time of their tickets resolved in the window.
    pub resolution_median: Option<Duration>,
}

/// The whole team's figures for a window, over every ticket (assigned or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsTotals {
    /// Tickets claimed in the window, by anyone.
    pub claimed: u64,
    /// Tickets resolved in the window.
    pub resolved: u64,
    /// Tickets assigned to enabled staff in `new` or `in_progress` right now.
    pub open_now: u64,
    /// Median first-response time of tickets created in the window.
    pub first_response_median: Option<Duration>,
    /// 90th-percentile first-response time of the same tickets.
    pub first_response_p90: Option<Duration>,
    /// Median creation-to-resolution time of tickets resolved in the window.
    pub resolution_median: Option<Duration>,
}

/// Team totals plus per-agent rows (every agent for admins, only one's own
/// row for agents), ordered by user id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMetrics {
    /// Figures over all tickets in the window.
    pub totals: MetricsTotals,
    /// Per-agent figures.
    pub agents: Vec<AgentMetrics>,
}

/// Raw figures collected for one agent or for the team.
#[derive(Debug, Default)]
struct Tally {
    claimed: u64,
    resolved: u64,
    open_now: u64,
    first_response: Vec<Duration>,
    resolution: Vec<Duration>,
}

impl Tally {
    fn finish(mut self) -> MetricsTotals {
        self.first_response.sort_unstable();
        self.resolution.sort_unstable();
        MetricsTotals {
            claimed: self.claimed,
            resolved: self.resolved,
            open_now: self.open_now,
            first_response_median: percentile(&self.first_response, 0.5),
            first_response_p90: percentile(&self.first_response, 0.9),
            resolution_median: percentile(&self.resolution, 0.5),
        }
    }
}

impl AgentMetrics {
    fn from_totals(user_id: UserId, display_name: String, t: MetricsTotals) -> Self {
        AgentMetrics {
            user_id,
            display_name,
            claimed: t.claimed,
            resolved: t.resolved,
            open_now: t.open_now,
            first_response_median: t.first_response_median,
            first_response_p90: t.first_response_p90,
            resolution_median: t.resolution_median,
        }
    }
}

/// The nearest-rank percentile of ascending `sorted` durations: the value at
/// rank `ceil(p * n)` (1-based, at least 1). `None` when empty.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // The epsilon keeps a product that floating point puts a hair above an
    // integer on that integer's rank. NaN and negative ranks cast to 0.
    let rank = (p.clamp(0.0, 1.0) * n as f64 - 1e-9).ceil() as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

impl Desk {
    /// How many enabled agents and admins are `online` right now (their
    /// availability, which the gateway sets while they are connected). A
    /// count only, for anyone (the widget's header): no principal needed.
    #[tracing::instrument(skip_all)]
    pub async fn agents_online(&self) -> Result<u32> {
        let loads = self.inner.store.list_agent_loads().await?;
        let online = loads
            .iter()
            .filter(|l| l.user.availability == Availability::Online && !l.user.disabled)
            .count();
        Ok(u32::try_from(online).unwrap_or(u32::MAX))
    }

    /// How soon the team usually answers: the median first-response time of
    /// the tickets created in the last [`TYPICAL_RESPONSE_DAYS`] days that
    /// have a first response (the team metrics' `first_response_median` over
    /// that window); `None` when there is none. For anyone: a duration, no
    /// identity. It reads the window's tickets, so callers serving it
    /// publicly should cache it.
    #[tracing::instrument(skip_all)]
    pub async fn typical_first_response(&self) -> Result<Option<Duration>> {
        let to = self.now();
        let window = MetricsWindow::new(to - Duration::days(TYPICAL_RESPONSE_DAYS), to);
        let tickets = self
            .inner
            .store
            .list_tickets_in_window(window.from, window.to)
            .await?;
        let mut times: Vec<Duration> = tickets
            .iter()
            .filter(|t| window.contains(t.created_at))
            .filter_map(|t| {
                t.first_response_at
                    .map(|f| (f - t.created_at).max(Duration::ZERO))
            })
            .collect();
        times.sort_unstable();
        Ok(percentile(&times, 0.5))
    }

    /// Team metrics for `window`. Admins get every agent's row; agents get
    /// only their own row (plus the team totals); customers are refused.
    #[tracing::instrument(skip_all)]
    pub async fn team_metrics(
        &self,
        principal: &Principal,
        window: MetricsWindow,
    ) -> Result<TeamMetrics> {
        if !principal.is_staff() {
            return Err(Error::Forbidden);
        }
        window.validate()?;
        let focus = (!principal.is_admin()).then(|| principal.user_id());
        let (totals, agents) = self.compute_metrics(window, focus).await?;
        Ok(TeamMetrics { totals, agents })
    }

    /// The acting agent's (or admin's) own metrics for `window`.
    #[tracing::instrument(skip_all)]
    pub async fn my_metrics(
        &self,
        principal: &Principal,
        window: MetricsWindow,
    ) -> Result<AgentMetrics> {
        if !principal.is_staff() {
            return Err(Error::Forbidden);
        }
        window.validate()?;
        let (_, agents) = self
            .compute_metrics(window, Some(principal.user_id()))
            .await?;
        agents
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("own metrics row missing".to_owned()))
    }

    /// Totals and per-agent rows; with `focus`, only that user's row (always
    /// present, zero if they had no activity).
    async fn compute_metrics(
        &self,
        window: MetricsWindow,
        focus: Option<UserId>,
    ) -> Result<(MetricsTotals, Vec<AgentMetrics>)> {
        let store = &self.inner.store;
        let claims = store
            .count_audit_by_actor(AuditAction::TicketClaimed, window.from, window.to)
            .await?;
        let loads = store.list_agent_loads().await?;
        let tickets = store.list_tickets_in_window(window.from, window.to).await?;

        let mut team = Tally::default();
        let mut per: BTreeMap<UserId, Tally> = BTreeMap::new();
        let mut names: BTreeMap<UserId, String> = BTreeMap::new();
        if let Some(id) = focus {
            per.entry(id).or_default();
        }
        for load in loads {
            let open = u64::try_from(load.open_tickets).unwrap_or(0);
            team.open_now += open;
            per.entry(load.user.id).or_default().open_now = open;
            names.insert(load.user.id, load.user.display_name);
        }
        for (actor, count) in claims {
            team.claimed += count;
            per.entry(actor).or_default().claimed += count;
        }
        for ticket in &tickets {
            if let Some(first) = ticket.first_response_at
                && window.contains(ticket.created_at)
            {
                let d = (first - ticket.created_at).max(Duration::ZERO);
                team.first_response.push(d);
                if let Some(agent) = ticket.assignee_id {
                    per.entry(agent).or_default().first_response.push(d);
                }
            }
            if let Some(resolved) = ticket.resolved_at
                && window.contains(resolved)
            {
                let d = (resolved - ticket.created_at).max(Duration::ZERO);
                team.resolved += 1;
                team.resolution.push(d);
                if let Some(agent) = ticket.assignee_id {
                    let tally = per.entry(agent).or_default();
                    tally.resolved += 1;
                    tally.resolution.push(d);
                }
            }
        }

        let mut agents = Vec::new();
        for (id, tally) in per {
            if focus.is_some_and(|f| f != id) {
                continue;
            }
            // People with activity in the window who are no longer enabled
            // staff are not in the load list: look their names up.
            let name = match names.remove(&id) {
                Some(name) => name,
                None => store
                    .fetch_user(id)
                    .await?
                    .map(|u| u.display_name)
                    .unwrap_or_default(),
            };
            agents.push(AgentMetrics::from_totals(id, name, tally.finish()));
        }
        Ok((team.finish(), agents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mins(v: &[i64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::minutes(*m)).collect()
    }

    #[test]
    fn percentile_of_nothing_is_none() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[], 0.9), None);
    }

    #[test]
    fn percentile_of_one_value_is_that_value() {
        let one = mins(&[7]);
        for p in [0.0, 0.1, 0.5, 0.9, 1.0] {
            assert_eq!(percentile(&one, p), Some(Duration::minutes(7)));
        }
    }

    #[test]
    fn percentile_uses_the_nearest_rank() {
        let two = mins(&[2, 10]);
        assert_eq!(percentile(&two, 0.5), Some(Duration::minutes(2)));
        assert_eq!(percentile(&two, 0.9), Some(Duration::minutes(10)));
        let three = mins(&[2, 4, 10]);
        assert_eq!(percentile(&three, 0.5), Some(Duration::minutes(4)));
        assert_eq!(percentile(&three, 0.9), Some(Duration::minutes(10)));
        let ten = mins(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        // ceil(0.9 * 10) = 9, ceil(0.5 * 10) = 5, ceil(0.95 * 10) = 10.
        assert_eq!(percentile(&ten, 0.9), Some(Duration::minutes(9)));
        assert_eq!(percentile(&ten, 0.5), Some(Duration::minutes(5)));
        assert_eq!(percentile(&ten, 0.95), Some(Duration::minutes(10)));
        assert_eq!(percentile(&ten, 0.0), Some(Duration::minutes(1)));
        assert_eq!(percentile(&ten, 1.0), Some(Duration::minutes(10)));
        // 0.07 * 100 is 7.000000000000001 in floating point: still rank 7.
        let hundred: Vec<Duration> = (1..=100).map(Duration::minutes).collect();
        assert_eq!(percentile(&hundred, 0.07), Some(Duration::minutes(7)));
    }

    #[test]
    fn window_must_be_ordered_and_at_most_366_days() {
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(
            MetricsWindow::new(t, t + Duration::days(366))
                .validate()
                .is_ok()
        );
        for w in [
            MetricsWindow::new(t, t),
            MetricsWindow::new(t + Duration::hours(1), t),
            MetricsWindow::new(t, t + Duration::days(366) + Duration::seconds(1)),
        ] {
            let err = w.validate().expect_err("window should be refused");
            assert_eq!(err.violations().len(), 1);
            assert_eq!(err.violations()[0].field, "from");
            assert_eq!(err.violations()[0].code, FieldErrorCode::OutOfRange);
        }
    }
}
