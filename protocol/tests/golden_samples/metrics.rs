//! The samples of `neurochat_protocol::v1::metrics`.

use neurochat_protocol::v1::*;

use super::{AGENT, at};
use crate::{Sample, Unknown, sample};

fn agent_metrics() -> AgentMetricsView {
    AgentMetricsView {
        user_id: AGENT,
        display_name: "Ana Agent".to_owned(),
        claimed: 12,
        resolved: 10,
        open_now: 3,
        first_response_median_ms: Some(90_000),
        first_response_p90_ms: Some(600_000),
        resolution_median_ms: Some(3_600_000),
    }
}

pub(super) fn metrics_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "metrics.metrics_query",
            Ignored,
            MetricsQuery {
                from: Some(at(0)),
                to: Some(at(60 * 24 * 7)),
            },
        ),
        sample("metrics.agent_metrics_view", Ignored, agent_metrics()),
        sample(
            "metrics.agent_metrics_view.idle",
            Ignored,
            AgentMetricsView {
                user_id: AGENT,
                display_name: "Ana Agent".to_owned(),
                claimed: 0,
                resolved: 0,
                open_now: 0,
                first_response_median_ms: None,
                first_response_p90_ms: None,
                resolution_median_ms: None,
            },
        ),
        sample(
            "metrics.team_metrics_view",
            Ignored,
            TeamMetricsView {
                from: at(0),
                to: at(60 * 24 * 7),
                totals: MetricsTotalsView {
                    claimed: 40,
                    resolved: 35,
                    open_now: 9,
                    first_response_median_ms: Some(120_000),
                    first_response_p90_ms: Some(900_000),
                    resolution_median_ms: Some(5_400_000),
                },
                agents: vec![agent_metrics()],
            },
        ),
    ]
}
