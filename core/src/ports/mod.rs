//! Ports: the traits core needs from the outside world. Adapters implement
//! them; core never names a database, broker or transport.

pub mod bus;
pub mod clock;
pub mod mailer;
pub mod store;

pub use bus::{BusError, Delivery, EventBus, Subscription};
pub use clock::{Clock, IdGen, ManualClock, SystemClock, UuidV7, truncate_millis};
pub use mailer::{Email, MailError, Mailer};
pub use store::{
    AuditStore, CategoryStore, MessageStore, OutboxStore, SessionStore, Store, StoreError,
    StoreResult, TicketStore, UserStore,
};
