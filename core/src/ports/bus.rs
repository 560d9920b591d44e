//! The event bus: services publish domain events by topic; the real-time
//! gateway subscribes. In-process by default ([`MemoryBus`](crate::memory::MemoryBus));
//! a Redis bus carries the same events between nodes using the codec in
//! [`crate::events`].

use std::pin::Pin;

use async_trait::async_trait;
use futures_util::Stream;

use crate::events::{Event, Topic};

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq)]
// `Lagged` is rare; boxing every event to shrink it would cost an allocation each.
#[allow(clippy::large_enum_variant)]
pub enum Delivery {
    /// The next event on the topic.
    Event(Event),
    /// The subscriber fell behind and this many events were dropped; it must
    /// resynchronise from storage (chat messages are replayed by `seq`).
    Lagged(u64),
}

/// A live subscription; dropping it unsubscribes.
pub type Subscription = Pin<Box<dyn Stream<Item = Delivery> + Send>>;

/// Why the bus failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The transport is down (e.g. Redis unreachable).
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    /// An event could not be encoded or decoded.
    #[error("event codec error: {0}")]
    Codec(String),
}

/// Publish/subscribe of domain events by topic. Delivery is best-effort and
/// ordered per topic per publisher; durable state (messages) is always in the
/// store, so a subscriber that lags or reconnects catches up from there.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Publishes one event to every current subscriber of `topic` (on every node).
    async fn publish(&self, topic: Topic, event: Event) -> Result<(), BusError>;
    /// Subscribes to one topic.
    async fn subscribe(&self, topic: Topic) -> Result<Subscription, BusError>;
}
