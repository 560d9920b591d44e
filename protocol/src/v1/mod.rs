//! Protocol version 1.

pub mod audit;
pub mod auth;
pub mod common;
pub mod error;
pub mod frames;
pub mod messages;
pub mod metrics;
mod redact;
pub mod tickets;
pub mod users;
pub mod widget;

pub use audit::{AuditAction, AuditEntryView, AuditQuery};
pub use auth::{
    AuthResponse, AuthTokens, ChangePasswordRequest, HostIdentity, LoginRequest, LogoutRequest,
    PasswordResetConfirm, PasswordResetRequest, RefreshRequest, RegisterRequest,
    VisitorProfileRequest, VisitorSessionRequest, VisitorSessionResponse,
};
pub use common::{Availability, Page, Role};
pub use error::{ErrorBody, ErrorCode, FieldError, FieldErrorCode};
pub use frames::{ClientFrame, Limits, ServerFrame, TicketChange, close_codes};
pub use messages::{
    HistoryQuery, MessageKind, MessageView, ReceiptRequest, ReceiptView, SendMessageRequest,
};
pub use metrics::{AgentMetricsView, MetricsQuery, MetricsTotalsView, TeamMetricsView};
pub use tickets::{
    AssignRequest, CategoryView, CreateCategoryRequest, CreateTicketRequest, Priority, TicketQuery,
    TicketSort, TicketStatus, TicketView, UpdateCategoryRequest, UpdateTicketRequest,
};
pub use users::{
    AgentLoadView, AgentSettingsRequest, AgentView, ChangeEmailRequest, SetDisabledRequest,
    SetRoleRequest, UpdateProfileRequest, UserQuery, UserView,
};
pub use widget::WidgetStatusView;
