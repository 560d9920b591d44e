//! A customer's data export and erasure: what the export holds (and never
//! holds), who may ask, and what erasure removes and keeps.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{
    AuditAction, AuditFilter, MessageKind, Role, Ticket, TicketFilter, UserId,
};
use neurochat_core::events::{Event, Topic};
use neurochat_core::ports::{Delivery, UserStore};
use neurochat_core::service::chat::{HistoryPage, PostMessage};
use neurochat_core::service::data_rights::{ERASED_PLACEHOLDER, EXPORT_FORMAT};
use neurochat_core::service::tickets::NewTicket;
use neurochat_core::{Desk, Principal};
use neurochat_protocol::v1::ErrorCode;
use support::{Env, PASSWORD, ctx, env};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

async fn open(desk: &Desk, customer: &Principal, key: &str, subject: &str, body: &str) -> Ticket {
    desk.create_ticket(
        customer,
        NewTicket {
            subject: subject.to_owned(),
            body: body.to_owned(),
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

async fn say(desk: &Desk, who: &Principal, ticket: &Ticket, key: &str, body: &str, internal: bool) {
    desk.post_message(
        who,
        PostMessage {
            ticket_id: ticket.id,
            body: body.to_owned(),
            client_msg_id: format!("msg-{key}"),
            internal,
        },
    )
    .await
    .unwrap();
}

/// Carol has two tickets: the first with an agent reply, an internal note
/// and a second message of hers; Dave has one.
struct Scenario {
    env: Env,
    admin: Principal,
    agent: Principal,
    carol: Principal,
    carol_tokens: neurochat_core::service::auth::AuthTokens,
    dave: Principal,
    zebra: Ticket,
    second: Ticket,
    daves: Ticket,
}

async fn scenario() -> Scenario {
    let env = env();
    let (_, admin) = env.admin().await;
    let (_, agent) = env
        .with_role(&admin, "agent@example.com", Role::Agent)
        .await;
    let cs = env.register("carol@example.com").await;
    let carol = env.principal(&cs).await;
    let ds = env.register("dave@example.com").await;
    let dave = env.principal(&ds).await;
    let d = &env.desk;
    let zebra = open(
        d,
        &carol,
        "z",
        "Refund for zebra order",
        "My zebra umbrella broke.",
    )
    .await;
    d.claim_ticket(&agent, zebra.id, &ctx()).await.unwrap();
    say(d, &agent, &zebra, "a1", "Sorry about the umbrella.", false).await;
    say(
        d,
        &agent,
        &zebra,
        "n1",
        "Secret note: carol is a VIP.",
        true,
    )
    .await;
    say(
        d,
        &carol,
        &zebra,
        "c2",
        "Thanks, I live at 12 Quokka Lane.",
        false,
    )
    .await;
    env.clock.advance(Duration::seconds(1));
    let second = open(d, &carol, "s", "Second question", "Where is my invoice?").await;
    env.clock.advance(Duration::seconds(1));
    let daves = open(d, &dave, "d", "Dave's ticket", "Dave needs a walrus.").await;
    Scenario {
        env,
        admin,
        agent,
        carol,
        carol_tokens: cs.tokens,
        dave,
        zebra,
        second,
        daves,
    }
}

async fn search(s: &Scenario, text: &str) -> Vec<UserId> {
    s.env
        .desk
        .list_tickets(
            &s.admin,
            TicketFilter {
                text: Some(text.to_owned()),
                ..TicketFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.customer_id)
        .collect()
}

fn code(e: neurochat_core::Error) -> ErrorCode {
    e.code()
}

#[tokio::test]
async fn export_holds_own_tickets_and_messages_without_internal_notes() {
    let s = scenario().await;
    let d = &s.env.desk;
    let export = d
        .export_customer_data(&s.carol, s.carol.user_id(), &ctx())
        .await
        .unwrap();
    assert_eq!(export.user.id, s.carol.user_id());
    let ids: Vec<_> = export.tickets.iter().map(|(t, _)| t.id).collect();
    assert_eq!(ids, [s.zebra.id, s.second.id], "own tickets, oldest first");
    let (_, zebra_messages) = &export.tickets[0];
    let kinds: Vec<_> = zebra_messages.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MessageKind::Customer,
            MessageKind::Agent,
            MessageKind::Customer
        ]
    );
    let seqs: Vec<_> = zebra_messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 4], "the internal note (seq 3) is left out");
    assert_eq!(export.tickets[1].1.len(), 1);

    // An admin gets the same export.
    let by_admin = d
        .export_customer_data(&s.admin, s.carol.user_id(), &ctx())
        .await
        .unwrap();
    assert_eq!(by_admin.tickets, export.tickets);
}

#[tokio::test]
async fn export_json_has_explicit_fields_and_no_secrets() {
    let s = scenario().await;
    let d = &s.env.desk;
    let export = d
        .export_customer_data(&s.carol, s.carol.user_id(), &ctx())
        .await
        .unwrap();
    let json = export.to_json();
    let text = json.to_string();

    let hash = s
        .env
        .store
        .fetch_user(s.carol.user_id())
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(!text.contains(&hash), "no password hash");
    assert!(!text.contains("$argon2"), "no password hash");
    assert!(!text.contains("password"), "no password field at all");
    assert!(!text.contains("session"), "no sessions");
    assert!(!text.contains("Secret note"), "no internal notes");
    assert!(!text.contains("internal_note"), "no internal notes");
    assert!(!text.contains("walrus"), "nobody else's tickets");

    assert_eq!(json["format"], EXPORT_FORMAT);
    assert_eq!(json["user"]["id"], s.carol.user_id().to_string());
    assert_eq!(json["user"]["email"], "carol@example.com");
    assert_eq!(json["user"]["role"], "customer");
    let tickets = json["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0]["subject"], "Refund for zebra order");
    assert_eq!(tickets[0]["status"], "in_progress");
    let messages = tickets[0]["messages"].as_array().unwrap();
    let bodies: Vec<_> = messages
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "My zebra umbrella broke.",
            "Sorry about the umbrella.",
            "Thanks, I live at 12 Quokka Lane."
        ]
    );
    assert_eq!(messages[1]["kind"], "agent");
    assert_eq!(messages[1]["author_id"], s.agent.user_id().to_string());

    // Timestamps are RFC 3339 strings that round-trip to the stored values.
    let created = tickets[0]["created_at"].as_str().unwrap();
    assert_eq!(
        OffsetDateTime::parse(created, &Rfc3339).unwrap(),
        s.zebra.created_at
    );
    let at = json["user"]["created_at"].as_str().unwrap();
    assert_eq!(
        OffsetDateTime::parse(at, &Rfc3339).unwrap(),
        export.user.created_at
    );
    assert!(tickets[0]["resolved_at"].is_null());
}

#[tokio::test]
async fn only_the_customer_and_admins_may_export_or_erase() {
    let s = scenario().await;
    let d = &s.env.desk;
    let carol = s.carol.user_id();
    // Another customer must not even learn that Carol exists.
    assert_eq!(
        code(
            d.export_customer_data(&s.dave, carol, &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(d.erase_customer(&s.dave, carol, &ctx()).await.unwrap_err()),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            d.export_customer_data(&s.agent, carol, &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::Forbidden
    );
    assert_eq!(
        code(d.erase_customer(&s.agent, carol, &ctx()).await.unwrap_err()),
        ErrorCode::Forbidden
    );
    // Only customers have data rights requests here.
    assert_eq!(
        code(
            d.export_customer_data(&s.admin, s.agent.user_id(), &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::ValidationFailed
    );
    assert_eq!(
        code(
            d.erase_customer(&s.admin, s.admin.user_id(), &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::ValidationFailed
    );
    let nobody = UserId(uuid::Uuid::nil());
    assert_eq!(
        code(
            d.export_customer_data(&s.admin, nobody, &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(
            d.erase_customer(&s.admin, nobody, &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::NotFound
    );
    // Nothing was erased by the refused calls.
    assert_eq!(search(&s, "zebra").await, [carol]);
}

#[tokio::test]
async fn erasure_anonymises_the_customer_and_keeps_the_rest() {
    let s = scenario().await;
    let d = &s.env.desk;
    let carol = s.carol.user_id();
    assert_eq!(search(&s, "zebra").await, [carol]);
    assert_eq!(search(&s, "quokka").await, [carol]);
    let mut events = d.bus().subscribe(Topic::User(carol)).await.unwrap();

    d.erase_customer(&s.admin, carol, &ctx()).await.unwrap();

    assert_eq!(
        futures_util::StreamExt::next(&mut events).await,
        Some(Delivery::Event(Event::SessionsRevoked {
            user_id: carol,
            session_id: None
        }))
    );
    // She can no longer log in, and her sessions are gone.
    assert_eq!(
        code(
            d.login("carol@example.com", PASSWORD, &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::InvalidCredentials
    );
    assert!(d.authenticate(&s.carol_tokens.access_token).await.is_err());
    assert!(
        d.refresh(&s.carol_tokens.refresh_token, &ctx())
            .await
            .is_err()
    );

    // The profile is anonymised.
    let u = d.get_user(&s.admin, carol).await.unwrap();
    assert_eq!(u.display_name, ERASED_PLACEHOLDER);
    assert_eq!(
        (u.email, u.email_normalized, u.contact_email, u.external_id),
        (None, None, None, None)
    );
    assert!(u.password_hash.is_none());
    assert!(u.disabled);
    assert_eq!(u.role, Role::Customer);

    // Her words are gone; the agent's messages and notes stay.
    let t = d.get_ticket(&s.admin, s.zebra.id).await.unwrap();
    assert_eq!(t.subject, ERASED_PLACEHOLDER);
    let history = d
        .list_messages(&s.admin, s.zebra.id, HistoryPage::After(0), 100)
        .await
        .unwrap();
    let bodies: Vec<_> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            ERASED_PLACEHOLDER,
            "Sorry about the umbrella.",
            "Secret note: carol is a VIP.",
            ERASED_PLACEHOLDER,
        ]
    );

    // Search no longer finds what she wrote (the agent's words still match).
    assert!(search(&s, "zebra").await.is_empty());
    assert!(search(&s, "quokka").await.is_empty());
    assert!(search(&s, "invoice").await.is_empty());
    assert_eq!(search(&s, "umbrella").await, [carol]);

    // The erasure is audited and the older audit trail kept.
    let erased = d
        .list_audit(
            &s.admin,
            AuditFilter {
                action: Some(AuditAction::CustomerDataErased),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].actor_id, Some(s.admin.user_id()));
    assert_eq!(erased[0].target_type.as_deref(), Some("user"));
    assert_eq!(erased[0].target_id, Some(carol.to_string()));
    assert_eq!(erased[0].detail.as_deref(), Some("customer data erased"));
    let registered = d
        .list_audit(
            &s.admin,
            AuditFilter {
                actor_id: Some(carol),
                action: Some(AuditAction::UserRegistered),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(registered.len(), 1);

    // Dave is untouched.
    assert_eq!(search(&s, "walrus").await, [s.dave.user_id()]);
    let dave = d.get_user(&s.admin, s.dave.user_id()).await.unwrap();
    assert_eq!(dave.email.as_deref(), Some("dave@example.com"));
    assert!(!dave.disabled);
    assert_eq!(
        d.get_ticket(&s.admin, s.daves.id).await.unwrap().subject,
        "Dave's ticket"
    );

    // Erasing again is harmless; an export now shows only placeholders.
    d.erase_customer(&s.admin, carol, &ctx()).await.unwrap();
    let export = d
        .export_customer_data(&s.admin, carol, &ctx())
        .await
        .unwrap();
    let text = export.to_json().to_string();
    for word in ["carol@example.com", "zebra", "Quokka", "invoice"] {
        assert!(!text.contains(word), "{word} survived erasure");
    }
    assert!(text.contains("Sorry about the umbrella."));
    assert_eq!(export.tickets.len(), 2);
}

#[tokio::test]
async fn a_customer_may_erase_themselves() {
    let s = scenario().await;
    let d = &s.env.desk;
    d.erase_customer(&s.dave, s.dave.user_id(), &ctx())
        .await
        .unwrap();
    assert_eq!(
        code(
            d.login("dave@example.com", PASSWORD, &ctx())
                .await
                .unwrap_err()
        ),
        ErrorCode::InvalidCredentials
    );
    assert!(search(&s, "walrus").await.is_empty());
    let audit = d
        .list_audit(
            &s.admin,
            AuditFilter {
                action: Some(AuditAction::CustomerDataErased),
                ..AuditFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor_id, Some(s.dave.user_id()));
    // Carol is untouched.
    assert_eq!(search(&s, "zebra").await, [s.carol.user_id()]);
}

#[tokio::test]
async fn export_pages_through_many_tickets_and_messages() {
    let env = env();
    let (_, admin) = env.admin().await;
    let (_, agent) = env
        .with_role(&admin, "agent@example.com", Role::Agent)
        .await;
    let cs = env.register("erin@example.com").await;
    let erin = env.principal(&cs).await;
    let d = &env.desk;
    let mut opened = Vec::new();
    for i in 0..205 {
        env.clock.advance(Duration::seconds(1));
        let t = open(d, &erin, &format!("t{i}"), &format!("Ticket {i}"), "Hello.").await;
        opened.push(t.id);
    }
    env.clock.advance(Duration::seconds(1));
    let busy = open(d, &erin, "busy", "Busy ticket", "First.").await;
    opened.push(busy.id);
    d.claim_ticket(&agent, busy.id, &ctx()).await.unwrap();
    for i in 0..1010 {
        let internal = i % 10 == 0;
        let who = if i % 2 == 0 { &agent } else { &erin };
        say(
            d,
            who,
            &busy,
            &format!("m{i}"),
            &format!("Line {i}."),
            internal,
        )
        .await;
    }

    let export = d
        .export_customer_data(&erin, erin.user_id(), &ctx())
        .await
        .unwrap();
    let ids: Vec<_> = export.tickets.iter().map(|(t, _)| t.id).collect();
    assert_eq!(ids, opened);
    let (_, messages) = export.tickets.last().unwrap();
    // The first message plus 1010 replies, 101 of them internal notes.
    assert_eq!(messages.len(), 1 + 1010 - 101);
    assert!(messages.iter().all(|m| m.kind != MessageKind::InternalNote));
    assert!(messages.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(messages.last().unwrap().seq, 1011);
}
