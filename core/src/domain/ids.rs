//! Typed identifiers. All are UUIDs (v7, time-ordered, from the injected
//! [`IdGen`](crate::ports::IdGen)); the newtypes stop a ticket id being passed
//! where a user id is expected.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                $name(u)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    };
}

id_type!(
    /// A user: customer, visitor, agent or admin.
    UserId
);
id_type!(
    /// A login or visitor session (a refresh-token family).
    SessionId
);
id_type!(
    /// A refresh or password-reset token's public id (the secret part is separate).
    TokenId
);
id_type!(
    /// A support ticket.
    TicketId
);
id_type!(
    /// A chat message.
    MessageId
);
id_type!(
    /// A ticket category.
    CategoryId
);
id_type!(
    /// An audit log entry.
    AuditId
);
id_type!(
    /// An outbox (pending email) entry.
    OutboxId
);
