//! The metrics page and the admin pages (users, categories, audit log).

use super::*;

fn ms_text(ms: Option<u64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 60_000 => format!("{} s", ms / 1000),
        Some(ms) if ms < 3_600_000 => format!("{} min", ms / 60_000),
        Some(ms) => format!("{:.1} h", ms as f64 / 3_600_000.0),
    }
}

pub(super) fn render_metrics(main: &Element) {
    let page = el_class("div", "page");
    testid(&page, "metrics-page");
    let days = select(
        "metrics-window",
        &[
            ("7".to_owned(), "last 7 days".to_owned()),
            ("30".to_owned(), "last 30 days".to_owned()),
            ("90".to_owned(), "last 90 days".to_owned()),
        ],
        "7",
    );
    attr(&days, "id", "metrics-window");
    crate::web::dom::on(&days, "change", |_| {
        for id in ["metrics-mine", "metrics-team"] {
            if let Some(e) = by_id(id) {
                clear(&e);
            }
        }
        load_metrics(&value_of("metrics-window"));
    });
    let bar = el_class("div", "toolbar");
    append(&bar, &[&labelled("Window ", &days)]);
    let mine = el_class("div", "cards");
    attr(&mine, "id", "metrics-mine");
    let team = el("div");
    attr(&team, "id", "metrics-team");
    append(
        &page,
        &[
            &el_text("h2", "", "Metrics"),
            &bar,
            &el_text("h3", "", "Mine"),
            &mine,
            &el_text("h3", "", "Team"),
            &team,
        ],
    );
    append(main, &[&page]);
    load_metrics("7");
}

/// The figures of the last `days` days (`from` = now − days).
fn load_metrics(days: &str) {
    let days: f64 = days.parse().unwrap_or(7.0);
    let from = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        now_ms() - days * 86_400_000.0,
    ))
    .to_iso_string()
    .as_string()
    .unwrap_or_default();
    let q = format!("?from={}", crate::query::encode(&from));
    let (Some(mine), Some(team)) = (by_id("metrics-mine"), by_id("metrics-team")) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(m) = net::get::<AgentMetricsView>(&format!("/api/v1/metrics/me{q}")).await {
            for (label, value) in [
                ("claimed", m.claimed.to_string()),
                ("resolved", m.resolved.to_string()),
                ("open now", m.open_now.to_string()),
                (
                    "first response (median)",
                    ms_text(m.first_response_median_ms),
                ),
                ("first response (p90)", ms_text(m.first_response_p90_ms)),
                ("resolution (median)", ms_text(m.resolution_median_ms)),
            ] {
                let c = el_class("div", "card");
                append(
                    &c,
                    &[&el_text("b", "", &value), &el_text("span", "muted", label)],
                );
                testid(&c, "metric");
                append(&mine, &[&c]);
            }
        }
        match net::get::<TeamMetricsView>(&format!("/api/v1/metrics/team{q}")).await {
            Ok(t) => {
                let table = el("table");
                let head = el("tr");
                for h in [
                    "Agent",
                    "Claimed",
                    "Resolved",
                    "Open",
                    "First response",
                    "Resolution",
                ] {
                    append(&head, &[&el_text("th", "", h)]);
                }
                append(&table, &[&head]);
                let mut rows: Vec<(String, [String; 5])> = t
                    .agents
                    .iter()
                    .map(|a| {
                        (
                            a.display_name.clone(),
                            [
                                a.claimed.to_string(),
                                a.resolved.to_string(),
                                a.open_now.to_string(),
                                ms_text(a.first_response_median_ms),
                                ms_text(a.resolution_median_ms),
                            ],
                        )
                    })
                    .collect();
                rows.push((
                    "Team".into(),
                    [
                        t.totals.claimed.to_string(),
                        t.totals.resolved.to_string(),
                        t.totals.open_now.to_string(),
                        ms_text(t.totals.first_response_median_ms),
                        ms_text(t.totals.resolution_median_ms),
                    ],
                ));
                for (name, cells) in rows {
                    let tr = el("tr");
                    append(&tr, &[&el_text("td", "", &name)]);
                    for c in cells {
                        append(&tr, &[&el_text("td", "", &c)]);
                    }
                    append(&table, &[&tr]);
                }
                append(&team, &[&table]);
            }
            Err(e) => append(&team, &[&el_text("p", "muted", &e.message)]),
        }
    });
}

pub(super) fn render_users(main: &Element) {
    let page = el_class("div", "page");
    testid(&page, "users-page");
    let bar = el_class("div", "toolbar");
    let search = input("search", "users-search", "name or email");
    attr(&search, "id", "users-search");
    let mut roles = vec![("".to_owned(), "any".to_owned())];
    roles.extend(opts(Role::ALL, Role::as_str));
    let role = select("users-role", &roles, "");
    attr(&role, "id", "users-role");
    let go = button("Search", "users-go", "primary", |_| load_users(None));
    append(
        &bar,
        &[
            &labelled("Search ", &search),
            &labelled("Role ", &role),
            &go,
        ],
    );
    crate::web::dom::on(&search, "keydown", |e| {
        if e.dyn_ref::<KeyboardEvent>()
            .is_some_and(|k| k.key() == "Enter")
        {
            load_users(None);
        }
    });
    let table = el("table");
    attr(&table, "id", "users-table");
    testid(&table, "users-table");
    let more = button("More", "users-more", "more", |_| {
        let c = by_id("users-more").and_then(|b| b.get_attribute("data-cursor"));
        load_users(c);
    });
    attr(&more, "id", "users-more");
    attr(&more, "hidden", "");
    append(&page, &[&el_text("h2", "", "Users"), &bar, &table, &more]);
    append(main, &[&page]);
    load_users(None);
}

fn load_users(cursor: Option<String>) {
    let role =
        serde_json::from_value::<Role>(serde_json::Value::String(value_of("users-role"))).ok();
    let q = crate::query::users_query(&value_of("users-search"), role, cursor.as_deref(), 50);
    wasm_bindgen_futures::spawn_local(async move {
        let Some(table) = by_id("users-table") else {
            return;
        };
        match net::get::<Page<UserView>>(&format!("/api/v1/users{q}")).await {
            Ok(p) => {
                if cursor.is_none() {
                    clear(&table);
                    let head = el("tr");
                    for h in ["Name", "Email", "Role", "State", "Capacity", "Actions"] {
                        append(&head, &[&el_text("th", "", h)]);
                    }
                    append(&table, &[&head]);
                }
                for u in p.items {
                    append(&table, &[&user_row(&u)]);
                }
                if let Some(m) = by_id("users-more") {
                    match p.next_cursor {
                        Some(c) => {
                            attr(&m, "data-cursor", &c);
                            let _ = m.remove_attribute("hidden");
                        }
                        None => attr(&m, "hidden", ""),
                    }
                }
            }
            Err(e) => toast(&e.message),
        }
    });
}

fn user_row(u: &UserView) -> Element {
    let tr = el("tr");
    testid(&tr, "user-row");
    attr(&tr, "data-user-id", &u.id.to_string());
    attr(&tr, "data-role", u.role.as_str());
    attr(
        &tr,
        "data-disabled",
        if u.disabled { "true" } else { "false" },
    );
    let actions = el("td");
    let id = u.id;
    for role in Role::ALL.iter().copied().filter(|r| *r != u.role) {
        let label = match role {
            Role::Customer => "Make customer",
            Role::Agent => "Make agent",
            Role::Admin => "Make admin",
        };
        let b = button(
            label,
            &format!("promote-{}", role.as_str()),
            "",
            move |_| {
                let body = wire::body(&SetRoleRequest { role });
                wasm_bindgen_futures::spawn_local(async move {
                    user_changed(
                        net::json::<UserView>(
                            "PUT",
                            &format!("/api/v1/users/{id}/role"),
                            Some(body),
                        )
                        .await,
                    );
                });
            },
        );
        append(&actions, &[&b]);
    }
    let disabled = u.disabled;
    let toggle = button(
        if disabled { "Enable" } else { "Disable" },
        if disabled {
            "enable-user"
        } else {
            "disable-user"
        },
        if disabled { "" } else { "danger" },
        move |_| {
            let body = wire::body(&SetDisabledRequest {
                disabled: !disabled,
            });
            wasm_bindgen_futures::spawn_local(async move {
                user_changed(
                    net::json::<UserView>(
                        "PUT",
                        &format!("/api/v1/users/{id}/disabled"),
                        Some(body),
                    )
                    .await,
                );
            });
        },
    );
    append(&actions, &[&toggle]);
    let cap = el("td");
    if u.role.is_staff() {
        let i = input("number", "capacity", "");
        attr(&i, "min", "0");
        attr(&i, "max", "1000");
        attr(&i, "aria-label", &format!("Capacity of {}", u.display_name));
        let i2 = i.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Ok(a) =
                net::get::<neurochat_protocol::v1::AgentView>(&format!("/api/v1/users/{id}/agent"))
                    .await
            {
                i2.set_value(&a.capacity.to_string());
            }
        });
        let i3 = i.clone();
        let save = button("Save", "save-capacity", "", move |_| {
            let Ok(capacity) = i3.value().trim().parse::<u32>() else {
                toast("Capacity is a whole number.");
                return;
            };
            let body = wire::body(&neurochat_protocol::v1::AgentSettingsRequest {
                availability: None,
                capacity: Some(capacity),
            });
            wasm_bindgen_futures::spawn_local(async move {
                match net::call("PATCH", &format!("/api/v1/users/{id}/agent"), Some(body)).await {
                    Ok(_) => toast("Capacity saved."),
                    Err(e) => toast(&e.message),
                }
            });
        });
        append(&cap, &[&i, &save]);
    }
    append(
        &tr,
        &[
            &el_text("td", "", &u.display_name),
            &el_text("td", "", u.email.as_deref().unwrap_or("")),
            &el_text("td", "", u.role.as_str()),
            &el_text("td", "", if u.disabled { "disabled" } else { "active" }),
            &cap,
            &actions,
        ],
    );
    tr
}

fn user_changed(r: Result<UserView, neurochat_protocol::v1::ErrorBody>) {
    match r {
        Ok(u) => {
            let sel = format!("tr[data-user-id=\"{}\"]", u.id);
            if let Some(old) =
                by_id("users-table").and_then(|t| t.query_selector(&sel).ok().flatten())
            {
                let _ = old.replace_with_with_node_1(&user_row(&u));
            }
            toast(&format!(
                "{} is now {}{}.",
                u.display_name,
                u.role.as_str(),
                if u.disabled { " (disabled)" } else { "" }
            ));
            with(|a| a.users.insert(u.id, u));
        }
        Err(e) => toast(&e.message),
    }
}

pub(super) fn render_categories(main: &Element) {
    let page = el_class("div", "page");
    testid(&page, "categories-page");
    let bar = el_class("form", "toolbar");
    let name = input("text", "category-name", "New category");
    attr(&name, "id", "category-name");
    attr(&name, "maxlength", "100");
    let add = el_text("button", "primary", "Create");
    attr(&add, "type", "submit");
    testid(&add, "category-create");
    append(&bar, &[&labelled("Name ", &name), &add]);
    crate::web::dom::on(&bar, "submit", |e: Event| {
        e.prevent_default();
        let body = wire::body(&CreateCategoryRequest {
            name: value_of("category-name").trim().to_owned(),
        });
        wasm_bindgen_futures::spawn_local(async move {
            match net::json::<CategoryView>("POST", "/api/v1/categories", Some(body)).await {
                Ok(_) => reload_categories(),
                Err(e) => toast(&e.message),
            }
        });
    });
    let table = el("table");
    attr(&table, "id", "categories-table");
    testid(&table, "categories-table");
    append(&page, &[&el_text("h2", "", "Categories"), &bar, &table]);
    append(main, &[&page]);
    reload_categories();
}

fn reload_categories() {
    wasm_bindgen_futures::spawn_local(async {
        let Ok(cats) = net::get::<Vec<CategoryView>>("/api/v1/categories").await else {
            return;
        };
        with(|a| a.categories = cats.clone());
        let Some(table) = by_id("categories-table") else {
            return;
        };
        clear(&table);
        let head = el("tr");
        for h in ["Name", "State", "Actions"] {
            append(&head, &[&el_text("th", "", h)]);
        }
        append(&table, &[&head]);
        for c in cats {
            let tr = el("tr");
            testid(&tr, "category-row");
            attr(&tr, "data-category-id", &c.id.to_string());
            let name = input("text", "category-rename", "");
            name.set_value(&c.name);
            attr(&name, "aria-label", &format!("Name of {}", c.name));
            let id = c.id;
            let n2 = name.clone();
            let save = button("Rename", "category-save", "", move |_| {
                update_category(
                    id,
                    UpdateCategoryRequest {
                        name: Some(n2.value()),
                        archived: None,
                    },
                )
            });
            let archived = c.archived;
            let arch = button(
                if archived { "Restore" } else { "Archive" },
                "category-archive",
                "",
                move |_| {
                    update_category(
                        id,
                        UpdateCategoryRequest {
                            name: None,
                            archived: Some(!archived),
                        },
                    )
                },
            );
            let td = el("td");
            append(&td, &[&name]);
            let actions = el("td");
            append(&actions, &[&save, &arch]);
            append(
                &tr,
                &[
                    &td,
                    &el_text("td", "", if archived { "archived" } else { "active" }),
                    &actions,
                ],
            );
            append(&table, &[&tr]);
        }
    });
}

fn update_category(id: Uuid, req: UpdateCategoryRequest) {
    let body = wire::body(&req);
    wasm_bindgen_futures::spawn_local(async move {
        match net::json::<CategoryView>("PATCH", &format!("/api/v1/categories/{id}"), Some(body))
            .await
        {
            Ok(_) => {
                reload_categories();
                render_filters_categories();
            }
            Err(e) => toast(&e.message),
        }
    });
}

pub(super) fn render_audit(main: &Element) {
    let page = el_class("div", "page");
    testid(&page, "audit-page");
    let bar = el_class("div", "toolbar");
    let actor = input("text", "audit-actor", "actor user id");
    attr(&actor, "id", "audit-actor");
    let mut actions = vec![("".to_owned(), "any".to_owned())];
    actions.extend(opts(AuditAction::ALL, AuditAction::as_str));
    let action = select("audit-action", &actions, "");
    attr(&action, "id", "audit-action");
    let go = button("Filter", "audit-go", "primary", |_| load_audit(None));
    append(
        &bar,
        &[
            &labelled("Actor ", &actor),
            &labelled("Action ", &action),
            &go,
        ],
    );
    let table = el("table");
    attr(&table, "id", "audit-table");
    testid(&table, "audit-table");
    let more = button("Older entries", "audit-more", "more", |_| {
        load_audit(by_id("audit-more").and_then(|b| b.get_attribute("data-cursor")))
    });
    attr(&more, "id", "audit-more");
    attr(&more, "hidden", "");
    append(
        &page,
        &[&el_text("h2", "", "Audit log"), &bar, &table, &more],
    );
    append(main, &[&page]);
    load_audit(None);
}

fn load_audit(cursor: Option<String>) {
    let actor = Uuid::try_parse(value_of("audit-actor").trim()).ok();
    let action =
        serde_json::from_value::<AuditAction>(serde_json::Value::String(value_of("audit-action")))
            .ok();
    let q = crate::query::audit_query(actor, action, cursor.as_deref(), 50);
    wasm_bindgen_futures::spawn_local(async move {
        let Some(table) = by_id("audit-table") else {
            return;
        };
        match net::get::<Page<AuditEntryView>>(&format!("/api/v1/audit{q}")).await {
            Ok(p) => {
                if cursor.is_none() {
                    clear(&table);
                    let head = el("tr");
                    for h in ["When", "Actor", "Action", "Target", "Detail", "IP"] {
                        append(&head, &[&el_text("th", "", h)]);
                    }
                    append(&table, &[&head]);
                }
                for e in p.items {
                    let tr = el("tr");
                    testid(&tr, "audit-row");
                    let actor = e
                        .actor_id
                        .map(|a| with(|x| x.name_of(a)).unwrap_or_else(|| a.to_string()))
                        .unwrap_or_default();
                    let target = format!(
                        "{} {}",
                        e.target_type.as_deref().unwrap_or(""),
                        e.target_id.as_deref().unwrap_or("")
                    );
                    for c in [
                        time_text(e.at),
                        actor,
                        e.action.as_str().replace('_', " "),
                        target.trim().to_owned(),
                        e.detail.clone().unwrap_or_default(),
                        e.source_ip.clone().unwrap_or_default(),
                    ] {
                        append(&tr, &[&el_text("td", "", &c)]);
                    }
                    append(&table, &[&tr]);
                }
                if let Some(m) = by_id("audit-more") {
                    match p.next_cursor {
                        Some(c) => {
                            attr(&m, "data-cursor", &c);
                            let _ = m.remove_attribute("hidden");
                        }
                        None => attr(&m, "hidden", ""),
                    }
                }
            }
            Err(e) => toast(&e.message),
        }
    });
}
