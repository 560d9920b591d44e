//! OpenAPI schemas of the `neurochat-protocol` v1 bodies this API uses.
//!
//! The protocol crate is serde-only (it builds for wasm32 and the browser
//! crates share it), so it cannot derive `ToSchema`; these mirrors describe
//! the same JSON. They are never (de)serialised: handlers use the protocol
//! types. A test checks every mirror against the protocol's golden files, so
//! a field added there and forgotten here fails the build's tests.
#![allow(dead_code)]

use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// Stable machine-readable error code (`neurochat_protocol::v1::ErrorCode`).
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields failed validation; `fields` names each one.
    ValidationFailed,
    /// The body could not be parsed (bad JSON, wrong types, wrong method).
    MalformedRequest,
    /// No credentials, or credentials that could not be verified.
    Unauthenticated,
    /// Email or password is wrong.
    InvalidCredentials,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// The token is malformed, tampered with, or signed with an unknown key.
    TokenInvalid,
    /// The session was logged out or revoked.
    SessionRevoked,
    /// A refresh token was presented twice; the session was revoked.
    RefreshTokenReused,
    /// The account is disabled.
    AccountDisabled,
    /// Not allowed.
    Forbidden,
    /// No such resource or route.
    NotFound,
    /// The email address is already registered.
    EmailTaken,
    /// A unique name is already used.
    NameTaken,
    /// Changed concurrently; reload and retry.
    Conflict,
    /// The reset token is unknown, used or expired.
    ResetTokenInvalid,
    /// A host-verified identity is required.
    IdentityRequired,
    /// The host identity did not verify.
    IdentityInvalid,
    /// Another agent claimed the ticket first.
    AlreadyClaimed,
    /// Status change not allowed.
    InvalidTransition,
    /// The ticket is closed.
    TicketClosed,
    /// The category is archived.
    CategoryArchived,
    /// Too many requests; see `Retry-After`.
    RateLimited,
    /// The body exceeds the size limit.
    PayloadTooLarge,
    /// Not supported.
    Unsupported,
    /// Temporarily unavailable (database down, timeout).
    Unavailable,
    /// Internal error; quote `request_id`.
    Internal,
}

/// Why a field was rejected.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldErrorCode {
    /// Missing or empty.
    Required,
    /// Too short.
    TooShort,
    /// Too long.
    TooLong,
    /// Wrong form.
    InvalidFormat,
    /// Characters not allowed.
    InvalidCharacters,
    /// Number out of range.
    OutOfRange,
    /// Not one of the allowed choices.
    InvalidChoice,
}

/// One rejected field.
#[derive(ToSchema)]
pub struct FieldError {
    /// The field's name in the request body.
    pub field: String,
    /// Why it was rejected.
    pub code: FieldErrorCode,
    /// Explanation safe to show to the user.
    pub message: String,
}

/// What a user may do.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Opens tickets (also widget visitors).
    Customer,
    /// Works tickets.
    Agent,
    /// Agent plus administration.
    Admin,
}

/// A user.
#[derive(ToSchema)]
pub struct UserView {
    /// Id.
    pub id: Uuid,
    /// Email; absent for anonymous visitors.
    pub email: Option<String>,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Disabled by an administrator.
    pub disabled: bool,
    /// Identity verified (password registration or host identity).
    pub verified: bool,
    /// Creation time (RFC 3339).
    pub created_at: OffsetDateTime,
}

/// Create a customer account.
#[derive(ToSchema)]
pub struct RegisterRequest {
    /// Login email.
    pub email: String,
    /// 8..=128 characters.
    #[schema(format = Password)]
    pub password: String,
    /// 1..=80 characters.
    pub display_name: String,
}

/// Log in with email and password.
#[derive(ToSchema)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    #[schema(format = Password)]
    pub password: String,
}

/// Rotate a refresh token.
#[derive(ToSchema)]
pub struct RefreshRequest {
    /// The current refresh token (single use).
    pub refresh_token: String,
}

/// Log out (the body may be omitted).
#[derive(ToSchema)]
pub struct LogoutRequest {
    /// The refresh token of the session to end (works after the access token expired).
    pub refresh_token: Option<String>,
}

/// Ask for a password reset mail.
#[derive(ToSchema)]
pub struct PasswordResetRequest {
    /// The account's email.
    pub email: String,
}

/// Set a new password with a reset token.
#[derive(ToSchema)]
pub struct PasswordResetConfirm {
    /// The token from the mail.
    pub token: String,
    /// The new password.
    #[schema(format = Password)]
    pub new_password: String,
}

/// Change the signed-in user's password.
#[derive(ToSchema)]
pub struct ChangePasswordRequest {
    /// Current password.
    #[schema(format = Password)]
    pub old_password: String,
    /// New password.
    #[schema(format = Password)]
    pub new_password: String,
}

/// An access/refresh token pair.
#[derive(ToSchema)]
pub struct AuthTokens {
    /// Bearer token for REST and the WebSocket `auth` frame.
    pub access_token: String,
    /// Expiry of the access token.
    pub access_expires_at: OffsetDateTime,
    /// Single-use refresh token.
    pub refresh_token: String,
    /// Expiry of the refresh token.
    pub refresh_expires_at: OffsetDateTime,
    /// The session.
    pub session_id: Uuid,
}

/// The user and their new tokens.
#[derive(ToSchema)]
pub struct AuthResponse {
    /// The user.
    pub user: UserView,
    /// The tokens.
    pub tokens: AuthTokens,
}

/// The host site's proof of who the visitor is, tagged by `method`.
#[derive(ToSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum HostIdentity {
    /// HMAC-SHA256 of `neurochat-identity-v1\n{user_id}\n{email}\n{name}`.
    Hmac {
        /// The host's user id.
        user_id: String,
        /// Email, if shared.
        email: Option<String>,
        /// Name, if shared.
        name: Option<String>,
        /// Lowercase hex signature.
        signature: String,
    },
    /// An HS256 JWT signed by the host.
    Jwt {
        /// The compact JWT.
        token: String,
    },
}

/// Start a widget visitor session.
#[derive(ToSchema)]
pub struct VisitorSessionRequest {
    /// Host-verified identity; absent for an anonymous visitor.
    pub identity: Option<HostIdentity>,
    /// Name typed in the widget.
    pub display_name: Option<String>,
    /// Email typed in the widget (contact only, never a login).
    pub email: Option<String>,
}

/// A visitor session.
#[derive(ToSchema)]
pub struct VisitorSessionResponse {
    /// Bearer token of the widget (REST and WebSocket).
    pub visitor_token: String,
    /// Its expiry.
    pub expires_at: OffsetDateTime,
    /// The visitor's user.
    pub user: UserView,
}

/// A visitor fills in their name or contact email.
#[derive(ToSchema)]
pub struct VisitorProfileRequest {
    /// New display name.
    pub display_name: Option<String>,
    /// New contact email.
    pub email: Option<String>,
}

/// The team's status for the widget's header (no identities).
#[derive(ToSchema)]
pub struct WidgetStatusView {
    /// Agents and admins online now.
    pub agents_online: u32,
    /// Median first response of the last 7 days' tickets, in seconds;
    /// `null` when none has a reply.
    pub reply_within_seconds: Option<u64>,
}

/// Health answer.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// An agent's presence.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Connected and taking new tickets.
    Online,
    /// Connected, not taking new tickets.
    Away,
    /// Not connected.
    Offline,
}

/// Where a ticket is in its lifecycle.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Opened, not yet worked on.
    New,
    /// Being worked on.
    InProgress,
    /// Solved; a customer message reopens it.
    Resolved,
    /// Read-only.
    Closed,
}

/// How urgent a ticket is.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Whenever there is time.
    Low,
    /// The default.
    Normal,
    /// Before normal tickets.
    High,
    /// Immediately.
    Urgent,
}

/// Sort order of the ticket listing.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketSort {
    /// Most recently updated first (default).
    Updated,
    /// Most recently created first.
    Created,
    /// Highest priority first.
    Priority,
}

/// A ticket.
#[derive(ToSchema)]
pub struct TicketView {
    /// Id.
    pub id: Uuid,
    /// Sequential number (`#1042`).
    pub number: u64,
    /// One-line summary.
    pub subject: String,
    /// The customer who opened it.
    pub customer_id: Uuid,
    /// Its category.
    pub category_id: Option<Uuid>,
    /// Urgency.
    pub priority: Priority,
    /// Lifecycle state.
    pub status: TicketStatus,
    /// The agent working on it.
    pub assignee_id: Option<Uuid>,
    /// Opened at.
    pub created_at: OffsetDateTime,
    /// Last change (including messages).
    pub updated_at: OffsetDateTime,
    /// First agent reply.
    pub first_response_at: Option<OffsetDateTime>,
    /// Last resolved.
    pub resolved_at: Option<OffsetDateTime>,
    /// `seq` of the newest message.
    pub last_seq: u64,
}

/// A page of tickets.
#[derive(ToSchema)]
pub struct TicketPage {
    /// The tickets, in the listing's order.
    pub items: Vec<TicketView>,
    /// Cursor of the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Open a ticket with its first message.
#[derive(ToSchema)]
pub struct CreateTicketRequest {
    /// 1..=200 characters.
    pub subject: String,
    /// The first message, 1..=4000 characters.
    pub body: String,
    /// 1..=64 visible ASCII characters; a resend with the same id is deduplicated.
    pub client_msg_id: String,
    /// An active category.
    pub category_id: Option<Uuid>,
    /// Default `normal`.
    pub priority: Option<Priority>,
}

/// Change a ticket; absent fields stay.
#[derive(ToSchema)]
pub struct UpdateTicketRequest {
    /// New status (customers: only `resolved`).
    pub status: Option<TicketStatus>,
    /// New priority (staff).
    pub priority: Option<Priority>,
    /// New active category (staff); `null` clears it.
    pub category_id: Option<Uuid>,
}

/// Assign a ticket, or unassign it.
#[derive(ToSchema)]
pub struct AssignRequest {
    /// An active agent or admin; absent or `null` unassigns.
    pub assignee_id: Option<Uuid>,
}

/// Who wrote a message and who may see it.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The ticket's customer.
    Customer,
    /// An agent; visible to the customer.
    Agent,
    /// The system.
    System,
    /// Staff only.
    InternalNote,
}

/// A message of a ticket's conversation.
#[derive(ToSchema)]
pub struct MessageView {
    /// Id.
    pub id: Uuid,
    /// The ticket.
    pub ticket_id: Uuid,
    /// Position in the conversation.
    pub seq: u64,
    /// The author; absent for system messages.
    pub author_id: Option<Uuid>,
    /// Kind.
    pub kind: MessageKind,
    /// Text.
    pub body: String,
    /// The author's idempotency key.
    pub client_msg_id: Option<String>,
    /// Stored at.
    pub created_at: OffsetDateTime,
}

/// A page of messages, ascending by `seq` (no cursor: page by `seq`).
#[derive(ToSchema)]
pub struct MessagePage {
    /// The messages.
    pub items: Vec<MessageView>,
    /// Never set for history pages.
    pub next_cursor: Option<String>,
}

/// Post a message.
#[derive(ToSchema)]
pub struct SendMessageRequest {
    /// 1..=4000 characters.
    pub body: String,
    /// 1..=64 visible ASCII characters; a resend with the same id is deduplicated.
    pub client_msg_id: String,
    /// Staff only: an internal note.
    pub internal: Option<bool>,
}

/// Move the caller's marks forward.
#[derive(ToSchema)]
pub struct ReceiptRequest {
    /// Highest `seq` received.
    pub delivered_seq: Option<u64>,
    /// Highest `seq` read.
    pub read_seq: Option<u64>,
}

/// A participant's marks on a ticket.
#[derive(ToSchema)]
pub struct ReceiptView {
    /// The ticket.
    pub ticket_id: Uuid,
    /// The participant.
    pub user_id: Uuid,
    /// Highest `seq` delivered.
    pub delivered_seq: u64,
    /// Highest `seq` read.
    pub read_seq: u64,
}

/// A ticket category.
#[derive(ToSchema)]
pub struct CategoryView {
    /// Id.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Archived: stays on old tickets, cannot be chosen.
    pub archived: bool,
    /// Created at.
    pub created_at: OffsetDateTime,
}

/// Create a category.
#[derive(ToSchema)]
pub struct CreateCategoryRequest {
    /// Unique name, 1..=80 characters.
    pub name: String,
}

/// Rename, archive or restore a category.
#[derive(ToSchema)]
pub struct UpdateCategoryRequest {
    /// New unique name.
    pub name: Option<String>,
    /// `true` archives, `false` restores.
    pub archived: Option<bool>,
}

/// A page of users.
#[derive(ToSchema)]
pub struct UserPage {
    /// The users, by id.
    pub items: Vec<UserView>,
    /// Cursor of the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Set a user's role.
#[derive(ToSchema)]
pub struct SetRoleRequest {
    /// The new role.
    pub role: Role,
}

/// Disable or enable a user.
#[derive(ToSchema)]
pub struct SetDisabledRequest {
    /// `true` disables (ending every session), `false` enables.
    pub disabled: bool,
}

/// Change an agent's routing settings.
#[derive(ToSchema)]
pub struct AgentSettingsRequest {
    /// New presence.
    pub availability: Option<Availability>,
    /// Most open tickets at once, 0..=1000.
    pub capacity: Option<u32>,
}

/// An agent's routing settings.
#[derive(ToSchema)]
pub struct AgentView {
    /// The agent's user id.
    pub id: Uuid,
    /// Name.
    pub display_name: String,
    /// Presence.
    pub availability: Availability,
    /// Most open tickets at once.
    pub capacity: u32,
}

/// A staff member in the staff directory.
#[derive(ToSchema)]
pub struct AgentLoadView {
    /// The user id (what `assignee_id` takes).
    pub id: Uuid,
    /// Name.
    pub display_name: String,
    /// `agent` or `admin`.
    pub role: Role,
    /// Presence.
    pub availability: Availability,
    /// Most open tickets at once.
    pub capacity: u32,
    /// Assigned tickets that are `new` or `in_progress`.
    pub open_tickets: u32,
}

/// What an audit entry records.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Login succeeded.
    LoginSucceeded,
    /// Login failed.
    LoginFailed,
    /// Logout.
    Logout,
    /// A refresh token was reused.
    RefreshTokenReused,
    /// Password reset requested.
    PasswordResetRequested,
    /// Password reset completed.
    PasswordResetCompleted,
    /// Password changed.
    PasswordChanged,
    /// Email changed.
    EmailChanged,
    /// Role changed.
    RoleChanged,
    /// User disabled.
    UserDisabled,
    /// User enabled.
    UserEnabled,
    /// User registered.
    UserRegistered,
    /// Ticket status changed.
    TicketStatusChanged,
    /// Ticket assigned.
    TicketAssigned,
    /// Ticket claimed.
    TicketClaimed,
    /// Ticket unassigned.
    TicketUnassigned,
    /// Ticket priority changed.
    TicketPriorityChanged,
    /// Ticket category changed.
    TicketCategoryChanged,
    /// Category created or changed.
    CategoryChanged,
    /// Customer data exported.
    CustomerDataExported,
    /// Customer data erased.
    CustomerDataErased,
}

/// An audit log entry.
#[derive(ToSchema)]
pub struct AuditEntryView {
    /// Id (time-ordered).
    pub id: Uuid,
    /// When.
    pub at: OffsetDateTime,
    /// Who; absent for anonymous or system actions.
    pub actor_id: Option<Uuid>,
    /// What.
    pub action: AuditAction,
    /// Kind of object acted on.
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// Client IP.
    pub source_ip: Option<String>,
    /// Detail; never secrets.
    pub detail: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(ToSchema)]
pub struct AuditPage {
    /// The entries.
    pub items: Vec<AuditEntryView>,
    /// Cursor of the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// One agent's figures for a window (durations in milliseconds).
#[derive(ToSchema)]
pub struct AgentMetricsView {
    /// The agent.
    pub user_id: Uuid,
    /// Name.
    pub display_name: String,
    /// Tickets claimed in the window.
    pub claimed: u64,
    /// Their tickets resolved in the window.
    pub resolved: u64,
    /// Their open tickets now.
    pub open_now: u64,
    /// Median first-response time.
    pub first_response_median_ms: Option<u64>,
    /// 90th-percentile first-response time.
    pub first_response_p90_ms: Option<u64>,
    /// Median resolution time.
    pub resolution_median_ms: Option<u64>,
}

/// The team's figures for a window (durations in milliseconds).
#[derive(ToSchema)]
pub struct MetricsTotalsView {
    /// Tickets claimed in the window.
    pub claimed: u64,
    /// Tickets resolved in the window.
    pub resolved: u64,
    /// Open assigned tickets now.
    pub open_now: u64,
    /// Median first-response time.
    pub first_response_median_ms: Option<u64>,
    /// 90th-percentile first-response time.
    pub first_response_p90_ms: Option<u64>,
    /// Median resolution time.
    pub resolution_median_ms: Option<u64>,
}

/// Team totals and per-agent rows.
#[derive(ToSchema)]
pub struct TeamMetricsView {
    /// Window start, inclusive.
    pub from: OffsetDateTime,
    /// Window end, exclusive.
    pub to: OffsetDateTime,
    /// Over every ticket.
    pub totals: MetricsTotalsView,
    /// Per agent (admins: all; agents: their own).
    pub agents: Vec<AgentMetricsView>,
}

/// A customer's data export, `neurochat.customer_export.v1`.
#[derive(ToSchema)]
pub struct CustomerExport {
    /// `neurochat.customer_export.v1`.
    pub format: String,
    /// The profile (never the password hash).
    #[schema(value_type = Object)]
    pub user: serde_json::Value,
    /// Every ticket, oldest first, with its messages (no internal notes).
    #[schema(value_type = Vec<Object>)]
    pub tickets: Vec<serde_json::Value>,
}
