//! The transactional outbox for email: a mail is stored with the change that
//! causes it, then delivered (and retried) by the outbox worker through the
//! [`Mailer`](crate::ports::Mailer) port.

use super::ids::OutboxId;
use time::OffsetDateTime;

/// A pending or sent email.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Identity.
    pub id: OutboxId,
    /// Recipient address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body (may carry a secret such as a reset link: never log it).
    pub body: String,
    /// Enqueued at.
    pub created_at: OffsetDateTime,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not to be tried before this time (also the lease while a worker holds it).
    pub next_attempt_at: OffsetDateTime,
    /// The last delivery error, for operators.
    pub last_error: Option<String>,
    /// Set once delivered.
    pub sent_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for OutboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The body can hold a reset token: keep it out of any debug log.
        f.debug_struct("OutboxMessage")
            .field("id", &self.id)
            .field("recipient", &self.recipient)
            .field("subject", &self.subject)
            .field("body", &"***")
            .field("attempts", &self.attempts)
            .field("next_attempt_at", &self.next_attempt_at)
            .field("sent_at", &self.sent_at)
            .finish()
    }
}
