//! Passwords in the console: the client-side checks of a new password
//! (the server's own limits, so the form says what the server would), the
//! reset link's token in the address (`#/reset?token=…`), and the words
//! shown for the server's stable error codes of
//! `POST /api/v1/auth/change-password`, `/password-reset` and
//! `/password-reset/confirm`. See `docs/CONSOLE.md`, "Passwords".

use neurochat_protocol::v1::{ErrorBody, ErrorCode, FieldErrorCode};

/// The shortest password the server accepts (core's
/// `validate::PASSWORD_MIN`, checked by a test), in characters.
pub const MIN_CHARS: usize = 8;
/// The longest password the server accepts (core's
/// `validate::PASSWORD_MAX`), in characters.
pub const MAX_CHARS: usize = 128;

/// What the reset request form says once the server accepted it, whether
/// or not the address belongs to an account (the server does not tell).
pub const RESET_SENT: &str = "If an account exists for that address, we have sent it a link to \
     choose a new password. The link works once and expires soon.";

/// What the login form says after a reset.
pub const RESET_DONE: &str = "Your password was changed. Log in with the new one.";

/// What the change-password form says once the server accepted it.
pub const CHANGED: &str = "Your password was changed. Your other sessions were signed out; \
     this one stays signed in.";

/// A new password the form will not send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The current password is empty (change password only).
    CurrentMissing,
    /// Shorter than [`MIN_CHARS`].
    TooShort,
    /// Longer than [`MAX_CHARS`].
    TooLong,
    /// The confirmation differs.
    Mismatch,
    /// The new password equals the current one (change password only).
    Unchanged,
}

impl Problem {
    /// The message shown for it.
    pub fn message(self) -> String {
        match self {
            Problem::CurrentMissing => "Enter your current password.".to_owned(),
            Problem::TooShort => {
                format!("The new password must be at least {MIN_CHARS} characters long.")
            }
            Problem::TooLong => {
                format!("The new password must be at most {MAX_CHARS} characters long.")
            }
            Problem::Mismatch => "The two new passwords do not match.".to_owned(),
            Problem::Unchanged => "The new password must differ from the current one.".to_owned(),
        }
    }

    /// Which field to focus: `current`, `new` or `confirm`.
    pub fn field(self) -> &'static str {
        match self {
            Problem::CurrentMissing => "current",
            Problem::TooShort | Problem::TooLong | Problem::Unchanged => "new",
            Problem::Mismatch => "confirm",
        }
    }
}

/// Checks a new password and its confirmation (lengths in characters, as
/// the server counts them).
pub fn check_new(new: &str, confirm: &str) -> Result<(), Problem> {
    let n = new.chars().count();
    if n < MIN_CHARS {
        Err(Problem::TooShort)
    } else if n > MAX_CHARS {
        Err(Problem::TooLong)
    } else if new != confirm {
        Err(Problem::Mismatch)
    } else {
        Ok(())
    }
}

/// Checks the change-password form: the current password, then the new
/// one and its confirmation.
pub fn check_change(current: &str, new: &str, confirm: &str) -> Result<(), Problem> {
    if current.is_empty() {
        return Err(Problem::CurrentMissing);
    }
    check_new(new, confirm)?;
    if new == current {
        return Err(Problem::Unchanged);
    }
    Ok(())
}

/// The reset token of an address hash `#/reset?token=…` (percent-decoded);
/// `None` for another route or an empty token.
pub fn reset_token(hash: &str) -> Option<String> {
    let h = hash.trim_start_matches('#').trim_start_matches('/');
    let (path, query) = h.split_once('?')?;
    if path.trim_end_matches('/') != "reset" {
        return None;
    }
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| percent_decode(v))
        .filter(|t| !t.is_empty())
}

/// `%XX` sequences decoded (a mail program may have escaped the token);
/// anything malformed is kept as it is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Whether a `validation_failed` error names `field` with `code`.
fn field_is(e: &ErrorBody, field: &str, code: FieldErrorCode) -> bool {
    e.fields
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|f| f.field == field && f.code == code)
}

/// Common answers of the three calls.
fn common(e: &ErrorBody) -> Option<String> {
    match e.code {
        ErrorCode::RateLimited => {
            Some("Too many attempts. Wait a few minutes, then try again.".to_owned())
        }
        ErrorCode::Unavailable => {
            Some("The server cannot be reached. Check the connection and try again.".to_owned())
        }
        ErrorCode::ValidationFailed if field_is(e, "new_password", FieldErrorCode::TooShort) => {
            Some(Problem::TooShort.message())
        }
        ErrorCode::ValidationFailed if field_is(e, "new_password", FieldErrorCode::TooLong) => {
            Some(Problem::TooLong.message())
        }
        _ => None,
    }
}

/// The message for a refused `POST /api/v1/auth/change-password`.
pub fn change_error(e: &ErrorBody) -> String {
    if let Some(m) = common(e) {
        return m;
    }
    match e.code {
        ErrorCode::InvalidCredentials => "The current password is wrong.".to_owned(),
        ErrorCode::ValidationFailed if field_is(e, "old_password", FieldErrorCode::Required) => {
            Problem::CurrentMissing.message()
        }
        _ => e.message.clone(),
    }
}

/// The message for a refused `POST /api/v1/auth/password-reset`.
pub fn request_error(e: &ErrorBody) -> String {
    if let Some(m) = common(e) {
        return m;
    }
    match e.code {
        ErrorCode::ValidationFailed => "Enter a valid email address.".to_owned(),
        _ => e.message.clone(),
    }
}

/// Whether a refused confirmation means the link itself is spent (unknown,
/// used or expired): the form then offers to request a new one.
pub fn link_spent(e: &ErrorBody) -> bool {
    e.code == ErrorCode::ResetTokenInvalid
}

/// The message for a refused `POST /api/v1/auth/password-reset/confirm`.
pub fn confirm_error(e: &ErrorBody) -> String {
    if link_spent(e) {
        return "This reset link is invalid, expired or already used. Request a new one."
            .to_owned();
    }
    common(e).unwrap_or_else(|| e.message.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use neurochat_protocol::v1::FieldError;

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn limits_are_the_servers() {
        assert_eq!(MIN_CHARS, neurochat_core::domain::validate::PASSWORD_MIN);
        assert_eq!(MAX_CHARS, neurochat_core::domain::validate::PASSWORD_MAX);
    }

    #[test]
    fn new_password_checks() {
        assert_eq!(check_new("short", "short"), Err(Problem::TooShort));
        // Characters, not bytes: seven accented letters are too short.
        assert_eq!(check_new("ééééééé", "ééééééé"), Err(Problem::TooShort));
        assert_eq!(check_new("éééééééé", "éééééééé"), Ok(()));
        let long = "x".repeat(MAX_CHARS + 1);
        assert_eq!(check_new(&long, &long), Err(Problem::TooLong));
        assert_eq!(
            check_new("long enough", "long enougH"),
            Err(Problem::Mismatch)
        );
        assert_eq!(check_new("long enough", "long enough"), Ok(()));
        assert_eq!(Problem::Mismatch.field(), "confirm");
        assert!(Problem::TooShort.message().contains('8'));
    }

    #[test]
    fn change_checks_the_current_password_first() {
        assert_eq!(
            check_change("", "short", "other"),
            Err(Problem::CurrentMissing)
        );
        assert_eq!(
            check_change("old password", "same-one!", "same-one!"),
            Ok(())
        );
        assert_eq!(
            check_change("same-one!", "same-one!", "same-one!"),
            Err(Problem::Unchanged)
        );
        assert_eq!(
            check_change("old password", "new one!", "new one?"),
            Err(Problem::Mismatch)
        );
    }

    #[test]
    fn reset_token_from_the_hash() {
        let t = "ncp_0123456789abcdef0123456789abcdef_AbC-dEf_";
        assert_eq!(reset_token(&format!("#/reset?token={t}")), Some(t.into()));
        assert_eq!(reset_token(&format!("#reset?token={t}")), Some(t.into()));
        assert_eq!(
            reset_token(&format!("#/reset?x=1&token={t}&y=2")),
            Some(t.into())
        );
        assert_eq!(reset_token("#/reset?token=a%5Fb%2D"), Some("a_b-".into()));
        assert_eq!(reset_token("#/reset?token=100%"), Some("100%".into()));
        assert_eq!(reset_token("#/reset?token="), None);
        assert_eq!(reset_token("#/reset"), None);
        assert_eq!(reset_token("#/inbox?token=abc"), None);
        assert_eq!(reset_token(""), None);
    }

    fn validation(field: &str, code: FieldErrorCode) -> ErrorBody {
        ErrorBody::validation(
            "bad",
            vec![FieldError {
                field: field.into(),
                code,
                message: "m".into(),
            }],
        )
    }

    #[test]
    fn server_codes_become_clear_messages() {
        let wrong = ErrorBody::new(ErrorCode::InvalidCredentials, "Invalid email or password.");
        assert_eq!(change_error(&wrong), "The current password is wrong.");
        let short = validation("new_password", FieldErrorCode::TooShort);
        assert!(change_error(&short).contains("at least 8"));
        assert!(confirm_error(&short).contains("at least 8"));
        let limited = ErrorBody::new(ErrorCode::RateLimited, "Too many requests.");
        for m in [
            change_error(&limited),
            request_error(&limited),
            confirm_error(&limited),
        ] {
            assert!(m.starts_with("Too many attempts"), "{m}");
        }
        assert_eq!(
            request_error(&validation("email", FieldErrorCode::InvalidFormat)),
            "Enter a valid email address."
        );
        let spent = ErrorBody::new(ErrorCode::ResetTokenInvalid, "x");
        assert!(link_spent(&spent));
        assert!(confirm_error(&spent).contains("invalid, expired or already used"));
        assert!(!link_spent(&short));
        // Anything else: the server's own (safe) message.
        let other = ErrorBody::new(ErrorCode::Internal, "Something broke.");
        assert_eq!(change_error(&other), "Something broke.");
    }
}
