//! Agent metrics over a known data set on the manual clock: claims,
//! resolutions, current load, first-response and resolution percentiles,
//! windowing, and who may see which rows.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{Role, Ticket, TicketStatus, UserId};
use neurochat_core::service::chat::PostMessage;
use neurochat_core::service::metrics::{AgentMetrics, MetricsWindow, TeamMetrics};
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Desk, Principal};
use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};
use support::{Env, ctx, env};
use time::{Duration, OffsetDateTime};

fn mins(m: i64) -> Option<Duration> {
    Some(Duration::minutes(m))
}

async fn open(desk: &Desk, customer: &Principal, key: &str) -> Ticket {
    desk.create_ticket(
        customer,
        NewTicket {
            subject: format!("Problem {key}"),
            body: format!("Please help with {key}."),
            client_msg_id: format!("open-{key}"),
            category_id: None,
            priority: None,
        },
        &ctx(),
    )
    .await
    .unwrap()
    .0
}

async fn say(desk: &Desk, who: &Principal, ticket: &Ticket, key: &str, internal: bool) {
    desk.post_message(
        who,
        PostMessage {
            ticket_id: ticket.id,
            body: format!("Message {key}."),
            client_msg_id: format!("msg-{key}"),
            internal,
        },
    )
    .await
    .unwrap();
}

fn row(m: &TeamMetrics, id: UserId) -> &AgentMetrics {
    m.agents.iter().find(|a| a.user_id == id).unwrap()
}

/// The data set. Before the window (at `t0`): agent B claims and answers T0
/// and leaves it open. In the window, starting at `start = t0 + 1h`, four
/// tickets open at `start`: A claims T1 and T2, B claims T3, T4 stays
/// unclaimed with only an internal note. A answers T1 after 2 min and T2
/// after 10 min, B answers T3 after 4 min, A resolves T1 after 30 min and
/// closes it after 50 min (its status moves on; it still counts as resolved).
struct Scenario {
    env: Env,
    admin: Principal,
    a: Principal,
    b: Principal,
    customer: Principal,
    start: OffsetDateTime,
}

async fn scenario() -> Scenario {
    let env = env();
    let (_, admin) = env.admin().await;
    let (_, a) = env.with_role(&admin, "a@example.com", Role::Agent).await;
    let (_, b) = env.with_role(&admin, "b@example.com", Role::Agent).await;
    let cs = env.register("carol@example.com").await;
    let customer = env.principal(&cs).await;
    let d = &env.desk;
    d.update_profile(&a, a.user_id(), "Agent A").await.unwrap();
    d.update_profile(&b, b.user_id(), "Agent B").await.unwrap();

    let t0 = d.now();
    let old = open(d, &customer, "t0").await;
    d.claim_ticket(&b, old.id, &ctx()).await.unwrap();
    env.clock.advance(Duration::minutes(1));
    say(d, &b, &old, "t0-b", false).await;

    env.clock.set(t0 + Duration::hours(1));
    let start = d.now();
    let t1 = open(d, &customer, "t1").await;
    let t2 = open(d, &customer, "t2").await;
    let t3 = open(d, &customer, "t3").await;
    let t4 = open(d, &customer, "t4").await;
    d.claim_ticket(&a, t1.id, &ctx()).await.unwrap();
    d.claim_ticket(&a, t2.id, &ctx()).await.unwrap();
    d.claim_ticket(&b, t3.id, &ctx()).await.unwrap();

    env.clock.set(start + Duration::minutes(2));
    say(d, &a, &t1, "t1-a", false).await;
    env.clock.set(start + Duration::minutes(4));
    say(d, &b, &t3, "t3-b", false).await;
    env.clock.set(start + Duration::minutes(5));
    say(d, &b, &t4, "t4-note", true).await;
    env.clock.set(start + Duration::minutes(10));
    say(d, &a, &t2, "t2-a", false).await;
    env.clock.set(start + Duration::minutes(30));
    d.set_ticket_status(&a, t1.id, TicketStatus::Resolved, &ctx())
        .await
        .unwrap();
    env.clock.set(start + Duration::minutes(50));
    d.set_ticket_status(&a, t1.id, TicketStatus::Closed, &ctx())
        .await
        .unwrap();
    env.clock.set(start + Duration::hours(2));
    Scenario {
        env,
        admin,
        a,
        b,
        customer,
        start,
    }
}

#[tokio::test]
async fn admin_sees_every_agent_with_exact_figures() {
    let s = scenario().await;
    let window = MetricsWindow::new(s.start, s.start + Duration::hours(2));
    let m = s.env.desk.team_metrics(&s.admin, window).await.unwrap();

    let ids: Vec<UserId> = m.agents.iter().map(|r| r.user_id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rows are ordered by user id");
    sorted.dedup();
    let mut expected = vec![s.admin.user_id(), s.a.user_id(), s.b.user_id()];
    expected.sort();
    assert_eq!(sorted, expected, "one row per enabled agent and admin");

    let a = row(&m, s.a.user_id());
    assert_eq!(
        *a,
        AgentMetrics {
            user_id: s.a.user_id(),
            display_name: "Agent A".to_owned(),
            claimed: 2,
            resolved: 1,
            open_now: 1,
            first_response_median: mins(2),
            first_response_p90: mins(10),
            resolution_median: mins(30),
        }
    );
    let b = row(&m, s.b.user_id());
    assert_eq!(
        *b,
        AgentMetrics {
            user_id: s.b.user_id(),
            display_name: "Agent B".to_owned(),
            claimed: 1,
            resolved: 0,
            open_now: 2,
            first_response_median: mins(4),
            first_response_p90: mins(4),
            resolution_median: None,
        }
    );
    let admin = row(&m, s.admin.user_id());
    assert_eq!((admin.claimed, admin.resolved, admin.open_now), (0, 0, 0));
    assert_eq!(admin.first_response_median, None);
    assert_eq!(admin.resolution_median, None);

    // Totals come from all tickets, not from the rows' medians: [2, 4, 10].
    let t = &m.totals;
    assert_eq!((t.claimed, t.resolved, t.open_now), (3, 1, 3));
    assert_eq!(t.first_response_median, mins(4));
    assert_eq!(t.first_response_p90, mins(10));
    assert_eq!(t.resolution_median, mins(30));
}

#[tokio::test]
async fn the_window_decides_what_counts() {
    let s = scenario().await;
    let d = &s.env.desk;
    // Starts after the claims and the creations, covers the resolution.
    let late = MetricsWindow::new(
        s.start + Duration::minutes(20),
        s.start + Duration::hours(2),
    );
    let m = d.team_metrics(&s.admin, late).await.unwrap();
    let a = row(&m, s.a.user_id());
    assert_eq!((a.claimed, a.resolved, a.open_now), (0, 1, 1));
    assert_eq!(a.first_response_median, None);
    assert_eq!(a.resolution_median, mins(30));
    assert_eq!(
        (m.totals.claimed, m.totals.resolved, m.totals.open_now),
        (0, 1, 3)
    );
    assert_eq!(m.totals.first_response_median, None);

    // Ends before the resolution: T1 is not resolved in it. `to` is exclusive.
    let early = MetricsWindow::new(s.start, s.start + Duration::minutes(30));
    let m = d.team_metrics(&s.admin, early).await.unwrap();
    let a = row(&m, s.a.user_id());
    assert_eq!((a.claimed, a.resolved), (2, 0));
    assert_eq!(a.resolution_median, None);
    assert_eq!(m.totals.resolution_median, None);
    assert_eq!(m.totals.first_response_p90, mins(10));

    // Only the time before the window: B's old ticket, claimed and answered
    // after 1 minute.
    let before = MetricsWindow::new(s.start - Duration::hours(1), s.start);
    let m = d.team_metrics(&s.admin, before).await.unwrap();
    let b = row(&m, s.b.user_id());
    assert_eq!((b.claimed, b.resolved, b.open_now), (1, 0, 2));
    assert_eq!(b.first_response_median, mins(1));
    assert_eq!(row(&m, s.a.user_id()).claimed, 0);
}

#[tokio::test]
async fn agents_see_only_their_own_row_and_the_totals() {
    let s = scenario().await;
    let d = &s.env.desk;
    let window = MetricsWindow::new(s.start, s.start + Duration::hours(2));
    let admin_view = d.team_metrics(&s.admin, window).await.unwrap();

    let m = d.team_metrics(&s.b, window).await.unwrap();
    assert_eq!(m.agents.len(), 1);
    assert_eq!(m.agents[0], *row(&admin_view, s.b.user_id()));
    assert_eq!(m.totals, admin_view.totals);

    let mine = d.my_metrics(&s.a, window).await.unwrap();
    assert_eq!(mine, *row(&admin_view, s.a.user_id()));
    let mine = d.my_metrics(&s.admin, window).await.unwrap();
    assert_eq!(mine.user_id, s.admin.user_id());
    assert_eq!(mine.claimed, 0);
}

#[tokio::test]
async fn customers_are_forbidden() {
    let s = scenario().await;
    let d = &s.env.desk;
    let window = MetricsWindow::new(s.start, s.start + Duration::hours(2));
    assert_eq!(
        d.team_metrics(&s.customer, window)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        d.my_metrics(&s.customer, window).await.unwrap_err().code(),
        ErrorCode::Forbidden
    );
}

#[tokio::test]
async fn a_demoted_agent_keeps_a_row_for_past_work() {
    let s = scenario().await;
    let d = &s.env.desk;
    d.set_role(&s.admin, s.b.user_id(), Role::Customer, &ctx())
        .await
        .unwrap();
    let window = MetricsWindow::new(s.start, s.start + Duration::hours(2));
    let m = d.team_metrics(&s.admin, window).await.unwrap();
    let b = row(&m, s.b.user_id());
    assert_eq!(b.display_name, "Agent B");
    // No longer staff: no current load, but the claim and answer stay.
    assert_eq!((b.claimed, b.open_now), (1, 0));
    assert_eq!(b.first_response_median, mins(4));
    assert_eq!(m.totals.open_now, 1);
}

#[tokio::test]
async fn the_window_is_validated() {
    let s = scenario().await;
    let d = &s.env.desk;
    let t = s.start;
    for window in [
        MetricsWindow::new(t, t),
        MetricsWindow::new(t, t - Duration::minutes(1)),
        MetricsWindow::new(t - Duration::days(367), t),
    ] {
        let err = d.team_metrics(&s.admin, window).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert_eq!(err.violations().len(), 1);
        assert_eq!(err.violations()[0].field, "from");
        assert_eq!(err.violations()[0].code, FieldErrorCode::OutOfRange);
        let err = d.my_metrics(&s.a, window).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
    }
    let year = MetricsWindow::new(t - Duration::days(366), t);
    assert!(d.team_metrics(&s.admin, year).await.is_ok());
}

/// The widget's public status: online staff counted (away and offline not),
/// and the median first response of the last 7 days (None once it is older).
#[tokio::test]
async fn public_status_counts_online_staff_and_the_typical_first_response() {
    use neurochat_core::domain::Availability;
    let s = scenario().await;
    let d = &s.env.desk;
    assert_eq!(d.agents_online().await.unwrap(), 0, "staff start offline");
    d.set_agent_settings(&s.a, s.a.user_id(), Some(Availability::Online), None)
        .await
        .unwrap();
    d.set_agent_settings(&s.b, s.b.user_id(), Some(Availability::Away), None)
        .await
        .unwrap();
    assert_eq!(d.agents_online().await.unwrap(), 1);
    d.set_agent_settings(
        &s.admin,
        s.admin.user_id(),
        Some(Availability::Online),
        None,
    )
    .await
    .unwrap();
    assert_eq!(d.agents_online().await.unwrap(), 2, "admins answer too");

    // First responses after 1 (T0), 2 (T1), 4 (T3) and 10 (T2) minutes;
    // T4 has only an internal note. Nearest-rank median: 2 minutes.
    assert_eq!(d.typical_first_response().await.unwrap(), mins(2));
    s.env.clock.advance(Duration::days(8));
    assert_eq!(d.typical_first_response().await.unwrap(), None);
}
