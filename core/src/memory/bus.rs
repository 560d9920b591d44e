//! In-process event bus over tokio broadcast channels, one per topic.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::events::{Event, Topic};
use crate::ports::{BusError, Delivery, EventBus, Subscription};

/// Events buffered per topic before a slow subscriber lags.
const CAPACITY: usize = 1024;

/// The in-process [`EventBus`]: for a single node, and the reference for others.
#[derive(Debug, Default)]
pub struct MemoryBus {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Event>>>,
}

impl MemoryBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
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
        if let Some(tx) = topics.get(&topic) {
            if tx.send(event).is_err() {
                // Nobody listens any more: drop the channel so topics do not pile up.
                topics.remove(&topic);
            }
        }
        Ok(())
    }

    async fn subscribe(&self, topic: Topic) -> Result<Subscription, BusError> {
        let rx = {
            let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
            topics
                .entry(topic)
                .or_insert_with(|| broadcast::channel(CAPACITY).0)
                .subscribe()
        };
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(ev) => Some((Delivery::Event(ev), rx)),
                Err(broadcast::error::RecvError::Lagged(n)) => Some((Delivery::Lagged(n), rx)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
        Ok(stream.boxed())
    }
}
