//! The role × operation authorization table, decided in core.
#![allow(clippy::unwrap_used)]

mod support;

use neurochat_core::domain::{AuditFilter, Availability, Role, UserFilter};
use neurochat_protocol::v1::ErrorCode;
use support::{ctx, env};

/// Outcome of one cell of the table.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Cell {
    Ok,
    Denied(ErrorCode),
}
use Cell::{Denied, Ok as Allowed};
const FORBIDDEN: Cell = Denied(ErrorCode::Forbidden);
const HIDDEN: Cell = Denied(ErrorCode::NotFound);

fn cell<T>(r: Result<T, neurochat_core::Error>) -> Cell {
    match r {
        Ok(_) => Allowed,
        Err(e) => Denied(e.code()),
    }
}

#[tokio::test]
async fn role_by_operation_table() {
    // Operation, then the expected outcome for a customer, an agent, an admin
    // acting on *another* user (a customer) or on themselves where stated.
    let table: &[(&str, [Cell; 3])] = &[
        ("get_user(other customer)", [HIDDEN, Allowed, Allowed]),
        ("get_user(self)", [Allowed, Allowed, Allowed]),
        ("update_profile(other)", [FORBIDDEN, FORBIDDEN, Allowed]),
        ("update_profile(self)", [Allowed, Allowed, Allowed]),
        ("set_role(other)", [FORBIDDEN, FORBIDDEN, Allowed]),
        ("set_disabled(other)", [FORBIDDEN, FORBIDDEN, Allowed]),
        ("set_agent_settings(self)", [FORBIDDEN, Allowed, Allowed]),
        (
            "set_agent_settings(other agent)",
            [FORBIDDEN, FORBIDDEN, Allowed],
        ),
        ("list_users", [FORBIDDEN, FORBIDDEN, Allowed]),
        ("list_audit", [FORBIDDEN, FORBIDDEN, Allowed]),
    ];

    for (row, (op, expected)) in table.iter().enumerate() {
        for (i, role) in [Role::Customer, Role::Agent, Role::Admin]
            .into_iter()
            .enumerate()
        {
            // A fresh desk per cell so one cell's effect cannot leak into the next.
            let env = env();
            let (_, admin) = env.admin().await;
            let actor = match role {
                Role::Admin => admin.clone(),
                other => env.with_role(&admin, "actor@example.com", other).await.1,
            };
            let victim = env.register("victim@example.com").await.user.id;
            let (_, other_agent) = env
                .with_role(&admin, "agent2@example.com", Role::Agent)
                .await;
            let me = actor.user_id();
            let d = &env.desk;
            let got = match *op {
                "get_user(other customer)" => cell(d.get_user(&actor, victim).await),
                "get_user(self)" => cell(d.get_user(&actor, me).await),
                "update_profile(other)" => cell(d.update_profile(&actor, victim, "Renamed").await),
                "update_profile(self)" => cell(d.update_profile(&actor, me, "Renamed").await),
                "set_role(other)" => cell(d.set_role(&actor, victim, Role::Agent, &ctx()).await),
                "set_disabled(other)" => cell(d.set_disabled(&actor, victim, true, &ctx()).await),
                "set_agent_settings(self)" => cell(
                    d.set_agent_settings(&actor, me, Some(Availability::Online), Some(5))
                        .await,
                ),
                "set_agent_settings(other agent)" => cell(
                    d.set_agent_settings(
                        &actor,
                        other_agent.user_id(),
                        Some(Availability::Away),
                        None,
                    )
                    .await,
                ),
                "list_users" => cell(d.list_users(&actor, UserFilter::default()).await),
                "list_audit" => cell(d.list_audit(&actor, AuditFilter::default()).await),
                other => panic!("unknown operation {other}"),
            };
            assert_eq!(got, expected[i], "row {row} `{op}` as {role:?}");
        }
    }
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let env = env();
    let (_, admin) = env.admin().await;
    let me = admin.user_id();
    assert_eq!(
        env.desk
            .set_role(&admin, me, Role::Customer, &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        env.desk
            .set_disabled(&admin, me, true, &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    // The bootstrap is a no-op once an admin exists.
    assert!(
        env.desk
            .bootstrap_admin("second@example.com", support::PASSWORD, "Second")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn user_admin_inputs_are_validated_and_unknown_ids_are_not_found() {
    let env = env();
    let (_, admin) = env.admin().await;
    let unknown = neurochat_core::domain::UserId(uuid::Uuid::now_v7());
    assert_eq!(
        env.desk
            .set_role(&admin, unknown, Role::Agent, &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        env.desk
            .set_disabled(&admin, unknown, true, &ctx())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        env.desk.get_user(&admin, unknown).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    let err = env
        .desk
        .set_agent_settings(&admin, admin.user_id(), None, Some(1_000_000))
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].field, "capacity");
    let err = env
        .desk
        .list_users(
            &admin,
            UserFilter {
                search: Some("x".repeat(500)),
                ..UserFilter::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.violations()[0].field, "search");
    let customer = env.register("cust@example.com").await.user.id;
    assert_eq!(
        env.desk
            .set_agent_settings(&admin, customer, Some(Availability::Online), None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::ValidationFailed
    );
}

#[tokio::test]
async fn user_list_searches_and_pages() {
    let env = env();
    let (_, admin) = env.admin().await;
    for i in 0..7 {
        env.register(&format!("pager{i}@example.com")).await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = env
            .desk
            .list_users(
                &admin,
                UserFilter {
                    search: Some("PAGER".into()),
                    after,
                    limit: 3,
                    ..UserFilter::default()
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.id);
        seen.extend(page.into_iter().map(|u| u.email.unwrap()));
    }
    assert_eq!(seen.len(), 7);
    let agents = env
        .desk
        .list_users(
            &admin,
            UserFilter {
                role: Some(Role::Admin),
                ..UserFilter::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(agents.len(), 1);
}
