//! The columns of a stored row, read the same way from an sqlx row (by
//! name) and from a row of the group-commit writer's raw connection (by
//! position), so one decoder ([`ticket_from_row`], [`message_from_row`])
//! serves both.
//!
//! [`ticket_from_row`]: super::tickets::ticket_from_row
//! [`message_from_row`]: super::messages::message_from_row

use neurochat_core::ports::{StoreError, StoreResult};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use super::db_err;

/// A row's columns by position `i` in the select list and by `name`; each
/// kind of row uses the one it looks up fastest.
pub(super) trait Cols {
    /// A `TEXT NOT NULL` column.
    fn text(&self, i: usize, name: &'static str) -> StoreResult<&str>;
    /// A nullable `TEXT` column.
    fn opt_text(&self, i: usize, name: &'static str) -> StoreResult<Option<&str>>;
    /// An `INTEGER NOT NULL` column.
    fn int(&self, i: usize, name: &'static str) -> StoreResult<i64>;
    /// A nullable `INTEGER` column.
    fn opt_int(&self, i: usize, name: &'static str) -> StoreResult<Option<i64>>;
}

impl Cols for SqliteRow {
    fn text(&self, _: usize, name: &'static str) -> StoreResult<&str> {
        self.try_get(name).map_err(db_err)
    }
    fn opt_text(&self, _: usize, name: &'static str) -> StoreResult<Option<&str>> {
        self.try_get(name).map_err(db_err)
    }
    fn int(&self, _: usize, name: &'static str) -> StoreResult<i64> {
        self.try_get(name).map_err(db_err)
    }
    fn opt_int(&self, _: usize, name: &'static str) -> StoreResult<Option<i64>> {
        self.try_get(name).map_err(db_err)
    }
}

impl Cols for rusqlite::Row<'_> {
    fn text(&self, i: usize, _: &'static str) -> StoreResult<&str> {
        self.get_ref(i)
            .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
            .map_err(raw_err)
    }
    fn opt_text(&self, i: usize, _: &'static str) -> StoreResult<Option<&str>> {
        self.get_ref(i)
            .and_then(|v| v.as_str_or_null().map_err(rusqlite::Error::from))
            .map_err(raw_err)
    }
    fn int(&self, i: usize, _: &'static str) -> StoreResult<i64> {
        self.get(i).map_err(raw_err)
    }
    fn opt_int(&self, i: usize, _: &'static str) -> StoreResult<Option<i64>> {
        self.get(i).map_err(raw_err)
    }
}

/// An error of the writer's raw connection. Its planned batches only need
/// to know that a statement failed (they are then written again through
/// sqlx, whose errors callers see), so it is not classified further.
pub(super) fn raw_err(e: rusqlite::Error) -> StoreError {
    StoreError::backend(e)
}
