//! The samples of `neurochat_protocol::v1::error`.

use neurochat_protocol::v1::*;

use crate::{Sample, Unknown, sample};

pub(super) fn error_samples() -> Vec<Sample> {
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
