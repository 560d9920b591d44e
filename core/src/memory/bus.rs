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
/// Events buffered on a per-ticket or per-user topic. Small on purpose: a
/// server holds one such topic per connected user and open ticket, and a
/// subscriber that lags resynchronises from the store.
const SMALL_CAPACITY: usize = 32;

/// The in-process [`EventBus`]: for a single node, and the reference for others.
#[derive(Debug)]
pub struct MemoryBus {
    // Events are shared behind an `Arc` so a channel slot costs a pointer,
    // not a whole event.
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<Event>>>>,
    inbox_capacity: usize,
    shared_capacity: usize,
    small_capacity: usize,
}

impl Default for MemoryBus {
    fn default() -> Self {
        MemoryBus {
            topics: Mutex::default(),
            inbox_capacity: INBOX_CAPACITY,
            shared_capacity: CAPACITY,
            small_capacity: SMALL_CAPACITY,
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
    /// subscriber lags; tests use small values to make lag happen.
    pub fn with_capacity(shared: usize, small: usize) -> Self {
        MemoryBus {
            topics: Mutex::default(),
            inbox_capacity: shared.max(1),
            shared_capacity: shared.max(1),
            small_capacity: small.max(1),
        }
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

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged() {
        let bus = MemoryBus::new();
        let mut s = bus.subscribe(Topic::Inbox).await.unwrap();
        for i in 0..(INBOX_CAPACITY as u128 + 5) {
            bus.publish(Topic::Inbox, typing(i)).await.unwrap();
        }
        assert_eq!(s.next().await, Some(Delivery::Lagged(5)));
        assert_eq!(s.next().await, Some(Delivery::Event(typing(5))));
    }
}
