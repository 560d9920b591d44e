//! The samples of `neurochat_protocol::v1::auth`.

use neurochat_protocol::v1::*;

use super::{at, auth_tokens, customer_view, hmac_identity, jwt_identity, visitor_view};
use crate::{Sample, Unknown, sample};

pub(super) fn auth_samples() -> Vec<Sample> {
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
