//! The `Desk` facade: the one object a host application holds. Cheap to clone.

use std::sync::Arc;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::memory::{LogMailer, MemoryBus};
use crate::ports::{Clock, EventBus, IdGen, Mailer, Store, SystemClock, UuidV7};
use crate::service::password::PasswordHasher;
use crate::service::tokens::TokenCodec;

/// NeuroChat's service facade: auth, users, audit (and, built on the same
/// ports, tickets and chat). Every method that acts on data takes the acting
/// [`Principal`](crate::Principal) and decides authorization itself.
#[derive(Clone)]
pub struct Desk {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGen>,
    pub(crate) config: Config,
    pub(crate) tokens: TokenCodec,
    pub(crate) hasher: PasswordHasher,
    pub(crate) typing: crate::service::chat::TypingTracker,
    pub(crate) owners: crate::service::tickets::TicketOwners,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").finish_non_exhaustive()
    }
}

impl Desk {
    /// Starts building a desk over `store` with `config`.
    pub fn builder(store: Arc<dyn Store>, config: Config) -> DeskBuilder {
        DeskBuilder {
            store,
            config,
            bus: None,
            mailer: None,
            clock: None,
            ids: None,
        }
    }

    /// The store (for adapters that need direct reads, e.g. readiness checks).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The event bus.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.inner.bus
    }

    /// The configuration the desk was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The injected clock's current time.
    pub fn now(&self) -> time::OffsetDateTime {
        self.inner.clock.now()
    }

    pub(crate) fn new_uuid(&self) -> uuid::Uuid {
        self.inner.ids.new_uuid()
    }
}

/// Builds a [`Desk`] from its ports and a [`Config`]. Unset ports default to
/// an in-process bus, a mailer that only logs recipients, the system clock and
/// UUID v7 ids.
pub struct DeskBuilder {
    store: Arc<dyn Store>,
    config: Config,
    bus: Option<Arc<dyn EventBus>>,
    mailer: Option<Arc<dyn Mailer>>,
    clock: Option<Arc<dyn Clock>>,
    ids: Option<Arc<dyn IdGen>>,
}

impl DeskBuilder {
    /// Uses this event bus (e.g. Redis, to share events between nodes).
    pub fn bus(mut self, bus: Arc<dyn EventBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Uses this mailer for outbox delivery.
    pub fn mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Uses this clock (tests: [`ManualClock`](crate::ports::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses this id generator.
    pub fn ids(mut self, ids: Arc<dyn IdGen>) -> Self {
        self.ids = Some(ids);
        self
    }

    /// Validates the configuration and builds the desk.
    pub fn build(self) -> Result<Desk> {
        self.config.validate().map_err(Error::Config)?;
        let tokens = TokenCodec::new(&self.config.tokens)?;
        let hasher = PasswordHasher::new(self.config.password_hashing)?;
        Ok(Desk {
            inner: Arc::new(Inner {
                store: self.store,
                bus: self.bus.unwrap_or_else(|| Arc::new(MemoryBus::new())),
                mailer: self.mailer.unwrap_or_else(|| Arc::new(LogMailer)),
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                ids: self.ids.unwrap_or_else(|| Arc::new(UuidV7)),
                config: self.config,
                tokens,
                hasher,
                typing: Default::default(),
                owners: Default::default(),
            }),
        })
    }
}
