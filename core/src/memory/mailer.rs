//! Mailers that need no mail server.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::{Email, MailError, Mailer};

/// Keeps every mail in memory (tests, demos). Can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Email>>,
    failing: Mutex<bool>,
}

impl MemoryMailer {
    /// An empty mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every mail sent so far.
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Makes later sends fail (`true`) or succeed again.
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = failing;
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, mail: &Email) -> Result<(), MailError> {
        if *self.failing.lock().unwrap_or_else(|p| p.into_inner()) {
            return Err(MailError("memory mailer set to fail".to_owned()));
        }
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(mail.clone());
        Ok(())
    }
}

/// The default mailer when none is configured: logs that a mail would go to a
/// recipient (never its body, which may hold a reset token) and drops it.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Email) -> Result<(), MailError> {
        tracing::warn!(to = %mail.to, subject = %mail.subject, "no mailer configured; mail dropped");
        Ok(())
    }
}
