//! `/api/v1/categories*`: everyone signed in lists them (customers the
//! active ones); admins create, rename and archive them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use neurochat_core::domain::CategoryId;
use neurochat_protocol::v1::{CategoryView, CreateCategoryRequest, UpdateCategoryRequest};

use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Auth, ClientIp, Id};
use crate::openapi::schemas;
use crate::state::AppState;

/// The categories, by name: active ones for customers, all for staff.
#[utoipa::path(
    get, path = "/api/v1/categories", tag = "categories",
    security(("bearer" = [])),
    responses((status = 200, description = "The categories.", body = Vec<schemas::CategoryView>)),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> Result<Json<Vec<CategoryView>>, ApiError> {
    let all = state.desk().list_categories(&principal).await?;
    Ok(Json(all.iter().map(Into::into).collect()))
}

/// Creates a category (admins only); names are unique case-insensitively.
#[utoipa::path(
    post, path = "/api/v1/categories", tag = "categories",
    request_body = schemas::CreateCategoryRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created.", body = schemas::CategoryView),
        (status = 403, description = "`forbidden`: admins only.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `name`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    ApiJson(body): ApiJson<CreateCategoryRequest>,
) -> Result<(StatusCode, Json<CategoryView>), ApiError> {
    let c = state
        .desk()
        .create_category(&principal, &body.name, &ip.ctx())
        .await?;
    Ok((StatusCode::CREATED, Json((&c).into())))
}

/// Renames, archives or restores a category (admins only). An archived
/// category stays on the tickets that have it but cannot be chosen again.
#[utoipa::path(
    patch, path = "/api/v1/categories/{id}", tag = "categories",
    params(("id" = uuid::Uuid, Path, description = "The category's id.")),
    request_body = schemas::UpdateCategoryRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The category now.", body = schemas::CategoryView),
        (status = 403, description = "`forbidden`: admins only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`name_taken`.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `name`.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ip: ClientIp,
    Auth(principal): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<UpdateCategoryRequest>,
) -> Result<Json<CategoryView>, ApiError> {
    let c = state
        .desk()
        .update_category(
            &principal,
            CategoryId(id),
            body.name.as_deref(),
            body.archived,
            &ip.ctx(),
        )
        .await?;
    Ok(Json((&c).into()))
}
