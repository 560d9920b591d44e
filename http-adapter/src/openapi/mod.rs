//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes and the schemas in [`schemas`].

pub mod queries;
pub mod schemas;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi as _};

use crate::error::{PROBLEM_JSON, Problem};
use crate::state::AppState;

/// The document's fixed parts; the paths are added as routes register.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "NeuroChat API",
        version = "1",
        description = "Customer-support ticketing and real-time chat. Every error is an \
            `application/problem+json` document (RFC 9457) with a stable `code`."
    ),
    modifiers(&BearerAuth),
    // Schemas only query parameters refer to are listed here: routes register
    // the schemas of their bodies, not of their parameters.
    components(schemas(
        Problem,
        schemas::ErrorCode,
        schemas::FieldError,
        schemas::FieldErrorCode,
        schemas::TicketSort,
        schemas::AuditAction,
        schemas::Role,
        schemas::TicketStatus,
        schemas::Priority,
    )),
    tags(
        (name = "auth", description = "Accounts, sessions and passwords."),
        (name = "widget", description = "Visitor sessions of the customer chat widget."),
        (name = "tickets", description = "Opening, listing, searching and working tickets."),
        (name = "messages", description = "A ticket's conversation and read receipts."),
        (name = "categories", description = "Ticket categories."),
        (name = "users", description = "User administration, the staff directory, agent settings and customer data rights."),
        (name = "metrics", description = "Staff metrics."),
        (name = "audit", description = "The audit log (admins) and a ticket's audit trail (staff)."),
        (name = "realtime", description = "The WebSocket gateway."),
        (name = "health", description = "Probes."),
        (name = "meta", description = "This document."),
    )
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token (JWT) from login/register/refresh, or a widget \
                         visitor token (`ncv_…`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The base document the router adds its paths to.
pub(crate) fn base() -> OpenApi {
    ApiDoc::openapi()
}

/// Adds the errors every operation can answer, so each one documents them
/// without repeating them in every attribute: 500 and 503 (timeout)
/// everywhere; 400, 413 and 415 where a body is read; 401 where a bearer
/// token is required, and 429 where that request is a write.
pub(crate) fn add_common_errors(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
            (&mut item.delete, true),
        ];
        for (op, write) in ops {
            if let Some(op) = op {
                add_to(op, write);
            }
        }
    }
}

fn add_to(op: &mut Operation, write: bool) {
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description).into());
    };
    add(
        "500",
        "`internal`: quote `request_id`; the log has the cause.",
    );
    add(
        "503",
        "`unavailable`: a dependency is down or the request timed out.",
    );
    if op.request_body.is_some() {
        add(
            "400",
            "`malformed_request`: the body is not JSON of the documented shape.",
        );
        add("413", "`payload_too_large`: the body exceeds the limit.");
        add(
            "415",
            "`malformed_request`: `Content-Type: application/json` is required.",
        );
    }
    let needs_bearer = op
        .security
        .as_ref()
        .is_some_and(|s| !s.is_empty() && !s.iter().any(is_anonymous));
    if needs_bearer {
        add(
            "401",
            "`unauthenticated`, `token_expired`, `token_invalid`, `session_revoked`.",
        );
        if write {
            // Every authenticated write draws from the user's write quota.
            add(
                "429",
                "`rate_limited`: too many writes by this user; see `Retry-After`.",
            );
        }
    }
}

fn is_anonymous(req: &utoipa::openapi::security::SecurityRequirement) -> bool {
    serde_json::to_value(req).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// This document, as JSON.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.", content_type = "application/json")),
)]
pub(crate) async fn document(State(state): State<AppState>) -> impl IntoResponse {
    let json = state.0.openapi.get().cloned().unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], json)
}
