//! In-process reference adapters for every port: the store (the reference
//! the conformance suite is checked against), the bus and mailers.

mod bus;
mod mailer;
mod store;

pub use bus::MemoryBus;
pub use mailer::{LogMailer, MemoryMailer};
pub use store::MemoryStore;
