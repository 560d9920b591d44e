//! Rows as one JSON text parameter: how the group-commit writer hands a whole
//! batch to SQLite in one statement (`… FROM jsonb_each(?)`, every value read
//! back with `value ->> n`; `jsonb_each` parses the text once into SQLite's
//! binary JSON, so the `->>` reads do not parse it again). The statement
//! text stays the same whatever the batch size, so sqlx's statement cache
//! prepares it once per connection.
//!
//! Values round-trip exactly: SQLite's JSON reader turns a JSON string back
//! into the same text (escapes, NUL and all of Unicode included), an integer
//! into the same 64-bit integer and `null` into NULL.

use std::fmt::Write as _;

use uuid::Uuid;

/// A JSON array of arrays, written row by row into one growing buffer.
pub(super) struct JsonRows {
    buf: String,
    rows: usize,
}

impl JsonRows {
    /// An empty array.
    pub(super) fn new() -> JsonRows {
        JsonRows::with_capacity(256)
    }

    /// An empty array with room for about `bytes` bytes of text.
    pub(super) fn with_capacity(bytes: usize) -> JsonRows {
        let mut buf = String::with_capacity(bytes);
        buf.push('[');
        JsonRows { buf, rows: 0 }
    }

    /// How many rows (or scalar items) were written.
    pub(super) fn len(&self) -> usize {
        self.rows
    }

    /// Starts the next row; its values follow, and it is closed when the
    /// returned writer is dropped.
    pub(super) fn row(&mut self) -> JsonRow<'_> {
        self.next_item();
        self.buf.push('[');
        JsonRow {
            buf: &mut self.buf,
            first: true,
        }
    }

    /// Appends a bare id (for `… IN (SELECT value FROM json_each(?))`).
    pub(super) fn push_id(&mut self, id: impl Into<Uuid>) {
        self.next_item();
        push_uuid(&mut self.buf, id.into());
    }

    /// The finished array.
    pub(super) fn finish(mut self) -> String {
        self.buf.push(']');
        self.buf
    }

    fn next_item(&mut self) {
        if self.rows > 0 {
            self.buf.push(',');
        }
        self.rows += 1;
    }
}

/// The values of one row; closes the row (`]`) when dropped.
pub(super) struct JsonRow<'a> {
    buf: &'a mut String,
    first: bool,
}

impl JsonRow<'_> {
    fn sep(&mut self) -> &mut String {
        if !self.first {
            self.buf.push(',');
        }
        self.first = false;
        self.buf
    }

    /// A string value.
    pub(super) fn str(&mut self, s: &str) -> &mut Self {
        push_str(self.sep(), s);
        self
    }

    /// A string or `null`.
    pub(super) fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// An id as its stored text (hyphenated, lower case).
    pub(super) fn id(&mut self, id: impl Into<Uuid>) -> &mut Self {
        push_uuid(self.sep(), id.into());
        self
    }

    /// An id or `null`.
    pub(super) fn opt_id<U: Into<Uuid>>(&mut self, id: Option<U>) -> &mut Self {
        match id {
            Some(id) => self.id(id),
            None => self.null(),
        }
    }

    /// An integer value.
    pub(super) fn int(&mut self, v: i64) -> &mut Self {
        let buf = self.sep();
        // Writing to a String cannot fail.
        let _ = write!(buf, "{v}");
        self
    }

    /// An integer or `null`.
    pub(super) fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    fn null(&mut self) -> &mut Self {
        self.sep().push_str("null");
        self
    }
}

impl Drop for JsonRow<'_> {
    fn drop(&mut self) {
        self.buf.push(']');
    }
}

fn push_uuid(buf: &mut String, id: Uuid) {
    let mut text = Uuid::encode_buffer();
    buf.push('"');
    buf.push_str(id.hyphenated().encode_lower(&mut text));
    buf.push('"');
}

/// Appends `s` as a JSON string: `"` and `\` escaped, control characters
/// (U+0000 to U+001F) as `\u00XX`, everything else as is (JSON text is UTF-8).
fn push_str(buf: &mut String, s: &str) {
    buf.reserve(s.len() + 2);
    buf.push('"');
    let mut clean = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0..=0x1f => "",
            _ => continue,
        };
        buf.push_str(&s[clean..i]);
        if escape.is_empty() {
            let _ = write!(buf, "\\u{b:04x}");
        } else {
            buf.push_str(escape);
        }
        clean = i + 1;
    }
    buf.push_str(&s[clean..]);
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_arrays_of_escaped_values() {
        let mut rows = JsonRows::new();
        rows.row()
            .str("a\"b\\c\nd\u{0}é☃")
            .opt_str(None)
            .int(-42)
            .opt_int(Some(i64::MAX));
        rows.row().id(Uuid::nil()).opt_id(None::<Uuid>);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows.finish(),
            "[[\"a\\\"b\\\\c\\u000ad\\u0000é☃\",null,-42,9223372036854775807],\
             [\"00000000-0000-0000-0000-000000000000\",null]]"
        );
    }

    #[test]
    fn ids_are_a_flat_array() {
        let mut ids = JsonRows::new();
        assert_eq!(ids.len(), 0);
        ids.push_id(Uuid::nil());
        ids.push_id(Uuid::max());
        assert_eq!(
            ids.finish(),
            "[\"00000000-0000-0000-0000-000000000000\",\"ffffffff-ffff-ffff-ffff-ffffffffffff\"]"
        );
        assert_eq!(JsonRows::new().finish(), "[]");
    }
}
