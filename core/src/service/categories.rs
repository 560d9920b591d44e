//! Ticket categories: admins create, rename and archive them; everyone
//! authenticated can list the active ones.

use neurochat_protocol::v1::{ErrorCode, FieldErrorCode};

use crate::Desk;
use crate::domain::validate;
use crate::domain::{AuditAction, Category, CategoryId};
use crate::error::{Error, Result};
use crate::ports::StoreError;
use crate::principal::{Principal, RequestContext};

/// Longest category name.
pub const CATEGORY_NAME_MAX: usize = 80;

fn map_name_taken(e: StoreError) -> Error {
    match e {
        StoreError::UniqueViolation {
            constraint: "categories.name",
        } => Error::rule(
            ErrorCode::NameTaken,
            "A category with this name exists already.",
        ),
        StoreError::NotFound => Error::NotFound("category"),
        other => other.into(),
    }
}

impl Desk {
    /// Creates a category (admins only); names are unique case-insensitively.
    #[tracing::instrument(skip_all)]
    pub async fn create_category(
        &self,
        principal: &Principal,
        name: &str,
        ctx: &RequestContext,
    ) -> Result<Category> {
        if !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        let mut bad = Vec::new();
        let name = validate::line("name", name, CATEGORY_NAME_MAX, &mut bad);
        let Some(name) = name else {
            return Err(Error::Validation(bad));
        };
        let category = Category {
            id: CategoryId(self.new_uuid()),
            name,
            archived: false,
            created_at: self.now(),
        };
        self.inner
            .store
            .insert_category(&category)
            .await
            .map_err(map_name_taken)?;
        self.audit(
            Some(principal.user_id),
            AuditAction::CategoryChanged,
            Some(("category", category.id.to_string())),
            ctx,
            Some("created"),
        )
        .await;
        Ok(category)
    }

    /// Renames and/or (un)archives a category (admins only).
    #[tracing::instrument(skip_all)]
    pub async fn update_category(
        &self,
        principal: &Principal,
        id: CategoryId,
        name: Option<&str>,
        archived: Option<bool>,
        ctx: &RequestContext,
    ) -> Result<Category> {
        if !principal.is_admin() {
            return Err(Error::Forbidden);
        }
        let mut bad = Vec::new();
        let name = name.and_then(|n| validate::line("name", n, CATEGORY_NAME_MAX, &mut bad));
        validate::finish(bad)?;
        let mut category = self
            .inner
            .store
            .fetch_category(id)
            .await?
            .ok_or(Error::NotFound("category"))?;
        let mut what = Vec::new();
        if let Some(n) = name.filter(|n| *n != category.name) {
            what.push(format!("renamed from {:?}", category.name));
            category.name = n;
        }
        if let Some(a) = archived.filter(|a| *a != category.archived) {
            what.push(if a {
                "archived".to_owned()
            } else {
                "restored".to_owned()
            });
            category.archived = a;
        }
        if what.is_empty() {
            return Ok(category);
        }
        self.inner
            .store
            .update_category(&category)
            .await
            .map_err(map_name_taken)?;
        self.audit(
            Some(principal.user_id),
            AuditAction::CategoryChanged,
            Some(("category", id.to_string())),
            ctx,
            Some(&what.join(", ")),
        )
        .await;
        Ok(category)
    }

    /// Categories: customers get the active ones; staff also get archived ones.
    pub async fn list_categories(&self, principal: &Principal) -> Result<Vec<Category>> {
        let mut all = self.inner.store.list_categories().await?;
        if !principal.is_staff() {
            all.retain(|c| !c.archived);
        }
        Ok(all)
    }

    /// A category that may be put on a ticket now: it exists and is active.
    pub(crate) async fn check_category_selectable(&self, id: CategoryId) -> Result<()> {
        match self.inner.store.fetch_category(id).await? {
            None => Err(Error::field(
                "category_id",
                FieldErrorCode::InvalidChoice,
                "Unknown category.",
            )),
            Some(c) if c.archived => Err(Error::rule(
                ErrorCode::CategoryArchived,
                "This category is archived and cannot be chosen.",
            )),
            Some(_) => Ok(()),
        }
    }
}
