//! Delivers the email outbox through the [`Mailer`](crate::ports::Mailer),
//! retrying failures with exponential backoff.

use std::future::Future;
use std::time::Duration as StdDuration;

use time::Duration;

use crate::Desk;
use crate::error::Result;
use crate::ports::Email;

/// How long a worker holds a leased mail before another may retry it.
const LEASE: Duration = Duration::minutes(5);

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxReport {
    /// Mails delivered.
    pub sent: u32,
    /// Mails that failed and were rescheduled.
    pub failed: u32,
}

/// Delay before retry number `attempts` (30 s doubling, at most 1 h).
pub fn retry_delay(attempts: u32) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.saturating_sub(1).min(7));
    Duration::seconds(secs.min(3600))
}

impl Desk {
    /// Delivers up to `limit` due mails once.
    #[tracing::instrument(skip_all)]
    pub async fn deliver_outbox(&self, limit: u32) -> Result<OutboxReport> {
        let now = self.now();
        let store = &self.inner.store;
        let batch = store.claim_outbox(now, now + LEASE, limit).await?;
        let mut report = OutboxReport::default();
        for item in batch {
            let mail = Email {
                to: item.recipient.clone(),
                subject: item.subject.clone(),
                body: item.body.clone(),
            };
            match self.inner.mailer.send(&mail).await {
                Ok(()) => {
                    store.update_outbox_sent(item.id, self.now()).await?;
                    report.sent += 1;
                }
                Err(e) => {
                    let retry_at = self.now() + retry_delay(item.attempts);
                    tracing::warn!(id = %item.id, attempts = item.attempts, error = %e, "mail delivery failed");
                    store
                        .update_outbox_failed(item.id, &e.to_string(), retry_at)
                        .await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    /// Runs [`Desk::deliver_outbox`] every `every` until `shutdown` completes.
    pub fn spawn_outbox_worker(
        &self,
        every: StdDuration,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let desk = self.clone();
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = tick.tick() => {
                        if let Err(e) = desk.deliver_outbox(50).await {
                            tracing::error!(error = %e, "outbox pass failed");
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(retry_delay(1), Duration::seconds(30));
        assert_eq!(retry_delay(2), Duration::seconds(60));
        assert_eq!(retry_delay(3), Duration::seconds(120));
        assert_eq!(retry_delay(50), Duration::seconds(3600));
    }
}
