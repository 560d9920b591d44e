//! The full-text index `ticket_search` (FTS5, migration 0003): one row per
//! ticket subject (rowid `-number`) and one per message (rowid `pos`, the
//! message's storage position), kept in step by triggers and removed on
//! erasure. It holds no copy of the texts; a match is mapped back to its
//! ticket through `messages` or `tickets` ([`match_tickets_sql`]).

/// The tickets with a search row matching an FTS5 query, up to the `MATCH`
/// (the caller binds the query after it): a message's ticket (internal notes
/// only if `with_notes`), or a subject's.
pub(super) fn match_tickets_sql(with_notes: bool) -> &'static str {
    if with_notes {
        MATCH_TICKETS_SQL
    } else {
        MATCH_TICKETS_NO_NOTES_SQL
    }
}

/// See [`match_tickets_sql`]. One MATCH; each hit is one primary-key lookup.
pub(super) const MATCH_TICKETS_SQL: &str = "SELECT COALESCE( \
     (SELECT m.ticket_id FROM messages m WHERE m.pos = ticket_search.rowid), \
     (SELECT t.id FROM tickets t WHERE t.number = -ticket_search.rowid)) \
     FROM ticket_search WHERE ticket_search MATCH ";

const MATCH_TICKETS_NO_NOTES_SQL: &str = "SELECT COALESCE( \
     (SELECT m.ticket_id FROM messages m WHERE m.pos = ticket_search.rowid AND m.kind <> 'internal_note'), \
     (SELECT t.id FROM tickets t WHERE t.number = -ticket_search.rowid)) \
     FROM ticket_search WHERE ticket_search MATCH ";

/// The words of a search text: maximal runs of alphanumeric characters,
/// lower-cased.
pub(super) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The FTS5 query for a search text: every word as a quoted prefix term,
/// all required (`"w1"* AND "w2"*`), so one row (a subject or a message) must
/// hold every word as a word prefix. `None` when the text has no words.
///
/// The words only contain alphanumeric characters; quotes are still escaped
/// (doubled) so the query can never be anything but a list of prefix terms.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = words(text)
        .iter()
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_alphanumeric_runs_lower_cased() {
        assert_eq!(
            words("  Refund: ÉCOLE-42, o'neil_x! "),
            ["refund", "école", "42", "o", "neil", "x"]
        );
        assert!(words(" ,;- ").is_empty());
    }

    #[test]
    fn fts_queries_are_quoted_prefix_terms() {
        assert_eq!(
            fts_query("Refund école").as_deref(),
            Some("\"refund\"* AND \"école\"*")
        );
        assert_eq!(
            fts_query("a\"b OR c*").as_deref(),
            Some("\"a\"* AND \"b\"* AND \"or\"* AND \"c\"*")
        );
        assert_eq!(fts_query("--"), None);
    }
}
