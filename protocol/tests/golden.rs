//! Golden wire-format tests.
//!
//! Every wire type has a fixed sample value whose pretty JSON is committed
//! under `tests/golden/<name>.json`, so any change to the wire format is a
//! visible diff in review. Each golden file is also parsed back and compared
//! with its sample (round trip), and request bodies must reject an unknown
//! field while responses and server frames must ignore one.
//!
//! To (re)generate the files after an intentional change:
//! `UPDATE_GOLDEN=1 cargo test -p neurochat-protocol --test golden -- --nocapture`
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use neurochat_protocol::PROTOCOL_VERSION;
use neurochat_protocol::v1::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// How a type must treat a field it does not know.
#[derive(Clone, Copy)]
enum Unknown {
    /// Request bodies and client frames: parsing must fail.
    Rejected,
    /// Responses, views, queries and server frames: the field is ignored.
    Ignored,
    /// Not a struct (a list of enum values, a map of constants): nothing to check.
    Vocabulary,
}

type Check = Box<dyn Fn(&str) -> Result<(), String>>;

struct Sample {
    name: String,
    json: String,
    check: Check,
}

fn sample<T>(name: impl Into<String>, unknown: Unknown, value: T) -> Sample
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + 'static,
{
    let name = name.into();
    let json = serde_json::to_string_pretty(&value).unwrap();
    let check = Box::new(move |text: &str| -> Result<(), String> {
        let parsed: T = serde_json::from_str(text)
            .map_err(|e| format!("golden file does not parse back: {e}"))?;
        if parsed != value {
            return Err(format!(
                "round trip mismatch:\n  parsed: {parsed:?}\n  sample: {value:?}"
            ));
        }
        if let Unknown::Vocabulary = unknown {
            return Ok(());
        }
        let mut object: serde_json::Value = serde_json::from_str(text).unwrap();
        let Some(map) = object.as_object_mut() else {
            return Err("expected a JSON object".to_owned());
        };
        map.insert("unexpected_field".to_owned(), serde_json::Value::Bool(true));
        let extended = serde_json::to_string(&object).unwrap();
        match (unknown, serde_json::from_str::<T>(&extended)) {
            (Unknown::Rejected, Ok(_)) => {
                Err("an unknown field was accepted (missing deny_unknown_fields?)".to_owned())
            }
            (Unknown::Rejected, Err(e)) if !e.to_string().contains("unknown field") => Err(
                format!("an unknown field was rejected for the wrong reason: {e}"),
            ),
            (Unknown::Ignored, Err(e)) => Err(format!("an unknown field was rejected: {e}")),
            _ => Ok(()),
        }
    });
    Sample { name, json, check }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

fn update_requested() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

const HOW_TO_UPDATE: &str =
    "UPDATE_GOLDEN=1 cargo test -p neurochat-protocol --test golden -- --nocapture";

#[test]
fn golden_files() {
    let samples = all_samples();
    let update = update_requested();
    let dir = golden_dir();
    let mut failures = Vec::new();

    let mut names = BTreeSet::new();
    for s in &samples {
        assert!(
            names.insert(s.name.clone()),
            "duplicate sample name {}",
            s.name
        );
    }
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }

    for s in &samples {
        let path = dir.join(format!("{}.json", s.name));
        let expected = format!("{}\n", s.json);
        let current = std::fs::read_to_string(&path)
            .ok()
            .map(|t| t.replace("\r\n", "\n"));
        if update {
            if current.as_deref() != Some(expected.as_str()) {
                std::fs::write(&path, &expected).unwrap();
                let verb = if current.is_some() {
                    "updated"
                } else {
                    "created"
                };
                println!("{verb} {}", path.display());
            }
        } else {
            match &current {
                None => {
                    failures.push(format!(
                        "{}: golden file missing; create it with `{HOW_TO_UPDATE}`",
                        path.display()
                    ));
                    continue;
                }
                Some(actual) if *actual != expected => {
                    failures.push(format!(
                        "{}: wire format changed.\n--- committed\n{actual}+++ now\n{expected}\
                         If the change is intended, run `{HOW_TO_UPDATE}` and commit the diff.",
                        path.display()
                    ));
                    continue;
                }
                Some(_) => {}
            }
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = (s.check)(&text) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }

    // Files no sample produces any more.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "json") && !names.contains(stem) {
                if update {
                    std::fs::remove_file(&path).unwrap();
                    println!("removed stale {}", path.display());
                } else {
                    failures.push(format!(
                        "{}: stale golden file (no sample produces it); delete it or run \
                         `{HOW_TO_UPDATE}`",
                        path.display()
                    ));
                }
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------
// Fixed sample data
// ---------------------------------------------------------------------------

const CUSTOMER: Uuid = Uuid::from_u128(0x11111111_1111_4111_8111_111111111111);
const AGENT: Uuid = Uuid::from_u128(0x22222222_2222_4222_8222_222222222222);
const ADMIN: Uuid = Uuid::from_u128(0x33333333_3333_4333_8333_333333333333);
const TICKET: Uuid = Uuid::from_u128(0x44444444_4444_4444_8444_444444444444);
const MESSAGE: Uuid = Uuid::from_u128(0x55555555_5555_4555_8555_555555555555);
const CATEGORY: Uuid = Uuid::from_u128(0x66666666_6666_4666_8666_666666666666);
const SESSION: Uuid = Uuid::from_u128(0x77777777_7777_4777_8777_777777777777);
const AUDIT_ENTRY: Uuid = Uuid::from_u128(0x88888888_8888_4888_8888_888888888888);

/// 2026-01-01T00:00:00Z plus `minutes`.
fn at(minutes: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600 + minutes * 60).unwrap()
}

fn customer_view() -> UserView {
    UserView {
        id: CUSTOMER,
        email: Some("carla@example.com".to_owned()),
        display_name: "Carla Customer".to_owned(),
        role: Role::Customer,
        disabled: false,
        verified: true,
        created_at: at(0),
    }
}

fn visitor_view() -> UserView {
    UserView {
        id: CUSTOMER,
        email: None,
        display_name: "Visitor 4821".to_owned(),
        role: Role::Customer,
        disabled: false,
        verified: false,
        created_at: at(0),
    }
}

fn ticket_view() -> TicketView {
    TicketView {
        id: TICKET,
        number: 1042,
        subject: "Cannot log in".to_owned(),
        customer_id: CUSTOMER,
        category_id: Some(CATEGORY),
        priority: Priority::High,
        status: TicketStatus::Resolved,
        assignee_id: Some(AGENT),
        created_at: at(10),
        updated_at: at(45),
        first_response_at: Some(at(12)),
        resolved_at: Some(at(45)),
        last_seq: 7,
    }
}

fn new_ticket_view() -> TicketView {
    TicketView {
        id: TICKET,
        number: 1043,
        subject: "Billing question".to_owned(),
        customer_id: CUSTOMER,
        category_id: None,
        priority: Priority::Normal,
        status: TicketStatus::New,
        assignee_id: None,
        created_at: at(10),
        updated_at: at(10),
        first_response_at: None,
        resolved_at: None,
        last_seq: 1,
    }
}

fn message_view() -> MessageView {
    MessageView {
        id: MESSAGE,
        ticket_id: TICKET,
        seq: 7,
        author_id: Some(AGENT),
        kind: MessageKind::Agent,
        body: "Please try resetting your password.".to_owned(),
        client_msg_id: Some("c-7f3a".to_owned()),
        created_at: at(44),
    }
}

fn receipt_view() -> ReceiptView {
    ReceiptView {
        ticket_id: TICKET,
        user_id: CUSTOMER,
        delivered_seq: 7,
        read_seq: 6,
    }
}

fn category_view() -> CategoryView {
    CategoryView {
        id: CATEGORY,
        name: "Billing".to_owned(),
        archived: false,
        created_at: at(0),
    }
}

fn agent_view() -> AgentView {
    AgentView {
        id: AGENT,
        display_name: "Ana Agent".to_owned(),
        availability: Availability::Online,
        capacity: 5,
    }
}

fn auth_tokens() -> AuthTokens {
    AuthTokens {
        access_token: "eyJhbGciOiJIUzI1NiJ9.access.sig".to_owned(),
        access_expires_at: at(15),
        refresh_token: "rt_0123456789abcdef".to_owned(),
        refresh_expires_at: at(60 * 24 * 30),
        session_id: SESSION,
    }
}

fn hmac_identity() -> HostIdentity {
    HostIdentity::Hmac {
        user_id: "host-user-42".to_owned(),
        email: Some("carla@example.com".to_owned()),
        name: Some("Carla Customer".to_owned()),
        signature: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
    }
}

fn jwt_identity() -> HostIdentity {
    HostIdentity::Jwt {
        token: "eyJhbGciOiJIUzI1NiJ9.host.sig".to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Samples, one module at a time
// ---------------------------------------------------------------------------

fn all_samples() -> Vec<Sample> {
    let mut all = Vec::new();
    all.extend(common_samples());
    all.extend(error_samples());
    all.extend(auth_samples());
    all.extend(user_samples());
    all.extend(audit_samples());
    all.extend(ticket_samples());
    all.extend(message_samples());
    all.extend(frame_samples());
    all
}

fn common_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "common.page",
            Ignored,
            Page::new(vec![agent_view()], Some("eyJrIjoiMjAyNiJ9".to_owned())),
        ),
        sample("common.page.last", Ignored, Page::<AgentView>::last(vec![])),
        sample("common.role", Vocabulary, Role::ALL.to_vec()),
        sample(
            "common.availability",
            Vocabulary,
            Availability::ALL.to_vec(),
        ),
    ]
}

fn error_samples() -> Vec<Sample> {
    use Unknown::*;
    let mut out = vec![
        sample("error.error_code", Vocabulary, ErrorCode::ALL.to_vec()),
        sample(
            "error.field_error_code",
            Vocabulary,
            vec![
                FieldErrorCode::Required,
                FieldErrorCode::TooShort,
                FieldErrorCode::TooLong,
                FieldErrorCode::InvalidFormat,
                FieldErrorCode::InvalidCharacters,
                FieldErrorCode::OutOfRange,
                FieldErrorCode::InvalidChoice,
            ],
        ),
    ];
    for &code in ErrorCode::ALL {
        let body = if code == ErrorCode::ValidationFailed {
            ErrorBody::validation(
                "Some fields are invalid.",
                vec![
                    FieldError::new("email", FieldErrorCode::InvalidFormat, "Not an email."),
                    FieldError::new(
                        "password",
                        FieldErrorCode::TooShort,
                        "At least 12 characters.",
                    ),
                ],
            )
        } else {
            ErrorBody::new(code, format!("Example message for {code}."))
        };
        out.push(sample(format!("error.error_body.{code}"), Ignored, body));
    }
    out
}

fn auth_samples() -> Vec<Sample> {
    use Unknown::*;
    let mut out = vec![
        sample(
            "auth.register_request",
            Rejected,
            RegisterRequest {
                email: "carla@example.com".to_owned(),
                password: "correct horse battery staple".to_owned(),
                display_name: "Carla Customer".to_owned(),
            },
        ),
        sample(
            "auth.login_request",
            Rejected,
            LoginRequest {
                email: "carla@example.com".to_owned(),
                password: "correct horse battery staple".to_owned(),
            },
        ),
        sample(
            "auth.refresh_request",
            Rejected,
            RefreshRequest {
                refresh_token: "rt_0123456789abcdef".to_owned(),
            },
        ),
        sample(
            "auth.logout_request",
            Rejected,
            LogoutRequest {
                refresh_token: Some("rt_0123456789abcdef".to_owned()),
            },
        ),
        sample(
            "auth.logout_request.empty",
            Rejected,
            LogoutRequest {
                refresh_token: None,
            },
        ),
        sample(
            "auth.password_reset_request",
            Rejected,
            PasswordResetRequest {
                email: "carla@example.com".to_owned(),
            },
        ),
        sample(
            "auth.password_reset_confirm",
            Rejected,
            PasswordResetConfirm {
                token: "prt_fedcba9876543210".to_owned(),
                new_password: "another long passphrase".to_owned(),
            },
        ),
        sample(
            "auth.change_password_request",
            Rejected,
            ChangePasswordRequest {
                old_password: "correct horse battery staple".to_owned(),
                new_password: "another long passphrase".to_owned(),
            },
        ),
        sample("auth.auth_tokens", Ignored, auth_tokens()),
        sample(
            "auth.auth_response",
            Ignored,
            AuthResponse {
                user: customer_view(),
                tokens: auth_tokens(),
            },
        ),
        sample(
            "auth.visitor_session_request.anonymous",
            Rejected,
            VisitorSessionRequest {
                identity: None,
                display_name: Some("Carla".to_owned()),
                email: Some("carla@example.com".to_owned()),
            },
        ),
        sample(
            "auth.visitor_session_request.identified",
            Rejected,
            VisitorSessionRequest {
                identity: Some(hmac_identity()),
                display_name: None,
                email: None,
            },
        ),
        sample(
            "auth.visitor_session_response",
            Ignored,
            VisitorSessionResponse {
                visitor_token: "vt_0123456789abcdef".to_owned(),
                expires_at: at(60 * 24),
                user: visitor_view(),
            },
        ),
        sample(
            "auth.visitor_profile_request",
            Rejected,
            VisitorProfileRequest {
                display_name: Some("Carla".to_owned()),
                email: Some("carla@example.com".to_owned()),
            },
        ),
    ];

    // Every HostIdentity variant. Adding a variant breaks this match; give it
    // the next index, grow the array and add a sample above.
    let identities = [
        hmac_identity(),
        HostIdentity::Hmac {
            user_id: "host-user-43".to_owned(),
            email: None,
            name: None,
            signature: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
                .to_owned(),
        },
        jwt_identity(),
    ];
    let mut seen = [false; 2];
    let mut hmac_count = 0;
    for identity in identities {
        let (index, name) = match &identity {
            HostIdentity::Hmac { .. } => {
                hmac_count += 1;
                let name = if hmac_count == 1 {
                    "hmac"
                } else {
                    "hmac.minimal"
                };
                (0, name)
            }
            HostIdentity::Jwt { .. } => (1, "jwt"),
        };
        seen[index] = true;
        out.push(sample(
            format!("auth.host_identity.{name}"),
            Rejected,
            identity,
        ));
    }
    assert!(
        seen.iter().all(|s| *s),
        "a HostIdentity variant has no sample"
    );
    out
}

fn user_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample("users.user_view", Ignored, customer_view()),
        sample("users.user_view.visitor", Ignored, visitor_view()),
        sample("users.agent_view", Ignored, agent_view()),
        sample(
            "users.update_profile_request",
            Rejected,
            UpdateProfileRequest {
                display_name: "Carla C.".to_owned(),
            },
        ),
        sample(
            "users.change_email_request",
            Rejected,
            ChangeEmailRequest {
                new_email: "carla@new.example.com".to_owned(),
                password: "correct horse battery staple".to_owned(),
            },
        ),
        sample(
            "users.set_role_request",
            Rejected,
            SetRoleRequest { role: Role::Agent },
        ),
        sample(
            "users.set_disabled_request",
            Rejected,
            SetDisabledRequest { disabled: true },
        ),
        sample(
            "users.agent_settings_request",
            Rejected,
            AgentSettingsRequest {
                availability: Some(Availability::Away),
                capacity: Some(8),
            },
        ),
        sample(
            "users.user_query",
            Ignored,
            UserQuery {
                search: Some("carla".to_owned()),
                role: Some(Role::Customer),
                disabled: Some(false),
                cursor: Some("eyJrIjoiMjAyNiJ9".to_owned()),
                limit: Some(50),
            },
        ),
        sample("users.user_query.empty", Ignored, UserQuery::default()),
    ]
}

fn audit_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample("audit.audit_action", Vocabulary, AuditAction::ALL.to_vec()),
        sample(
            "audit.audit_entry_view",
            Ignored,
            AuditEntryView {
                id: AUDIT_ENTRY,
                at: at(30),
                actor_id: Some(ADMIN),
                action: AuditAction::RoleChanged,
                target_type: Some("user".to_owned()),
                target_id: Some(AGENT.to_string()),
                source_ip: Some("203.0.113.7".to_owned()),
                detail: Some("customer -> agent".to_owned()),
            },
        ),
        sample(
            "audit.audit_entry_view.anonymous",
            Ignored,
            AuditEntryView {
                id: AUDIT_ENTRY,
                at: at(31),
                actor_id: None,
                action: AuditAction::LoginFailed,
                target_type: None,
                target_id: None,
                source_ip: None,
                detail: None,
            },
        ),
        sample(
            "audit.audit_query",
            Ignored,
            AuditQuery {
                actor_id: Some(ADMIN),
                action: Some(AuditAction::RoleChanged),
                from: Some(at(0)),
                to: Some(at(60)),
                cursor: Some("eyJrIjoiMjAyNiJ9".to_owned()),
                limit: Some(100),
            },
        ),
    ]
}

fn ticket_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "tickets.ticket_status",
            Vocabulary,
            TicketStatus::ALL.to_vec(),
        ),
        sample("tickets.priority", Vocabulary, Priority::ALL.to_vec()),
        sample("tickets.ticket_sort", Vocabulary, TicketSort::ALL.to_vec()),
        sample("tickets.ticket_view", Ignored, ticket_view()),
        sample("tickets.ticket_view.new", Ignored, new_ticket_view()),
        sample(
            "tickets.create_ticket_request",
            Rejected,
            CreateTicketRequest {
                subject: "Cannot log in".to_owned(),
                body: "The login page says my password is wrong.".to_owned(),
                client_msg_id: "c-1a2b".to_owned(),
                category_id: Some(CATEGORY),
                priority: Some(Priority::High),
            },
        ),
        sample(
            "tickets.update_ticket_request",
            Rejected,
            UpdateTicketRequest {
                status: Some(TicketStatus::InProgress),
                priority: Some(Priority::Urgent),
                category_id: Some(CATEGORY),
            },
        ),
        sample(
            "tickets.assign_request",
            Rejected,
            AssignRequest {
                assignee_id: Some(AGENT),
            },
        ),
        sample(
            "tickets.assign_request.unassign",
            Rejected,
            AssignRequest { assignee_id: None },
        ),
        sample(
            "tickets.ticket_query",
            Ignored,
            TicketQuery {
                status: Some(vec![TicketStatus::New, TicketStatus::InProgress]),
                category_id: Some(CATEGORY),
                priority: Some(Priority::High),
                assignee: Some("unassigned".to_owned()),
                customer_id: Some(CUSTOMER),
                q: Some("password".to_owned()),
                created_from: Some(at(0)),
                created_to: Some(at(60)),
                updated_from: Some(at(0)),
                updated_to: Some(at(120)),
                sort: Some(TicketSort::Priority),
                cursor: Some("eyJrIjoiMjAyNiJ9".to_owned()),
                limit: Some(25),
            },
        ),
        sample("tickets.category_view", Ignored, category_view()),
        sample(
            "tickets.create_category_request",
            Rejected,
            CreateCategoryRequest {
                name: "Billing".to_owned(),
            },
        ),
        sample(
            "tickets.update_category_request",
            Rejected,
            UpdateCategoryRequest {
                name: Some("Invoices".to_owned()),
                archived: Some(true),
            },
        ),
    ]
}

fn message_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "messages.message_kind",
            Vocabulary,
            MessageKind::ALL.to_vec(),
        ),
        sample("messages.message_view", Ignored, message_view()),
        sample(
            "messages.message_view.system",
            Ignored,
            MessageView {
                id: MESSAGE,
                ticket_id: TICKET,
                seq: 3,
                author_id: None,
                kind: MessageKind::System,
                body: "Ticket assigned to Ana Agent.".to_owned(),
                client_msg_id: None,
                created_at: at(11),
            },
        ),
        sample(
            "messages.send_message_request",
            Rejected,
            SendMessageRequest {
                body: "Checking the logs now.".to_owned(),
                client_msg_id: "c-9d8e".to_owned(),
                internal: Some(true),
            },
        ),
        sample(
            "messages.receipt_request",
            Rejected,
            ReceiptRequest {
                delivered_seq: Some(7),
                read_seq: Some(6),
            },
        ),
        sample("messages.receipt_view", Ignored, receipt_view()),
        sample(
            "messages.history_query",
            Ignored,
            HistoryQuery {
                before_seq: Some(50),
                after_seq: Some(10),
                limit: Some(20),
            },
        ),
    ]
}

fn client_frames() -> Vec<ClientFrame> {
    vec![
        ClientFrame::Auth {
            token: "eyJhbGciOiJIUzI1NiJ9.access.sig".to_owned(),
        },
        ClientFrame::Subscribe {
            req: 1,
            ticket_id: TICKET,
            last_seq: 5,
        },
        ClientFrame::SubscribeInbox { req: 2 },
        ClientFrame::Unsubscribe {
            req: 3,
            ticket_id: TICKET,
        },
        ClientFrame::Send {
            req: 4,
            ticket_id: TICKET,
            client_msg_id: "c-7f3a".to_owned(),
            body: "Please try resetting your password.".to_owned(),
            internal: false,
        },
        ClientFrame::CreateTicket {
            req: 5,
            subject: "Cannot log in".to_owned(),
            body: "The login page says my password is wrong.".to_owned(),
            client_msg_id: "c-1a2b".to_owned(),
            category_id: Some(CATEGORY),
        },
        ClientFrame::TypingStart { ticket_id: TICKET },
        ClientFrame::TypingStop { ticket_id: TICKET },
        ClientFrame::MarkDelivered {
            ticket_id: TICKET,
            seq: 7,
        },
        ClientFrame::MarkRead {
            ticket_id: TICKET,
            seq: 6,
        },
        ClientFrame::SetAvailability {
            req: 6,
            availability: Availability::Away,
        },
        ClientFrame::Claim {
            req: 7,
            ticket_id: TICKET,
        },
        ClientFrame::Ping { nonce: Some(42) },
    ]
}

fn server_frames() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Hello {
            protocol: PROTOCOL_VERSION,
            session_id: SESSION,
            server_time: at(20),
            limits: Limits {
                max_frame_bytes: 65_536,
                max_body_chars: 10_000,
                messages_per_minute: 60,
            },
        },
        ServerFrame::Reauth { expires_at: at(35) },
        ServerFrame::Ack {
            req: 5,
            message_id: Some(MESSAGE),
            seq: Some(1),
            ticket_id: Some(TICKET),
        },
        ServerFrame::Message {
            message: message_view(),
        },
        ServerFrame::Receipt {
            receipt: receipt_view(),
        },
        ServerFrame::Typing {
            ticket_id: TICKET,
            user_id: AGENT,
            active: true,
        },
        ServerFrame::TicketEvent {
            ticket: ticket_view(),
            change: TicketChange::Status,
        },
        ServerFrame::Availability {
            user_id: AGENT,
            availability: Availability::Online,
        },
        ServerFrame::Escalation {
            ticket_id: TICKET,
            reason: "No agent reply for 30 minutes.".to_owned(),
        },
        ServerFrame::Error {
            req: Some(4),
            error: ErrorBody::new(ErrorCode::TicketClosed, "The ticket is closed."),
        },
        ServerFrame::Pong {
            nonce: Some(42),
            server_time: at(21),
        },
    ]
}

fn frame_samples() -> Vec<Sample> {
    use Unknown::*;
    let mut out = vec![
        sample(
            "frames.ticket_change",
            Vocabulary,
            TicketChange::ALL.to_vec(),
        ),
        sample(
            "frames.close_codes",
            Vocabulary,
            close_codes::ALL
                .iter()
                .map(|&c| (close_codes::name(c).unwrap().to_owned(), c))
                .collect::<BTreeMap<String, u16>>(),
        ),
    ];

    // Every ClientFrame variant. Adding a variant breaks this match; give it
    // the next index, grow the array and add a frame to `client_frames`.
    let mut seen = [false; 13];
    for frame in client_frames() {
        let (index, name) = match &frame {
            ClientFrame::Auth { .. } => (0, "auth"),
            ClientFrame::Subscribe { .. } => (1, "subscribe"),
            ClientFrame::SubscribeInbox { .. } => (2, "subscribe_inbox"),
            ClientFrame::Unsubscribe { .. } => (3, "unsubscribe"),
            ClientFrame::Send { .. } => (4, "send"),
            ClientFrame::CreateTicket { .. } => (5, "create_ticket"),
            ClientFrame::TypingStart { .. } => (6, "typing_start"),
            ClientFrame::TypingStop { .. } => (7, "typing_stop"),
            ClientFrame::MarkDelivered { .. } => (8, "mark_delivered"),
            ClientFrame::MarkRead { .. } => (9, "mark_read"),
            ClientFrame::SetAvailability { .. } => (10, "set_availability"),
            ClientFrame::Ping { .. } => (11, "ping"),
            ClientFrame::Claim { .. } => (12, "claim"),
        };
        seen[index] = true;
        out.push(sample(format!("frames.client.{name}"), Rejected, frame));
    }
    assert!(
        seen.iter().all(|s| *s),
        "a ClientFrame variant has no sample"
    );

    // Every ServerFrame variant; same rule as above.
    let mut seen = [false; 11];
    for frame in server_frames() {
        let (index, name) = match &frame {
            ServerFrame::Hello { .. } => (0, "hello"),
            ServerFrame::Reauth { .. } => (1, "reauth"),
            ServerFrame::Ack { .. } => (2, "ack"),
            ServerFrame::Message { .. } => (3, "message"),
            ServerFrame::Receipt { .. } => (4, "receipt"),
            ServerFrame::Typing { .. } => (5, "typing"),
            ServerFrame::TicketEvent { .. } => (6, "ticket_event"),
            ServerFrame::Availability { .. } => (7, "availability"),
            ServerFrame::Escalation { .. } => (8, "escalation"),
            ServerFrame::Error { .. } => (9, "error"),
            ServerFrame::Pong { .. } => (10, "pong"),
        };
        seen[index] = true;
        out.push(sample(format!("frames.server.{name}"), Ignored, frame));
    }
    assert!(
        seen.iter().all(|s| *s),
        "a ServerFrame variant has no sample"
    );

    // Minimal forms: optional fields omitted.
    out.push(sample(
        "frames.client.ping.minimal",
        Rejected,
        ClientFrame::Ping { nonce: None },
    ));
    out.push(sample(
        "frames.server.ack.minimal",
        Ignored,
        ServerFrame::Ack {
            req: 1,
            message_id: None,
            seq: None,
            ticket_id: None,
        },
    ));
    out.push(sample(
        "frames.server.error.connection",
        Ignored,
        ServerFrame::Error {
            req: None,
            error: ErrorBody::new(ErrorCode::MalformedRequest, "The frame is not valid JSON."),
        },
    ));
    out
}
