//! [`CategoryStore`](crate::ports::CategoryStore) scenarios. Category names
//! carry a fresh tag, and lists are narrowed to it.

use super::fixtures::{self as fx, assert_not_found, assert_unique, now, tag};
use crate::domain::{Category, CategoryId};
use crate::ports::Store;

/// Archived and active categories round-trip; an unknown id fetches `None`.
pub async fn insert_fetch_roundtrip(store: &dyn Store) {
    let t = now();
    let active = fx::category(&format!("Billing{}", tag()), t);
    let mut archived = fx::category(&format!("Legacy{}", tag()), t);
    archived.archived = true;
    store.insert_category(&active).await.expect("insert");
    store.insert_category(&archived).await.expect("insert");
    assert_eq!(
        store.fetch_category(active.id).await.expect("fetch"),
        Some(active)
    );
    assert_eq!(
        store.fetch_category(archived.id).await.expect("fetch"),
        Some(archived)
    );
    assert_eq!(
        store
            .fetch_category(CategoryId(uuid::Uuid::now_v7()))
            .await
            .expect("unknown"),
        None
    );
}

/// Names are unique case-insensitively (`categories.name`).
pub async fn insert_duplicate_name_case_insensitive(store: &dyn Store) {
    let t = now();
    let tg = tag();
    let first = fx::category(&format!("Billing{tg}"), t);
    store.insert_category(&first).await.expect("insert");
    let second = fx::category(&format!("BILLING{}", tg.to_uppercase()), t);
    assert_unique(store.insert_category(&second).await, "categories.name");
    assert_eq!(store.fetch_category(second.id).await.expect("fetch"), None);
}

/// `update_category` renames (also to a case variant of its own name) and (un)archives;
/// an unknown id is NotFound.
pub async fn update_rename_archive(store: &dyn Store) {
    let t = now();
    let cat = fx::category(&format!("Sales{}", tag()), t);
    store.insert_category(&cat).await.expect("insert");

    let renamed = Category {
        name: format!("Presales{}", tag()),
        archived: true,
        ..cat.clone()
    };
    store
        .update_category(&renamed)
        .await
        .expect("rename and archive");
    assert_eq!(
        store.fetch_category(cat.id).await.expect("fetch"),
        Some(renamed.clone())
    );

    let recased = Category {
        name: renamed.name.to_uppercase(),
        archived: false,
        ..renamed.clone()
    };
    store
        .update_category(&recased)
        .await
        .expect("recase own name");
    assert_eq!(
        store.fetch_category(cat.id).await.expect("fetch"),
        Some(recased)
    );

    let ghost = fx::category(&format!("Ghost{}", tag()), t);
    assert_not_found(store.update_category(&ghost).await);
    assert_eq!(store.fetch_category(ghost.id).await.expect("fetch"), None);
}

/// Renaming onto another category's name (any case) is a unique violation.
pub async fn update_duplicate_name(store: &dyn Store) {
    let t = now();
    let a = fx::category(&format!("Alpha{}", tag()), t);
    let b = fx::category(&format!("Beta{}", tag()), t);
    store.insert_category(&a).await.expect("insert");
    store.insert_category(&b).await.expect("insert");
    let clash = Category {
        name: a.name.to_lowercase(),
        ..b.clone()
    };
    assert_unique(store.update_category(&clash).await, "categories.name");
    assert_eq!(store.fetch_category(b.id).await.expect("fetch"), Some(b));
}

/// `list_categories` returns every category (archived included) ordered by name, case-insensitively.
pub async fn list_ordered_case_insensitive(store: &dyn Store) {
    let t = now();
    let tg = tag();
    let names = ["Charlie", "alpha", "Bravo", "delta"];
    let mut cats = Vec::new();
    for n in names {
        let mut c = fx::category(&format!("{tg}{n}"), t);
        c.archived = n == "Bravo";
        store.insert_category(&c).await.expect("insert");
        cats.push(c);
    }
    let mut expected = cats.clone();
    expected.sort_by_key(|c| c.name.to_lowercase());
    let got: Vec<Category> = store
        .list_categories()
        .await
        .expect("list")
        .into_iter()
        .filter(|c| c.name.starts_with(&tg))
        .collect();
    assert_eq!(got, expected);
}
