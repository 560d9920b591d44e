//! The storage conformance suite: every [`Store`](crate::ports::Store)
//! adapter must pass it, and the in-memory
//! [`MemoryStore`](crate::memory::MemoryStore) is checked against it too.
//!
//! Each scenario is a `pub async fn name(store: &dyn Store)` that panics on
//! failure, grouped by area ([`users`], [`sessions`], [`audit`], [`tickets`],
//! [`ticket_updates`], [`ticket_lists`], [`ticket_sorts`], [`ticket_queues`],
//! [`messages`], [`receipts`], [`categories`], [`outbox`], [`health`]); [`SCENARIOS`] lists
//! them all. [`store_conformance_tests!`](crate::store_conformance_tests)
//! turns every scenario into a `#[tokio::test]` of the calling crate.
//!
//! # A shared database
//!
//! Scenarios never assume a table is empty: rows get fresh UUIDv7 ids and
//! random keys ([`fixtures`]), lists are narrowed by something unique to the
//! scenario (a fresh customer, category, assignee or actor, a random search
//! tag), and table-wide operations (`count_users_with_role`,
//! `list_agent_loads`, `count_audit_by_actor`, `delete_expired_tokens`,
//! `claim_outbox`, and the ticket queues: escalation candidates, tickets to
//! close, notifications due, the metrics window) are checked in ways other
//! rows cannot disturb: on the scenario's own rows within the answer, in a
//! private time window of the past, cleaning up after themselves. So one
//! database may serve every test of a run at once, several runs, or several
//! backends sharing a server. The rows are never deleted.
//!
//! # Concurrency
//!
//! The race scenarios (token rotation, message sequencing, ticket numbers,
//! compare-and-set updates and claims, idempotent sends, outbox claims) start
//! several calls at once with `futures_util::future::join_all` on one task; an
//! adapter whose calls await I/O interleaves them for real, and the generated
//! tests run on a multi-threaded runtime.

pub mod audit;
pub mod categories;
pub mod fixtures;
pub mod health;
pub mod messages;
pub mod outbox;
pub mod receipts;
pub mod sessions;
pub mod ticket_lists;
pub mod ticket_queues;
pub mod ticket_sorts;
pub mod ticket_updates;
pub mod tickets;
pub mod users;

/// Calls `$crate::$callback! { $args area: [scenario, ...], ... }` with the list
/// of every scenario: the single source for [`SCENARIOS`] and the generated tests.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_scenarios {
    ($callback:ident $args:tt) => {
        $crate::$callback! { $args
            health: [ping_ok],
            users: [
                insert_fetch_roundtrip,
                insert_duplicate_email_case_insensitive,
                insert_duplicate_external_id,
                insert_duplicate_id,
                null_keys_not_unique,
                update_roundtrip,
                update_stale_version_conflicts,
                update_unknown_not_found,
                update_unique_violations,
                update_concurrent_one_wins,
                disable_revokes_sessions,
                list_users_search_paging,
                list_users_filters,
                list_users_search_is_literal,
                count_users_with_role_counts_enabled,
                agent_loads_count_open_assigned,
                erase_anonymises_user_and_content,
                erase_unknown_not_found,
            ],
            sessions: [
                insert_session_roundtrip,
                insert_session_unknown_user_foreign_key,
                rotate_then_reuse_revokes_session,
                rotate_unknown_not_found,
                rotate_inactive_session,
                rotate_race_exactly_one_wins,
                revoke_session_once,
                revoke_user_sessions_keep,
                reset_token_roundtrip_with_mail,
                reset_token_unknown_user_foreign_key,
                reset_token_use,
                reset_token_expired_conflict,
                reset_token_unknown_not_found,
                delete_expired_tokens,
            ],
            audit: [
                insert_list_roundtrip,
                list_newest_first_with_cursor,
                list_filters,
                list_by_target_ticket,
                count_by_actor_window,
            ],
            tickets: [
                insert_with_first_message_roundtrip,
                insert_unknown_customer_foreign_key,
                insert_unknown_author_stores_nothing,
                first_message_client_id_is_unique_per_author,
                first_message_effects,
                numbers_unique_and_increasing,
            ],
            ticket_updates: [
                update_roundtrip_keeps_store_maintained_fields,
                update_stale_version_conflicts,
                update_concurrent_claim_one_wins,
                update_with_mail_enqueues_atomically,
            ],
            ticket_lists: [
                list_filter_customer,
                list_filter_statuses,
                list_filter_category,
                list_filter_priorities,
                list_filter_assignee,
                list_filter_date_ranges,
                list_filters_combined,
                list_text_search,
                list_text_search_internal_notes,
            ],
            ticket_sorts: [
                list_sort_updated_desc_paging,
                list_sort_created_desc_paging,
                list_sort_priority_desc_paging,
                list_sort_created_asc_paging,
                list_message_moves_ticket_first,
            ],
            ticket_queues: [
                escalation_candidates,
                escalation_once_per_breach,
                tickets_to_close,
                notifications_due,
                tickets_in_window,
            ],
            messages: [
                insert_roundtrip_returns_ticket,
                insert_customer_and_agent_effects,
                insert_system_and_note_effects,
                insert_reopens_resolved_assigned,
                insert_reopens_resolved_unassigned,
                insert_closed_conflict_stores_nothing,
                insert_duplicate_client_msg_id,
                insert_unknown_ticket_not_found,
                insert_unknown_author_foreign_key,
                concurrent_inserts_gapless,
                insert_many_in_order,
                concurrent_duplicates_insert_once,
                list_after_and_before,
                list_hides_internal_notes,
            ],
            receipts: [
                receipts_move_forward_only,
                receipts_unknown_foreign_key,
                list_receipts_ordered_by_user,
            ],
            categories: [
                insert_fetch_roundtrip,
                insert_duplicate_name_case_insensitive,
                update_rename_archive,
                update_duplicate_name,
                list_ordered_case_insensitive,
            ],
            outbox: [
                insert_fetch_roundtrip,
                update_failed_and_sent,
                claim_due_oldest_first_with_lease,
                concurrent_claims_disjoint,
            ],
        }
    };
}

/// Builds [`SCENARIOS`] from the scenario list.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_names {
    (() $($area:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        /// Every scenario as `area::name` (the path under [`conformance`](crate::conformance)
        /// and the name of the test [`store_conformance_tests!`](crate::store_conformance_tests)
        /// generates for it).
        pub const SCENARIOS: &[&str] = &[
            $($(concat!(stringify!($area), "::", stringify!($name)),)*)*
        ];
    };
}

/// Expands the scenario list into one test module per area.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_expand {
    (($make:path) $($area:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        async fn __store_conformance_make() -> ::std::sync::Arc<dyn $crate::ports::Store> {
            $make().await
        }

        $(
            mod $area {
                $(
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $name() {
                        let store = super::__store_conformance_make().await;
                        $crate::conformance::$area::$name(&*store).await;
                    }
                )*
            }
        )*
    };
}

/// Expands every conformance scenario into a named test of the calling crate.
///
/// `$make` is the path of an `async fn() -> std::sync::Arc<dyn neurochat_core::ports::Store>`
/// called once per test (each test may get a fresh store or share one
/// database: the scenarios never assume empty tables). It must resolve where
/// the macro is invoked. The tests are `#[tokio::test(flavor = "multi_thread",
/// worker_threads = 4)]`, so the calling crate needs `tokio` with the `macros`
/// and `rt-multi-thread` features as a (dev-)dependency, and
/// `neurochat-core` with the `conformance` feature.
///
/// The macro defines one module per area (`users`, `sessions`, `audit`,
/// `tickets`, `ticket_updates`, `ticket_lists`, `ticket_sorts`,
/// `ticket_queues`, `messages`, `receipts`, `categories`, `outbox`, `health`) plus a private
/// `__store_conformance_make` function; invoke it once per module (wrap each
/// backend in its own `mod` to test several in one file). Test names are the
/// entries of [`SCENARIOS`](crate::conformance::SCENARIOS), e.g.
/// `sessions::rotate_race_exactly_one_wins`.
///
/// (The same code is `core/tests/memory_conformance.rs`, which CI runs.)
///
/// ```text
/// // tests/memory_conformance.rs
/// use std::sync::Arc;
/// use neurochat_core::{memory::MemoryStore, ports::Store};
///
/// async fn make() -> Arc<dyn Store> {
///     Arc::new(MemoryStore::new())
/// }
///
/// neurochat_core::store_conformance_tests!(make);
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:path) => {
        $crate::__store_conformance_scenarios! { __store_conformance_expand ($make) }
    };
}

crate::__store_conformance_scenarios! { __store_conformance_names () }

#[cfg(test)]
mod tests {
    use super::SCENARIOS;
    use std::collections::HashSet;

    #[test]
    fn scenario_names_are_unique() {
        let unique: HashSet<&str> = SCENARIOS.iter().copied().collect();
        assert_eq!(unique.len(), SCENARIOS.len());
        assert!(SCENARIOS.contains(&"sessions::rotate_race_exactly_one_wins"));
    }
}
