//! The OpenAPI document: 3.1, served at `/api/v1/openapi.json`, covering
//! every route of the router (a route missing from it fails here), with the
//! errors each operation can answer, and with body schemas that match the
//! protocol's golden files field for field.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use neurochat_protocol::v1::{ErrorCode, Role};
use serde_json::Value;
use support::spawn_app;

/// Every route the router serves. Adding a route means adding it here; the
/// tests below then insist it is documented and actually routed.
const ROUTES: &[(&str, &str)] = &[
    ("delete", "/api/v1/tickets/{id}/assignee"),
    ("get", "/api/v1/agents"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/auth/me"),
    ("get", "/api/v1/categories"),
    ("get", "/api/v1/metrics/me"),
    ("get", "/api/v1/metrics/team"),
    ("get", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{id}"),
    ("get", "/api/v1/tickets/{id}/messages"),
    ("get", "/api/v1/tickets/{id}/audit"),
    ("get", "/api/v1/tickets/{id}/receipts"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("get", "/api/v1/users/{id}/agent"),
    ("get", "/api/v1/users/{id}/export"),
    ("patch", "/api/v1/categories/{id}"),
    ("patch", "/api/v1/tickets/{id}"),
    ("patch", "/api/v1/users/{id}/agent"),
    ("post", "/api/v1/categories"),
    ("post", "/api/v1/tickets"),
    ("post", "/api/v1/tickets/{id}/claim"),
    ("post", "/api/v1/tickets/{id}/messages"),
    ("post", "/api/v1/tickets/{id}/receipts"),
    ("post", "/api/v1/users/{id}/erase"),
    ("put", "/api/v1/tickets/{id}/assignee"),
    ("put", "/api/v1/users/{id}/disabled"),
    ("put", "/api/v1/users/{id}/role"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/ws"),
    ("patch", "/api/v1/widget/profile"),
    ("post", "/api/v1/auth/change-password"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/logout"),
    ("post", "/api/v1/auth/password-reset"),
    ("post", "/api/v1/auth/password-reset/confirm"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/widget/sessions"),
    ("get", "/api/v1/widget/status"),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            if item.get(*m).is_some() {
                ops.insert(((*m).to_owned(), path.clone()));
            }
        }
    }
    ops
}

async fn served_doc() -> (support::App, Value) {
    let app = spawn_app().await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.json();
    (app, doc)
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_the_public_one() {
    let (_app, doc) = served_doc().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let public = serde_json::to_value(neurochat_http::openapi()).unwrap();
    assert_eq!(doc, public);
}

#[tokio::test]
async fn every_route_is_documented_and_every_documented_route_is_served() {
    let (app, doc) = served_doc().await;
    let documented = operations(&doc);
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    let unknown: Vec<_> = documented.difference(&expected).collect();
    assert!(
        unknown.is_empty(),
        "documented routes not in ROUTES: {unknown:?}"
    );
    // Every documented operation reaches a handler: not the 404 fallback
    // (unknown path) nor the 405 one (known path, other method).
    for (method, path) in &documented {
        let path = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
        let r = app.send(&method.to_uppercase(), &path, &[], "").await;
        assert!(r.status < 500, "{method} {path}: {}", r.status);
        let fallback =
            r.status == 405 || (r.status == 404 && r.json()["detail"] == "No such route.");
        assert!(!fallback, "{method} {path} is documented but not routed");
    }
}

/// Routes can only enter the router through `utoipa_axum::routes!` (which
/// documents them): no plain axum registration anywhere in the crate.
#[test]
fn no_route_bypasses_the_document() {
    fn scan(dir: &Path, hits: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, hits);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for bad in [
                    ".route(",
                    ".route_service(",
                    ".nest(",
                    ".nest_service(",
                    ".merge(",
                ] {
                    if code.contains(bad) {
                        hits.push(format!("{}:{}: {}", path.display(), n + 1, code));
                    }
                }
            }
        }
    }
    let mut hits = Vec::new();
    scan(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut hits,
    );
    assert!(
        hits.is_empty(),
        "routes registered outside routes!(): {hits:#?}"
    );
}

#[test]
fn every_operation_documents_its_errors() {
    let doc = serde_json::to_value(neurochat_http::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in METHODS {
            let Some(op) = item.get(*m) else { continue };
            let responses = op["responses"].as_object().unwrap();
            let has = |s: &str| responses.contains_key(s);
            assert!(has("500") && has("503"), "{m} {path}");
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415"] {
                    assert!(has(s), "{m} {path} lacks {s}");
                }
            }
            let security = op.get("security").and_then(Value::as_array);
            let bearer_only = security
                .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r.get("bearer").is_some()));
            if bearer_only {
                assert!(has("401"), "{m} {path} lacks 401");
            }
            for (status, resp) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &resp["content"]["application/problem+json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/Problem",
                        "{m} {path} {status} is a problem document"
                    );
                }
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// Property names and required names of an object schema (following
/// `oneOf`/`allOf` members, for tagged unions).
fn props(doc: &Value, schema: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut all = BTreeSet::new();
    let mut required = BTreeSet::new();
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return props(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        all.extend(p.keys().cloned());
    }
    if let Some(r) = schema.get("required").and_then(Value::as_array) {
        required.extend(r.iter().map(|v| v.as_str().unwrap().to_owned()));
    }
    for key in ["oneOf", "allOf"] {
        for member in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (a, _) = props(doc, member);
            all.extend(a);
        }
    }
    (all, required)
}

/// Each mirror schema against the protocol's golden files: every golden key
/// is a property, every required property is in every golden, and every
/// property appears in some golden (so neither side has fields the other
/// lacks).
#[test]
fn body_schemas_match_the_protocol_golden_files() {
    let doc = serde_json::to_value(neurochat_http::openapi()).unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/golden");
    let cases: &[(&str, &[&str])] = &[
        ("RegisterRequest", &["auth.register_request.json"]),
        ("LoginRequest", &["auth.login_request.json"]),
        ("RefreshRequest", &["auth.refresh_request.json"]),
        (
            "LogoutRequest",
            &["auth.logout_request.json", "auth.logout_request.empty.json"],
        ),
        (
            "PasswordResetRequest",
            &["auth.password_reset_request.json"],
        ),
        (
            "PasswordResetConfirm",
            &["auth.password_reset_confirm.json"],
        ),
        (
            "ChangePasswordRequest",
            &["auth.change_password_request.json"],
        ),
        ("AuthTokens", &["auth.auth_tokens.json"]),
        ("AuthResponse", &["auth.auth_response.json"]),
        (
            "UserView",
            &["users.user_view.json", "users.user_view.visitor.json"],
        ),
        (
            "VisitorSessionRequest",
            &[
                "auth.visitor_session_request.anonymous.json",
                "auth.visitor_session_request.identified.json",
            ],
        ),
        (
            "HostIdentity",
            &[
                "auth.host_identity.hmac.json",
                "auth.host_identity.hmac.minimal.json",
                "auth.host_identity.jwt.json",
            ],
        ),
        (
            "VisitorSessionResponse",
            &["auth.visitor_session_response.json"],
        ),
        (
            "VisitorProfileRequest",
            &["auth.visitor_profile_request.json"],
        ),
        (
            "TicketView",
            &["tickets.ticket_view.json", "tickets.ticket_view.new.json"],
        ),
        (
            "CreateTicketRequest",
            &["tickets.create_ticket_request.json"],
        ),
        (
            "UpdateTicketRequest",
            &["tickets.update_ticket_request.json"],
        ),
        (
            "AssignRequest",
            &[
                "tickets.assign_request.json",
                "tickets.assign_request.unassign.json",
            ],
        ),
        ("TicketPage", &["common.page.json", "common.page.last.json"]),
        (
            "MessagePage",
            &["common.page.json", "common.page.last.json"],
        ),
        ("UserPage", &["common.page.json", "common.page.last.json"]),
        ("AuditPage", &["common.page.json", "common.page.last.json"]),
        (
            "MessageView",
            &[
                "messages.message_view.json",
                "messages.message_view.system.json",
            ],
        ),
        (
            "SendMessageRequest",
            &["messages.send_message_request.json"],
        ),
        ("ReceiptRequest", &["messages.receipt_request.json"]),
        ("ReceiptView", &["messages.receipt_view.json"]),
        ("CategoryView", &["tickets.category_view.json"]),
        (
            "CreateCategoryRequest",
            &["tickets.create_category_request.json"],
        ),
        (
            "UpdateCategoryRequest",
            &["tickets.update_category_request.json"],
        ),
        ("SetRoleRequest", &["users.set_role_request.json"]),
        ("SetDisabledRequest", &["users.set_disabled_request.json"]),
        (
            "AgentSettingsRequest",
            &["users.agent_settings_request.json"],
        ),
        ("AgentView", &["users.agent_view.json"]),
        ("AgentLoadView", &["users.agent_load_view.json"]),
        (
            "AuditEntryView",
            &[
                "audit.audit_entry_view.json",
                "audit.audit_entry_view.anonymous.json",
            ],
        ),
        (
            "AgentMetricsView",
            &[
                "metrics.agent_metrics_view.json",
                "metrics.agent_metrics_view.idle.json",
            ],
        ),
        ("TeamMetricsView", &["metrics.team_metrics_view.json"]),
        (
            "WidgetStatusView",
            &[
                "widget.widget_status_view.json",
                "widget.widget_status_view.unknown.json",
            ],
        ),
    ];
    for (name, files) in cases {
        let schema = &doc["components"]["schemas"][*name];
        assert!(schema.is_object(), "schema {name} is in the document");
        let (properties, required) = props(&doc, schema);
        let mut seen = BTreeSet::new();
        for file in *files {
            let text = std::fs::read_to_string(golden.join(file)).unwrap();
            let value: Value = serde_json::from_str(&text).unwrap();
            let keys: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
            let extra: Vec<_> = keys.difference(&properties).collect();
            assert!(
                extra.is_empty(),
                "{name}: {file} has fields the schema lacks: {extra:?}"
            );
            let absent: Vec<_> = required.difference(&keys).collect();
            assert!(
                absent.is_empty(),
                "{name}: {file} lacks required {absent:?}"
            );
            seen.extend(keys);
        }
        let unused: Vec<_> = properties.difference(&seen).collect();
        assert!(
            unused.is_empty(),
            "{name}: schema fields in no golden file: {unused:?}"
        );
    }

    // The problem document is a superset of the protocol's ErrorBody.
    let text =
        std::fs::read_to_string(golden.join("error.error_body.validation_failed.json")).unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    let (problem, _) = props(&doc, &doc["components"]["schemas"]["Problem"]);
    for key in body.as_object().unwrap().keys() {
        assert!(problem.contains(key), "Problem lacks ErrorBody's {key}");
    }
    let (field_error, _) = props(&doc, &doc["components"]["schemas"]["FieldError"]);
    let keys: BTreeSet<String> = body["fields"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(field_error, keys);

    // Enumerations list exactly the protocol's values.
    let values = |name: &str| -> BTreeSet<String> {
        doc["components"]["schemas"][name]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let codes: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(values("ErrorCode"), codes);
    let roles: BTreeSet<String> = Role::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    assert_eq!(values("Role"), roles);
    let vocab = |file: &str| -> BTreeSet<String> {
        let text = std::fs::read_to_string(golden.join(file)).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    };
    for (schema, file) in [
        ("TicketStatus", "tickets.ticket_status.json"),
        ("Priority", "tickets.priority.json"),
        ("TicketSort", "tickets.ticket_sort.json"),
        ("MessageKind", "messages.message_kind.json"),
        ("Availability", "common.availability.json"),
        ("AuditAction", "audit.audit_action.json"),
    ] {
        assert_eq!(values(schema), vocab(file), "{schema}");
    }
}

/// Every `$ref` in the document names a schema it holds.
#[test]
fn every_reference_resolves() {
    fn walk(v: &Value, refs: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    refs.insert(r.clone());
                }
                m.values().for_each(|x| walk(x, refs));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, refs)),
            _ => {}
        }
    }
    let doc = serde_json::to_value(neurochat_http::openapi()).unwrap();
    let mut refs = BTreeSet::new();
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
    }
}

/// The query parameters each listing documents are exactly the fields of
/// the protocol's query type, as its golden file shows them.
#[test]
fn query_parameters_match_the_protocol_golden_files() {
    let doc = serde_json::to_value(neurochat_http::openapi()).unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/golden");
    for (path, file) in [
        ("/api/v1/tickets", "tickets.ticket_query.json"),
        (
            "/api/v1/tickets/{id}/messages",
            "messages.history_query.json",
        ),
        ("/api/v1/users", "users.user_query.json"),
        ("/api/v1/audit", "audit.audit_query.json"),
        ("/api/v1/metrics/me", "metrics.metrics_query.json"),
        ("/api/v1/metrics/team", "metrics.metrics_query.json"),
    ] {
        let params: BTreeSet<String> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let text = std::fs::read_to_string(golden.join(file)).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        let keys: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(params, keys, "{path} against {file}");
    }
}
