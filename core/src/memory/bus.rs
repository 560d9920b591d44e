//! In-process event bus over tokio broadcast channels, one per topic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::events::{Event, Topic};
use crate::ports::{BusError, Delivery, EventBus, Subscription};

/// Events buffered on the inbox topic before a slow subscriber lags: a
/// group commit opens up to 512 tickets at once, whose `created` events
/// reach the topic back to back, and agents must not lag on a few such
/// bursts (a lagging agent resynchronises from the store, which costs far
/// more than reading the buffer). A slot is a pointer and a little state.
const INBOX_CAPACITY: usize = 16_384;
/// Events buffered on the presence topic.
const CAPACITY: usize = 1024;
/// How long a publication to the inbox waits, at most, while the slowest
/// subscriber is more than half the buffer behind (see [`MemoryBus`]).
const INBOX_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);
/// How often a waiting publication looks again.
const INBOX_RECHECK: std::time::Duration = std::time::Duration::from_millis(1);
/// Events buffered on a per-ticket or per-user topic. Small on purpose: a
/// server holds one such topic per connected user and open ticket, each
/// slot allocated up front (~40 bytes with its lock), and a subscriber that
/// lags resynchronises from the store. An idle customer connection holds
/// two (its ticket and itself): 32 slots made ~0.8 KiB of its ~8.5 KiB.
const SMALL_CAPACITY: usize = 16;

/// The in-process [`EventBus`]: for a single node, and the reference for others.
///
/// **Flow control on the inbox.** Every agent must hear of every new
/// ticket, and an agent that falls a whole buffer behind loses events and
/// must re-read them from the store, which costs far more than reading
/// them. So a publication to the inbox waits (up to a second, looking again
/// every millisecond) while its slowest subscriber is more than half the
/// buffer behind: ticket creation slows to the pace the agents' connections
/// can read at instead of outrunning them. Past the second it publishes
/// anyway (a connection that stopped reading is closed by the gateway).
#[derive(Debug)]
pub struct MemoryBus {
    // Events are shared behind an `Arc` so a channel slot costs a pointer,
    // not a whole event.
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<Event>>>>,
    inbox_capacity: usize,
    shared_capacity: usize,
    small_capacity: usize,
    /// Inbox flow control (see above); off for buses built for lag tests.
    inbox_patience: Option<std::time::Duration>,
}

impl Default for MemoryBus {
    fn default() -> Self {
        MemoryBus {
            topics: Mutex::default(),
            inbox_capacity: INBOX_CAPACITY,
            shared_capacity: CAPACITY,
            small_capacity: SMALL_CAPACITY,
            inbox_patience: Some(INBOX_PATIENCE),
        }
    }
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty bus buffering `shared` events on the inbox and presence
    /// topics and `small` on the others (at least 1 each) before a slow
    /// subscriber lags, without the inbox's flow control: tests use small
    /// values to make lag happen.
    pub fn with_capacity(shared: usize, small: usize) -> Self {
        MemoryBus {
            topics: Mutex::default(),
            inbox_capacity: shared.max(1),
            shared_capacity: shared.max(1),
            small_capacity: small.max(1),
            inbox_patience: None,
        }
    }

    /// Like [`MemoryBus::with_capacity`], with the inbox's flow control
    /// waiting up to `patience`.
    pub fn with_flow_control(shared: usize, small: usize, patience: std::time::Duration) -> Self {
        MemoryBus {
            inbox_patience: Some(patience),
            ..Self::with_capacity(shared, small)
        }
    }

    /// How many inbox events the slowest subscriber has yet to read.
    fn inbox_backlog(&self) -> usize {
        let topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        topics.get(&Topic::Inbox).map_or(0, broadcast::Sender::len)
    }

    fn capacity(&self, topic: &Topic) -> usize {
        match topic {
            Topic::Inbox => self.inbox_capacity,
            Topic::Presence => self.shared_capacity,
            Topic::Ticket(_) | Topic::TicketStaff(_) | Topic::User(_) => self.small_capacity,
        }
    }

    /// Topics with at least one live subscriber (for tests and metrics).
    pub fn topic_count(&self) -> usize {
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        topics.retain(|_, tx| tx.receiver_count() > 0);
        topics.len()
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn publish(&self, topic: Topic, event: Event) -> Result<(), BusError> {
        if topic == Topic::Inbox
            && let Some(patience) = self.inbox_patience
        {
            let high = self.inbox_capacity / 2;
            let until = tokio::time::Instant::now() + patience;
            while self.inbox_backlog() > high && tokio::time::Instant::now() < until {
                tokio::time::sleep(INBOX_RECHECK).await;
            }
        }
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = topics.get(&topic)
            && tx.send(Arc::new(event)).is_err()
        {
            // Nobody listens any more: drop the channel so topics do not pile up.
            topics.remove(&topic);
        }
        Ok(())
    }

    async fn subscribe(&self, topic: Topic) -> Result<Subscription, BusError> {
        let rx = {
            let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
            let cap = self.capacity(&topic);
            topics
                .entry(topic)
                .or_insert_with(|| broadcast::channel(cap).0)
                .subscribe()
        };
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(ev) => Some((Delivery::Event(Event::clone(&ev)), rx)),
                Err(broadcast::error::RecvError::Lagged(n)) => Some((Delivery::Lagged(n), rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
        Ok(stream.boxed())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::{TicketId, UserId};

    fn typing(n: u128) -> Event {
        Event::Typing {
            ticket_id: TicketId(uuid::Uuid::from_u128(1)),
            user_id: UserId(uuid::Uuid::from_u128(n)),
            active: true,
        }
    }

    #[tokio::test]
    async fn delivers_by_topic_in_order_and_forgets_dead_topics() {
        let bus = MemoryBus::new();
        let t = Topic::Ticket(TicketId(uuid::Uuid::from_u128(1)));
        let mut a = bus.subscribe(t.clone()).await.unwrap();
        let mut inbox = bus.subscribe(Topic::Inbox).await.unwrap();
        bus.publish(t.clone(), typing(1)).await.unwrap();
        bus.publish(t.clone(), typing(2)).await.unwrap();
        assert_eq!(a.next().await, Some(Delivery::Event(typing(1))));
        assert_eq!(a.next().await, Some(Delivery::Event(typing(2))));
        // Nothing leaked to another topic.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), inbox.next())
                .await
                .is_err()
        );
        drop(a);
        drop(inbox);
        bus.publish(t, typing(3)).await.unwrap();
        assert_eq!(bus.topic_count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn inbox_publications_wait_for_a_subscriber_half_a_buffer_behind() {
        let patience = std::time::Duration::from_millis(200);
        let bus = MemoryBus::with_flow_control(8, 4, patience);
        let mut s = bus.subscribe(Topic::Inbox).await.unwrap();
        let start = tokio::time::Instant::now();
        for i in 0..5 {
            bus.publish(Topic::Inbox, typing(i)).await.unwrap();
        }
        assert_eq!(
            start.elapsed(),
            std::time::Duration::ZERO,
            "up to half full: no wait"
        );
        // Half full: the next publication waits until the subscriber reads...
        let read_later = async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            s.next().await
        };
        let (published, read) = tokio::join!(bus.publish(Topic::Inbox, typing(5)), read_later);
        published.unwrap();
        assert_eq!(read, Some(Delivery::Event(typing(0))));
        let waited = start.elapsed();
        assert!(
            waited >= std::time::Duration::from_millis(50) && waited < patience,
            "{waited:?}"
        );
        // ...or, when nobody reads, until its patience runs out; nothing is lost.
        let before = tokio::time::Instant::now();
        bus.publish(Topic::Inbox, typing(6)).await.unwrap();
        assert!(before.elapsed() >= patience);
        for i in 1..=6 {
            assert_eq!(s.next().await, Some(Delivery::Event(typing(i))));
        }
        // Other topics never wait.
        let _t = bus.subscribe(Topic::Presence).await.unwrap();
        let before = tokio::time::Instant::now();
        for i in 0..8 {
            bus.publish(Topic::Presence, typing(i)).await.unwrap();
        }
        assert_eq!(before.elapsed(), std::time::Duration::ZERO);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged() {
        // The inbox's capacity, without its flow control (which would make
        // the publisher wait instead).
        let bus = MemoryBus::with_capacity(INBOX_CAPACITY, SMALL_CAPACITY);
        let mut s = bus.subscribe(Topic::Inbox).await.unwrap();
        for i in 0..(INBOX_CAPACITY as u128 + 5) {
            bus.publish(Topic::Inbox, typing(i)).await.unwrap();
        }
        assert_eq!(s.next().await, Some(Delivery::Lagged(5)));
        assert_eq!(s.next().await, Some(Delivery::Event(typing(5))));
    }
}
