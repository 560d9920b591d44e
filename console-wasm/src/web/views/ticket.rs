//! The open ticket: its header and controls, the conversation, the composer
//! and the side panel.

use super::*;

pub(super) fn render_ticket_pane() {
    let Some(pane) = by_id("ticket-pane") else {
        return;
    };
    let open = with_ref(|a| a.live.conv.as_ref().map(|c| c.ticket_id));
    let shown = by_id("ticket").and_then(|t| t.get_attribute("data-ticket-id"));
    if open.map(|o| o.to_string()) == shown && shown.is_some() {
        return;
    }
    clear(&pane);
    let Some(id) = open else {
        append(
            &pane,
            &[&el_text(
                "p",
                "empty",
                "Select a ticket from the inbox (j/k, ? for shortcuts).",
            )],
        );
        return;
    };
    let ticket = el_class("div", "ticket");
    attr(&ticket, "id", "ticket");
    attr(&ticket, "data-ticket-id", &id.to_string());
    testid(&ticket, "ticket");
    let conv = el_class("div", "conv");
    let head = el_class("div", "ticket-head");
    attr(&head, "id", "ticket-head");
    let list = el_class("ul", "messages");
    attr(&list, "id", "message-list");
    attr(&list, "aria-label", "Conversation");
    attr(&list, "aria-live", "polite");
    testid(&list, "message-list");
    let typing = el_class("div", "typing");
    attr(&typing, "id", "typing");
    testid(&typing, "typing-indicator");
    let form = el_class("form", "composer");
    attr(&form, "id", "composer-form");
    testid(&form, "composer-form");
    let label = el_text("label", "visually-hidden", "Reply");
    attr(&label, "for", "composer");
    let text: HtmlTextAreaElement = el("textarea").unchecked_into();
    attr(&text, "id", "composer");
    testid(&text, "composer");
    text.set_placeholder("Reply to the customer (Enter sends, Shift+Enter: new line)");
    let max = with_ref(|a| a.live.limits.map_or(10_000, |l| l.max_body_chars));
    attr(&text, "maxlength", &max.to_string());
    let send = el_text("button", "primary", "Send");
    attr(&send, "type", "submit");
    testid(&send, "send");
    let row = el_class("div", "row");
    let toggle = input("checkbox", "internal-toggle", "");
    attr(&toggle, "id", "internal-toggle");
    let tl = labelled(" Internal note (never shown to the customer)", &toggle);
    append(&row, &[&tl]);
    append(&form, &[&label, &text, &send, &row]);
    {
        let f = form.clone();
        crate::web::dom::on(&toggle, "change", move |_| {
            let on = by_id("internal-toggle")
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .is_some_and(|t| t.checked());
            f.set_class_name(if on { "composer internal" } else { "composer" });
            if let Some(b) = by_id("composer-form")
                .and_then(|f| f.query_selector("button[type=submit]").ok().flatten())
            {
                b.set_text_content(Some(if on { "Add note" } else { "Send" }));
            }
        });
    }
    crate::web::dom::on(&form, "submit", |e: Event| {
        e.prevent_default();
        send_composer();
    });
    crate::web::dom::on(&text, "keydown", |e: Event| {
        if let Some(k) = e.dyn_ref::<KeyboardEvent>()
            && k.key() == "Enter"
            && !k.shift_key()
            && !k.is_composing()
        {
            e.prevent_default();
            send_composer();
        }
    });
    {
        let t = text.clone();
        crate::web::dom::on(&text, "input", move |_| {
            let value = t.value();
            with(|a| {
                if value.is_empty() {
                    a.drafts.remove(&id);
                } else {
                    a.drafts.insert(id, value);
                }
            });
            crate::web::composer_typed();
        });
    }
    if let Some(draft) = with_ref(|a| a.drafts.get(&id).cloned()) {
        text.set_value(&draft);
    }
    append(&conv, &[&head, &list, &typing, &form]);
    let side = el_class("aside", "side");
    attr(&side, "id", "side");
    attr(&side, "aria-label", "Customer and history");
    append(&ticket, &[&conv, &side]);
    append(&pane, &[&ticket]);
    render_ticket_head();
    render_messages();
    render_typing();
    render_side();
}

pub(super) fn send_composer() {
    let Some(text) = by_id("composer").and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
    else {
        return;
    };
    let body = text.value();
    if body.trim().is_empty() {
        return;
    }
    let internal = by_id("internal-toggle")
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .is_some_and(|t| t.checked());
    let Some(id) = with_ref(|a| a.live.conv.as_ref().map(|c| c.ticket_id)) else {
        return;
    };
    text.set_value("");
    with(|a| a.drafts.remove(&id));
    crate::web::typing_stopped(id);
    let cmid = crate::web::client_msg_id();
    crate::web::live(|l| l.compose(cmid, body, internal));
    scroll_bottom();
}

pub(super) fn scroll_bottom() {
    if let Some(l) = by_id("message-list") {
        l.set_scroll_top(l.scroll_height());
    }
}

/// The open ticket's header: subject, claim, assignment, status,
/// priority, category, the "claimed by" notice.
pub(crate) fn render_ticket_head() {
    let Some(head) = by_id("ticket-head") else {
        return;
    };
    let (t, notice, me, cats, staff) = with_ref(|a| {
        (
            a.live.open.clone(),
            a.live.claimed_notice.clone(),
            a.me().map(|m| m.id),
            a.categories.clone(),
            a.staff.clone(),
        )
    });
    clear(&head);
    let Some(t) = t else {
        append(&head, &[&el_text("h2", "", "Loading…")]);
        return;
    };
    let h = el_text("h2", "", &format!("#{} {}", t.number, t.subject));
    testid(&h, "ticket-subject");
    let controls = el_class("div", "controls");
    let assignee_text = match t.assignee_id {
        None => "Unassigned".to_owned(),
        Some(id) if Some(id) == me => "Assigned to you".to_owned(),
        Some(id) => format!(
            "Assigned to {}",
            with(|a| a.name_of(id)).unwrap_or_else(|| "another agent".into())
        ),
    };
    let who = el_text("span", "pill", &assignee_text);
    testid(&who, "ticket-assignee");
    let id = t.id;
    let claim = button("Claim", "claim", "primary", move |_| crate::web::claim(id));
    attr(&claim, "aria-keyshortcuts", "c");
    if t.assignee_id.is_some() {
        attr(&claim, "disabled", "");
    }
    // Assignment: anyone of the staff directory, with presence and load.
    let choices = crate::staff::assign_choices(&staff, me, t.assignee_id, |a| {
        with(|x| x.name_of(a)).unwrap_or_else(|| "current agent".into())
    });
    let assign = select(
        "assign-select",
        &choices,
        &t.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
    );
    {
        let s = assign.clone();
        crate::web::dom::on(&assign, "change", move |_| {
            let v = Uuid::try_parse(&s.value()).ok();
            wasm_bindgen_futures::spawn_local(async move {
                let r = match v {
                    Some(user) => {
                        let body = wire::body(&neurochat_protocol::v1::AssignRequest {
                            assignee_id: Some(user),
                        });
                        net::json::<TicketView>(
                            "PUT",
                            &format!("/api/v1/tickets/{id}/assignee"),
                            Some(body),
                        )
                        .await
                    }
                    None => {
                        net::json::<TicketView>(
                            "DELETE",
                            &format!("/api/v1/tickets/{id}/assignee"),
                            None,
                        )
                        .await
                    }
                };
                ticket_updated(r);
            });
        });
    }
    let status = select(
        "status-select",
        &opts(TicketStatus::ALL, TicketStatus::as_str),
        t.status.as_str(),
    );
    let priority = select(
        "priority-select",
        &opts(Priority::ALL, Priority::as_str),
        t.priority.as_str(),
    );
    let mut cat_opts = vec![("".to_owned(), "none".to_owned())];
    cat_opts.extend(
        cats.iter()
            .filter(|c| !c.archived || Some(c.id) == t.category_id)
            .map(|c| (c.id.to_string(), c.name.clone())),
    );
    let category = select(
        "category-select",
        &cat_opts,
        &t.category_id.map(|c| c.to_string()).unwrap_or_default(),
    );
    for (s, field) in [(&status, 0), (&priority, 1), (&category, 2)] {
        let s2 = s.clone();
        crate::web::dom::on(s, "change", move |_| {
            let v = serde_json::Value::String(s2.value());
            let mut req = UpdateTicketRequest::default();
            match field {
                0 => req.status = serde_json::from_value(v).ok(),
                1 => req.priority = serde_json::from_value(v).ok(),
                _ => req.category_id = Some(Uuid::try_parse(&s2.value()).ok()),
            }
            let body = wire::body(&req);
            wasm_bindgen_futures::spawn_local(async move {
                ticket_updated(
                    net::json::<TicketView>("PATCH", &format!("/api/v1/tickets/{id}"), Some(body))
                        .await,
                );
            });
        });
    }
    let side_toggle = button("Details", "toggle-side", "", |_| {
        if let Some(t) = by_id("ticket") {
            let _ = t.class_list().toggle("show-side");
        }
    });
    append(
        &controls,
        &[
            &who,
            &claim,
            &labelled("Assignee", &assign),
            &labelled("Status", &status),
            &labelled("Priority", &priority),
            &labelled("Category", &category),
            &side_toggle,
        ],
    );
    append(&head, &[&h, &controls]);
    if let Some(n) = notice {
        let p = el_text("p", "notice", &n);
        testid(&p, "claimed-by");
        attr(&p, "role", "alert");
        append(&head, &[&p]);
    }
}

pub(super) fn ticket_updated(r: Result<TicketView, neurochat_protocol::v1::ErrorBody>) {
    match r {
        Ok(t) => {
            with(|a| {
                if a.live.open.as_ref().is_some_and(|o| o.id == t.id) {
                    a.live.open = Some(t.clone());
                }
                a.live.inbox.upsert(t);
            });
            render_inbox_list();
        }
        Err(e) => toast(&e.message),
    }
    render_ticket_head();
    crate::web::reload_staff();
}

/// The conversation (each `seq` once, then the optimistic sends).
pub(crate) fn render_messages() {
    let Some(list) = by_id("message-list") else {
        return;
    };
    let at_bottom = list.scroll_top() + list.client_height() >= list.scroll_height() - 40;
    struct Row {
        seq: Option<u64>,
        kind: MessageKind,
        author: Option<Uuid>,
        body: String,
        when: String,
        tick: Option<&'static str>,
        cmid: Option<String>,
        failed: Option<String>,
    }
    let (rows, more, id) = with_ref(|a| {
        let Some(c) = a.live.conv.as_ref() else {
            return (Vec::new(), false, None);
        };
        let rows = c
            .items()
            .into_iter()
            .map(|i| match i {
                Item::Message(m) => Row {
                    seq: Some(m.seq),
                    kind: m.kind,
                    author: m.author_id,
                    body: m.body.clone(),
                    when: time_text(m.created_at),
                    tick: c.tick(m).map(|t| t.as_str()),
                    cmid: None,
                    failed: None,
                },
                Item::Pending(p) => Row {
                    seq: None,
                    kind: if p.internal {
                        MessageKind::InternalNote
                    } else {
                        MessageKind::Agent
                    },
                    author: a.me().map(|m| m.id),
                    body: p.body.clone(),
                    when: String::new(),
                    tick: p.failed.is_none().then_some("pending"),
                    cmid: Some(p.client_msg_id.clone()),
                    failed: p.failed.clone(),
                },
            })
            .collect::<Vec<_>>();
        (rows, c.more_before, Some(c.ticket_id))
    });
    clear(&list);
    if more && let Some(id) = id {
        let li = el("li");
        let b = button("Earlier messages", "load-earlier", "", move |_| {
            load_earlier(id)
        });
        append(&li, &[&b]);
        append(&list, &[&li]);
    }
    let me = with_ref(|a| a.me().map(|m| m.id));
    for r in rows {
        let li = el_class("li", "msg");
        testid(&li, "message");
        attr(&li, "data-kind", r.kind.as_str());
        if let Some(s) = r.seq {
            attr(&li, "data-seq", &s.to_string());
        }
        if let Some(c) = &r.cmid {
            attr(&li, "data-pending", "true");
            attr(&li, "data-client-msg-id", c);
        }
        let name = match r.author {
            Some(a) if Some(a) == me => "You".to_owned(),
            Some(a) => with(|x| x.name_of(a)).unwrap_or_else(|| match r.kind {
                MessageKind::Customer => "Customer".into(),
                _ => "Agent".into(),
            }),
            None => "System".into(),
        };
        let label = match r.kind {
            MessageKind::InternalNote => format!("Internal note · {name} {}", r.when),
            _ => format!("{name} {}", r.when),
        };
        let who = el_text("span", "who", label.trim());
        let body = document().create_text_node(&r.body);
        let _ = li.append_child(&who);
        let _ = li.append_child(&body);
        if let Some(t) = r.tick {
            let sym = match t {
                "read" => "✓✓ read",
                "delivered" => "✓✓",
                "sent" => "✓",
                _ => "…",
            };
            let span = el_text("span", "tick", sym);
            testid(&span, "tick");
            attr(&span, "data-tick", t);
            attr(&span, "aria-label", t);
            append(&li, &[&span]);
        }
        if let (Some(why), Some(cmid)) = (r.failed, r.cmid.clone()) {
            let f = el_text("span", "failed", &format!(" Not sent: {why} "));
            let c2 = cmid.clone();
            let retry = button("Retry", "retry-send", "", move |_| {
                with(|a| a.live.conv.as_mut().map(|c| c.retry(&c2)));
                crate::web::live(crate::live::Live::flush);
                render_messages();
            });
            let discard = button("Discard", "discard-send", "", move |_| {
                with(|a| a.live.conv.as_mut().map(|c| c.discard(&cmid)));
                render_messages();
            });
            append(&li, &[&f, &retry, &discard]);
        }
        append(&list, &[&li]);
    }
    if at_bottom {
        scroll_bottom();
    }
}

pub(super) fn load_earlier(id: Uuid) {
    let before = with_ref(|a| a.live.conv.as_ref().and_then(|c| c.first_seq()));
    let Some(before) = before else { return };
    wasm_bindgen_futures::spawn_local(async move {
        let page = net::get::<Page<neurochat_protocol::v1::MessageView>>(&format!(
            "/api/v1/tickets/{id}/messages?before_seq={before}&limit=50"
        ))
        .await;
        if let Ok(p) = page {
            let full = p.items.len() >= 50;
            with(|a| {
                if let Some(c) = a.live.conv.as_mut().filter(|c| c.ticket_id == id) {
                    c.insert_page(p.items);
                    c.more_before = full && c.first_seq().is_some_and(|s| s > 1);
                }
            });
            render_messages();
        }
    });
}

/// Who is typing in the open ticket.
pub(crate) fn render_typing() {
    let Some(t) = by_id("typing") else { return };
    let names: Vec<String> = with(|a| {
        let ids = a
            .live
            .conv
            .as_mut()
            .map(|c| c.typists(now_ms()))
            .unwrap_or_default();
        ids.into_iter()
            .map(|id| a.name_of(id).unwrap_or_else(|| "The customer".into()))
            .collect()
    });
    if names.is_empty() {
        t.set_text_content(None);
        attr(&t, "data-active", "false");
    } else {
        t.set_text_content(Some(&format!("{} is typing…", names.join(", "))));
        attr(&t, "data-active", "true");
    }
}

/// The side panel: customer profile, earlier tickets, the audit trail.
pub(crate) fn render_side() {
    let Some(side) = by_id("side") else { return };
    let Some(t) = with_ref(|a| a.live.open.clone()) else {
        return;
    };
    if side.get_attribute("data-for").as_deref() == Some(t.id.to_string().as_str()) {
        return;
    }
    attr(&side, "data-for", &t.id.to_string());
    clear(&side);
    let profile = el("div");
    testid(&profile, "customer-profile");
    let earlier = el("ul");
    testid(&earlier, "earlier-tickets");
    let audit = el("ul");
    testid(&audit, "ticket-audit");
    attr(&audit, "data-updated", &t.updated_at.to_string());
    append(
        &side,
        &[
            &el_text("h3", "", "Customer"),
            &profile,
            &el_text("h3", "", "Earlier tickets"),
            &earlier,
            &el_text("h3", "", "Audit trail"),
            &audit,
        ],
    );
    let (customer, ticket) = (t.customer_id, t.id);
    wasm_bindgen_futures::spawn_local(async move {
        match net::get::<UserView>(&format!("/api/v1/users/{customer}")).await {
            Ok(u) => {
                append(&profile, &[&el_text("div", "", &u.display_name)]);
                if let Some(e) = &u.email {
                    append(&profile, &[&el_text("div", "muted", e)]);
                }
                append(
                    &profile,
                    &[&el_text(
                        "div",
                        "muted",
                        &format!("customer since {}", time_text(u.created_at)),
                    )],
                );
                with(|a| a.users.insert(u.id, u));
            }
            Err(e) => append(&profile, &[&el_text("div", "muted", &e.message)]),
        }
        let q = crate::query::customer_tickets_query(customer, 20);
        if let Ok(p) = net::get::<Page<TicketView>>(&format!("/api/v1/tickets{q}")).await {
            for other in p.items.into_iter().filter(|o| o.id != ticket) {
                let li = el("li");
                let a = el_text(
                    "a",
                    "",
                    &format!(
                        "#{} {} ({})",
                        other.number,
                        other.subject,
                        other.status.as_str()
                    ),
                );
                attr(&a, "href", &Route::Ticket(other.id).hash());
                append(&li, &[&a]);
                append(&earlier, &[&li]);
            }
            if earlier.child_element_count() == 0 {
                append(&earlier, &[&el_text("li", "muted", "none")]);
            }
        }
        load_audit_trail(ticket).await;
    });
}

/// The open ticket's audit trail, loaded again (its state changed).
pub(crate) fn refresh_audit_trail() {
    let Some(t) = with_ref(|a| a.live.open.clone()) else {
        return;
    };
    let Some(list) = by_id("side").and_then(|s| {
        s.query_selector("[data-testid=ticket-audit]")
            .ok()
            .flatten()
    }) else {
        return;
    };
    if list.get_attribute("data-updated").as_deref() == Some(t.updated_at.to_string().as_str()) {
        return;
    }
    attr(&list, "data-updated", &t.updated_at.to_string());
    wasm_bindgen_futures::spawn_local(load_audit_trail(t.id));
}

/// Fills the side panel's audit list of `ticket`.
pub(super) async fn load_audit_trail(ticket: Uuid) {
    let Some(audit) = by_id("side").and_then(|s| {
        s.query_selector("[data-testid=ticket-audit]")
            .ok()
            .flatten()
    }) else {
        return;
    };
    // The ticket's trail (staff), newest first, at most 10 pages.
    let id = ticket.to_string();
    let mut cursor: Option<String> = None;
    let mut entries = Vec::new();
    for _ in 0..10 {
        let path = crate::query::ticket_audit_path(ticket, cursor.as_deref(), 100);
        match net::get::<Page<AuditEntryView>>(&path).await {
            Ok(p) => {
                entries.extend(p.items);
                cursor = p.next_cursor;
                if cursor.is_none() {
                    break;
                }
            }
            Err(e) => {
                if by_id("side").and_then(|s| s.get_attribute("data-for")) == Some(id.clone()) {
                    clear(&audit);
                    append(&audit, &[&el_text("li", "muted", &e.message)]);
                }
                return;
            }
        }
    }
    // The panel may show another ticket by now.
    if by_id("side").and_then(|s| s.get_attribute("data-for")) != Some(id.clone()) {
        return;
    }
    clear(&audit);
    // Oldest first, like the conversation.
    for e in entries.into_iter().rev() {
        let who = e
            .actor_id
            .and_then(|a| with(|x| x.name_of(a)))
            .unwrap_or_default();
        let li = el_text(
            "li",
            "",
            &format!(
                "{} {} {}",
                time_text(e.at),
                e.action.as_str().replace('_', " "),
                who
            ),
        );
        testid(&li, "audit-entry");
        attr(&li, "data-action", e.action.as_str());
        append(&audit, &[&li]);
    }
    if audit.child_element_count() == 0 {
        append(&audit, &[&el_text("li", "muted", "nothing recorded")]);
    }
}

/// Names arrived: redraw what shows names.
pub(crate) fn refresh_names() {
    render_inbox_list();
    render_ticket_head();
    render_messages();
    render_typing();
}
