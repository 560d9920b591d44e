//! [`CategoryStore`] for [`MemoryStore`]: ticket categories.

use async_trait::async_trait;

use crate::domain::{Category, CategoryId};
use crate::ports::store::{CategoryStore, StoreError, StoreResult};

use super::{MemoryStore, unique};

#[async_trait]
impl CategoryStore for MemoryStore {
    async fn insert_category(&self, category: &Category) -> StoreResult<()> {
        let mut st = self.lock();
        if st.categories.contains_key(&category.id) {
            return Err(unique("categories.id"));
        }
        st.check_category_unique(category)?;
        st.categories.insert(category.id, category.clone());
        Ok(())
    }

    async fn fetch_category(&self, id: CategoryId) -> StoreResult<Option<Category>> {
        Ok(self.lock().categories.get(&id).cloned())
    }

    async fn update_category(&self, category: &Category) -> StoreResult<()> {
        let mut st = self.lock();
        if !st.categories.contains_key(&category.id) {
            return Err(StoreError::NotFound);
        }
        st.check_category_unique(category)?;
        let stored = st
            .categories
            .get_mut(&category.id)
            .ok_or(StoreError::NotFound)?;
        stored.name = category.name.clone();
        stored.archived = category.archived;
        Ok(())
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        let st = self.lock();
        let mut all: Vec<Category> = st.categories.values().cloned().collect();
        all.sort_by_cached_key(|c| (c.name.to_lowercase(), c.id));
        Ok(all)
    }
}
