//! Outgoing email. Services never send directly: they enqueue an
//! [`OutboxMessage`](crate::domain::OutboxMessage) with the change that causes
//! it, and the outbox worker hands it to a `Mailer`.

use async_trait::async_trait;

/// A mail ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body (may contain secrets such as a reset link).
    pub body: String,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("body", &"***")
            .finish()
    }
}

/// Why a mail could not be delivered (it is retried later).
#[derive(Debug, thiserror::Error)]
#[error("mail delivery failed: {0}")]
pub struct MailError(pub String);

/// Delivers email (SMTP, an HTTP mail API, or a test capture).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one mail.
    async fn send(&self, mail: &Email) -> Result<(), MailError>;
}
