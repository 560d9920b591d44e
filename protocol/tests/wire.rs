//! Wire behaviour beyond the golden files: stable enum strings, tag handling,
//! defaults, close codes and redacted `Debug` output of secret-holding types.
#![allow(clippy::unwrap_used)]

use neurochat_protocol::v1::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use uuid::Uuid;

const TICKET: Uuid = Uuid::from_u128(0x44444444_4444_4444_8444_444444444444);

fn at0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

/// Each value serialises to exactly `as_str` and parses back from it.
fn assert_strings<T>(all: &[T], as_str: impl Fn(T) -> &'static str)
where
    T: Copy + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let mut seen = std::collections::HashSet::new();
    for &value in all {
        let s = as_str(value);
        assert!(seen.insert(s), "duplicate string {s}");
        assert_eq!(serde_json::to_value(value).unwrap(), serde_json::json!(s));
        let parsed: T = serde_json::from_value(serde_json::json!(s)).unwrap();
        assert_eq!(parsed, value);
    }
}

#[test]
fn error_code_all_serialises_as_as_str() {
    assert_strings(ErrorCode::ALL, ErrorCode::as_str);
    for &code in ErrorCode::ALL {
        assert_eq!(code.to_string(), code.as_str());
    }
}

#[test]
fn error_code_all_is_complete() {
    // Adding a code breaks this match; give it the next index and grow the array.
    let mut seen = [false; 26];
    for &code in ErrorCode::ALL {
        let index = match code {
            ErrorCode::ValidationFailed => 0,
            ErrorCode::MalformedRequest => 1,
            ErrorCode::Unauthenticated => 2,
            ErrorCode::InvalidCredentials => 3,
            ErrorCode::TokenExpired => 4,
            ErrorCode::TokenInvalid => 5,
            ErrorCode::SessionRevoked => 6,
            ErrorCode::RefreshTokenReused => 7,
            ErrorCode::AccountDisabled => 8,
            ErrorCode::Forbidden => 9,
            ErrorCode::NotFound => 10,
            ErrorCode::EmailTaken => 11,
            ErrorCode::NameTaken => 12,
            ErrorCode::Conflict => 13,
            ErrorCode::ResetTokenInvalid => 14,
            ErrorCode::IdentityRequired => 15,
            ErrorCode::IdentityInvalid => 16,
            ErrorCode::AlreadyClaimed => 17,
            ErrorCode::InvalidTransition => 18,
            ErrorCode::TicketClosed => 19,
            ErrorCode::CategoryArchived => 20,
            ErrorCode::RateLimited => 21,
            ErrorCode::PayloadTooLarge => 22,
            ErrorCode::Unsupported => 23,
            ErrorCode::Unavailable => 24,
            ErrorCode::Internal => 25,
        };
        assert!(!seen[index], "{code} listed twice in ErrorCode::ALL");
        seen[index] = true;
    }
    assert!(seen.iter().all(|s| *s), "ErrorCode::ALL misses a code");
}

#[test]
fn vocabulary_enums_serialise_as_as_str() {
    assert_strings(Role::ALL, Role::as_str);
    assert_strings(Availability::ALL, Availability::as_str);
    assert_strings(AuditAction::ALL, AuditAction::as_str);
    assert_strings(TicketStatus::ALL, TicketStatus::as_str);
    assert_strings(Priority::ALL, Priority::as_str);
    assert_strings(TicketSort::ALL, TicketSort::as_str);
    assert_strings(MessageKind::ALL, MessageKind::as_str);
    assert_strings(TicketChange::ALL, TicketChange::as_str);
    assert_eq!(AuditAction::ALL.len(), 21);
}

#[test]
fn unknown_enum_string_is_rejected() {
    assert!(serde_json::from_str::<Role>(r#""superuser""#).is_err());
    assert!(serde_json::from_str::<TicketStatus>(r#""InProgress""#).is_err());
    assert!(serde_json::from_str::<ErrorCode>(r#""teapot""#).is_err());
}

#[test]
fn unknown_type_tag_fails_to_parse() {
    for text in [
        r#"{"type":"bogus"}"#,
        r#"{"type":"bogus","req":1}"#,
        r#"{"type":"Send","req":1}"#,
        r#"{"req":1}"#,
    ] {
        assert!(
            serde_json::from_str::<ClientFrame>(text).is_err(),
            "ClientFrame accepted {text}"
        );
        assert!(
            serde_json::from_str::<ServerFrame>(text).is_err(),
            "ServerFrame accepted {text}"
        );
    }
    for text in [r#"{"method":"oauth","token":"x"}"#, r#"{"token":"x"}"#] {
        assert!(
            serde_json::from_str::<HostIdentity>(text).is_err(),
            "HostIdentity accepted {text}"
        );
    }
}

#[test]
fn send_frame_internal_defaults_to_false() {
    let frame: ClientFrame = serde_json::from_str(&format!(
        r#"{{"type":"send","req":9,"ticket_id":"{TICKET}","client_msg_id":"c-1","body":"hi"}}"#
    ))
    .unwrap();
    assert_eq!(
        frame,
        ClientFrame::Send {
            req: 9,
            ticket_id: TICKET,
            client_msg_id: "c-1".to_owned(),
            body: "hi".to_owned(),
            internal: false,
        }
    );
    assert_eq!(frame.req(), Some(9));
}

#[test]
fn optional_fields_accept_null_and_absence() {
    let a: AssignRequest = serde_json::from_str(r#"{"assignee_id":null}"#).unwrap();
    let b: AssignRequest = serde_json::from_str("{}").unwrap();
    assert_eq!(a, AssignRequest { assignee_id: None });
    assert_eq!(a, b);
    let ping: ClientFrame = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
    assert_eq!(ping, ClientFrame::Ping { nonce: None });
    assert_eq!(ping.req(), None);
}

#[test]
fn missing_required_field_is_rejected() {
    assert!(serde_json::from_str::<LoginRequest>(r#"{"email":"a@b.c"}"#).is_err());
    assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"subscribe","req":1}"#).is_err());
}

#[test]
fn timestamps_are_rfc3339_and_accept_offsets() {
    let json = serde_json::to_value(ServerFrame::Reauth { expires_at: at0() }).unwrap();
    assert_eq!(json["expires_at"], "2026-01-01T00:00:00Z");
    let parsed: ServerFrame =
        serde_json::from_str(r#"{"type":"reauth","expires_at":"2026-01-01T01:00:00+01:00"}"#)
            .unwrap();
    let ServerFrame::Reauth { expires_at } = parsed else {
        panic!("expected reauth, got {parsed:?}");
    };
    assert_eq!(expires_at, at0());
    assert!(
        serde_json::from_str::<ServerFrame>(r#"{"type":"reauth","expires_at":1767225600}"#)
            .is_err()
    );
}

#[test]
fn priority_is_ordered_low_to_urgent() {
    assert!(Priority::Low < Priority::Normal);
    assert!(Priority::Normal < Priority::High);
    assert!(Priority::High < Priority::Urgent);
    assert_eq!(Priority::default(), Priority::Normal);
}

#[test]
fn close_codes_match_the_spec() {
    assert_eq!(close_codes::AUTH_TIMEOUT, 4001);
    assert_eq!(close_codes::AUTH_FAILED, 4002);
    assert_eq!(close_codes::TOKEN_EXPIRED, 4003);
    assert_eq!(close_codes::SLOW_CONSUMER, 4008);
    assert_eq!(close_codes::RATE_LIMITED, 4009);
    assert_eq!(close_codes::FRAME_TOO_LARGE, 4010);
    assert_eq!(close_codes::SESSION_REVOKED, 4011);
    assert_eq!(close_codes::TOO_MANY_CONNECTIONS, 4012);
    assert_eq!(close_codes::PROTOCOL_VIOLATION, 4000);
    assert_eq!(close_codes::GOING_AWAY, 1001);
    assert!(close_codes::ALL.windows(2).all(|w| w[0] < w[1]));
    for &code in close_codes::ALL {
        assert!((4000..5000).contains(&code) || code == close_codes::GOING_AWAY);
        assert!(close_codes::name(code).is_some());
    }
    assert_eq!(close_codes::name(1000), None);
}

const SECRET: &str = "hunter2-TOP-SECRET";

/// Neither `{:?}` nor `{:#?}` may contain the secret; both must show `***`.
fn assert_redacted(value: &impl std::fmt::Debug) {
    for text in [format!("{value:?}"), format!("{value:#?}")] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(text.contains("***"), "no redaction marker: {text}");
    }
}

fn user() -> UserView {
    UserView {
        id: Uuid::from_u128(1),
        email: Some("carla@example.com".to_owned()),
        display_name: "Carla".to_owned(),
        role: Role::Customer,
        disabled: false,
        verified: true,
        created_at: at0(),
    }
}

fn tokens() -> AuthTokens {
    AuthTokens {
        access_token: SECRET.to_owned(),
        access_expires_at: at0(),
        refresh_token: SECRET.to_owned(),
        refresh_expires_at: at0(),
        session_id: Uuid::from_u128(2),
    }
}

#[test]
fn debug_redacts_secrets() {
    let s = || SECRET.to_owned();
    assert_redacted(&RegisterRequest {
        email: "carla@example.com".to_owned(),
        password: s(),
        display_name: "Carla".to_owned(),
    });
    assert_redacted(&LoginRequest {
        email: "carla@example.com".to_owned(),
        password: s(),
    });
    assert_redacted(&RefreshRequest { refresh_token: s() });
    assert_redacted(&LogoutRequest {
        refresh_token: Some(s()),
    });
    assert_redacted(&PasswordResetConfirm {
        token: s(),
        new_password: s(),
    });
    assert_redacted(&ChangePasswordRequest {
        old_password: s(),
        new_password: s(),
    });
    assert_redacted(&tokens());
    assert_redacted(&AuthResponse {
        user: user(),
        tokens: tokens(),
    });
    let hmac = HostIdentity::Hmac {
        user_id: "host-user-42".to_owned(),
        email: None,
        name: None,
        signature: s(),
    };
    assert_redacted(&hmac);
    assert_redacted(&HostIdentity::Jwt { token: s() });
    assert_redacted(&VisitorSessionRequest {
        identity: Some(hmac),
        display_name: None,
        email: None,
    });
    assert_redacted(&VisitorSessionResponse {
        visitor_token: s(),
        expires_at: at0(),
        user: user(),
    });
    assert_redacted(&ChangeEmailRequest {
        new_email: "carla@new.example.com".to_owned(),
        password: s(),
    });
    assert_redacted(&ClientFrame::Auth { token: s() });
}

#[test]
fn debug_keeps_non_secret_fields() {
    let text = format!(
        "{:?}",
        LoginRequest {
            email: "carla@example.com".to_owned(),
            password: SECRET.to_owned(),
        }
    );
    assert_eq!(
        text,
        r#"LoginRequest { email: "carla@example.com", password: *** }"#
    );
    let text = format!(
        "{:?}",
        LogoutRequest {
            refresh_token: None
        }
    );
    assert_eq!(text, "LogoutRequest { refresh_token: None }");
    let text = format!(
        "{:?}",
        ClientFrame::Send {
            req: 1,
            ticket_id: TICKET,
            client_msg_id: "c-1".to_owned(),
            body: "hello".to_owned(),
            internal: true,
        }
    );
    assert!(text.starts_with("Send { req: 1,"), "{text}");
    assert!(text.contains(r#"body: "hello""#), "{text}");
}

#[test]
fn wrong_types_empty_and_oversized_bodies_are_parse_errors_not_panics() {
    use neurochat_protocol::v1::{LoginRequest, RegisterRequest};
    for bad in [
        "",
        "null",
        "[]",
        r#"{"email":5,"password":"x","display_name":"y"}"#,
        r#"{"email":"a@b.c","password":["x"],"display_name":"y"}"#,
        r#"{"email":"a@b.c","password":"x"}"#,
        r#"{"email":"a@b.c","password":"x","display_name":"y","role":"admin"}"#,
    ] {
        assert!(
            serde_json::from_str::<RegisterRequest>(bad).is_err(),
            "{bad}"
        );
    }
    let deep = "[".repeat(10_000);
    assert!(serde_json::from_str::<LoginRequest>(&deep).is_err());
    assert!(
        serde_json::from_str::<ClientFrame>(
            r#"{"type":"subscribe","req":-1,"ticket_id":"x","last_seq":0}"#
        )
        .is_err()
    );
}
