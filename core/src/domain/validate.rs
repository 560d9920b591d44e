//! Input rules shared by every service. Each check returns every violation
//! at once so a form can mark all bad fields together.

use crate::error::FieldViolation;
use neurochat_protocol::v1::FieldErrorCode;

/// Longest email address accepted (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Password length bounds, in characters.
pub const PASSWORD_MIN: usize = 8;
/// Longest password accepted (bounds argon2 work per request).
pub const PASSWORD_MAX: usize = 128;
/// Display name bounds, in characters, after trimming.
pub const DISPLAY_NAME_MAX: usize = 80;

/// A checked email: as typed (trimmed) and normalised for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    /// Trimmed, as typed.
    pub display: String,
    /// Lower-cased; the unique key.
    pub normalized: String,
}

/// Checks an email address: trimmed, 3..=254 chars, one `@` with a non-empty
/// local part and a dotted domain, no whitespace or control characters.
pub fn email(
    field: &'static str,
    raw: &str,
    out: &mut Vec<FieldViolation>,
) -> Option<EmailAddress> {
    let s = raw.trim();
    if s.is_empty() {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::Required,
            "Email is required.",
        ));
        return None;
    }
    if s.chars().count() > EMAIL_MAX {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::TooLong,
            format!("Email must be at most {EMAIL_MAX} characters."),
        ));
        return None;
    }
    let valid = match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if !valid {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::InvalidFormat,
            "Enter a valid email address.",
        ));
        return None;
    }
    Some(EmailAddress {
        display: s.to_owned(),
        normalized: s.to_lowercase(),
    })
}

/// Checks a new password: 8..=128 characters (not trimmed: spaces count).
pub fn password(field: &'static str, raw: &str, out: &mut Vec<FieldViolation>) -> bool {
    let n = raw.chars().count();
    if n == 0 {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::Required,
            "Password is required.",
        ));
        false
    } else if n < PASSWORD_MIN {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::TooShort,
            format!("Password must be at least {PASSWORD_MIN} characters."),
        ));
        false
    } else if n > PASSWORD_MAX {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::TooLong,
            format!("Password must be at most {PASSWORD_MAX} characters."),
        ));
        false
    } else {
        true
    }
}

/// Checks one line of text (names, subjects): trimmed, `1..=max` characters,
/// no control characters. Returns the trimmed text.
pub fn line(
    field: &'static str,
    raw: &str,
    max: usize,
    out: &mut Vec<FieldViolation>,
) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::Required,
            "This field is required.",
        ));
        return None;
    }
    if s.chars().count() > max {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::TooLong,
            format!("Must be at most {max} characters."),
        ));
        return None;
    }
    if s.chars().any(char::is_control) {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::InvalidCharacters,
            "Control characters are not allowed.",
        ));
        return None;
    }
    Some(s.to_owned())
}

/// Checks a display name: a [`line()`] of at most 80 characters.
pub fn display_name(
    field: &'static str,
    raw: &str,
    out: &mut Vec<FieldViolation>,
) -> Option<String> {
    line(field, raw, DISPLAY_NAME_MAX, out)
}

/// Longest message body, in characters after trimming.
pub const BODY_MAX: usize = 4000;
/// Longest ticket subject, in characters after trimming.
pub const SUBJECT_MAX: usize = 200;
/// Longest client message id (idempotency key).
pub const CLIENT_MSG_ID_MAX: usize = 64;

/// Checks a message body: trimmed, 1..=4000 characters, no control
/// characters other than newline and tab. Returns the trimmed text.
pub fn body(field: &'static str, raw: &str, out: &mut Vec<FieldViolation>) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::Required,
            "The message is empty.",
        ));
        return None;
    }
    if s.chars().count() > BODY_MAX {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::TooLong,
            format!("Messages can be at most {BODY_MAX} characters."),
        ));
        return None;
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        out.push(FieldViolation::new(
            field,
            FieldErrorCode::InvalidCharacters,
            "Control characters other than newline and tab are not allowed.",
        ));
        return None;
    }
    Some(s.to_owned())
}

/// Checks a client message id: 1..=64 visible ASCII characters.
pub fn client_msg_id(field: &'static str, raw: &str, out: &mut Vec<FieldViolation>) -> bool {
    let ok = !raw.is_empty()
        && raw.len() <= CLIENT_MSG_ID_MAX
        && raw.bytes().all(|b| b.is_ascii_graphic());
    if !ok {
        out.push(FieldViolation::new(
            field,
            if raw.is_empty() {
                FieldErrorCode::Required
            } else {
                FieldErrorCode::InvalidFormat
            },
            format!("Must be 1 to {CLIENT_MSG_ID_MAX} visible ASCII characters."),
        ));
    }
    ok
}

/// Turns collected violations into a result.
pub fn finish(out: Vec<FieldViolation>) -> Result<(), crate::Error> {
    if out.is_empty() {
        Ok(())
    } else {
        Err(crate::Error::Validation(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let mut v = Vec::new();
        let e = email("email", "  Ann@Example.COM ", &mut v);
        assert_eq!(
            e,
            Some(EmailAddress {
                display: "Ann@Example.COM".into(),
                normalized: "ann@example.com".into()
            })
        );
        for bad in [
            "",
            "  ",
            "ann",
            "ann@",
            "@x.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "a@b..com",
        ] {
            let mut v = Vec::new();
            assert!(email("email", bad, &mut v).is_none(), "{bad:?}");
            assert_eq!(v.len(), 1);
            assert_eq!(v[0].field, "email");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        let mut v = Vec::new();
        assert!(email("email", &long, &mut v).is_none());
        assert_eq!(v[0].code, FieldErrorCode::TooLong);
    }

    #[test]
    fn passwords() {
        let mut v = Vec::new();
        assert!(password("password", "12345678", &mut v));
        assert!(password("password", &"é".repeat(128), &mut v));
        assert!(v.is_empty());
        assert!(!password("password", "1234567", &mut v));
        assert!(!password("password", &"x".repeat(129), &mut v));
        assert!(!password("password", "", &mut v));
        let codes: Vec<_> = v.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [
                FieldErrorCode::TooShort,
                FieldErrorCode::TooLong,
                FieldErrorCode::Required
            ]
        );
    }

    #[test]
    fn bodies_and_client_ids() {
        let mut v = Vec::new();
        assert_eq!(
            body("body", "  hi\n\tthere  ", &mut v).as_deref(),
            Some("hi\n\tthere")
        );
        assert!(body("body", &"b".repeat(BODY_MAX), &mut v).is_some());
        assert!(v.is_empty());
        assert!(body("body", &"b".repeat(BODY_MAX + 1), &mut v).is_none());
        assert!(body("body", " \n ", &mut v).is_none());
        assert!(body("body", "bell\u{7}", &mut v).is_none());
        assert!(body("body", "esc\u{1b}[31m", &mut v).is_none());
        assert_eq!(v.len(), 4);
        let mut v = Vec::new();
        assert!(client_msg_id("client_msg_id", "c-01HX", &mut v));
        assert!(!client_msg_id("client_msg_id", "", &mut v));
        assert!(!client_msg_id("client_msg_id", "has space", &mut v));
        assert!(!client_msg_id("client_msg_id", &"x".repeat(65), &mut v));
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn names() {
        let mut v = Vec::new();
        assert_eq!(
            display_name("display_name", "  Ann  ", &mut v).as_deref(),
            Some("Ann")
        );
        assert!(display_name("display_name", &"n".repeat(80), &mut v).is_some());
        assert!(v.is_empty());
        assert!(display_name("display_name", &"n".repeat(81), &mut v).is_none());
        assert!(display_name("display_name", "   ", &mut v).is_none());
        assert!(display_name("display_name", "a\u{0}b", &mut v).is_none());
        assert_eq!(v.len(), 3);
    }
}
