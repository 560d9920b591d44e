//! The staff directory (`GET /api/v1/agents`): whom a ticket can be
//! assigned to, how loaded they are, and the signed-in agent's own load.

use neurochat_protocol::v1::{AgentLoadView, Availability};
use uuid::Uuid;

/// `open/capacity`, e.g. `2/5`.
pub fn load_text(a: &AgentLoadView) -> String {
    format!("{}/{}", a.open_tickets, a.capacity)
}

/// Whether they hold as many open tickets as their capacity (or more).
/// Capacity 0 means "no auto-assignment", not full: such an agent is
/// assigned by hand only.
pub fn is_full(a: &AgentLoadView) -> bool {
    a.capacity > 0 && a.open_tickets >= a.capacity
}

/// The label of one assignee option: `Ana Agent · online · 2/5`, with
/// `(you)` after the signed-in agent's name and `full` when at capacity.
pub fn assign_label(a: &AgentLoadView, me: Option<Uuid>) -> String {
    let you = if Some(a.id) == me { " (you)" } else { "" };
    let full = if is_full(a) { " full" } else { "" };
    format!(
        "{}{you} · {} · {}{full}",
        a.display_name,
        a.availability.as_str(),
        load_text(a)
    )
}

fn availability_rank(a: Availability) -> u8 {
    match a {
        Availability::Online => 0,
        Availability::Away => 1,
        Availability::Offline => 2,
    }
}

/// The assignee `<select>`'s options, `(value, label)`: `""` unassigned
/// first, then the signed-in agent, then the others (online before away
/// before offline, then by name). A `current` assignee missing from the
/// directory (disabled since) is kept, labelled `current_name`, so the
/// select still shows the ticket as it is.
pub fn assign_choices(
    staff: &[AgentLoadView],
    me: Option<Uuid>,
    current: Option<Uuid>,
    current_name: impl FnOnce(Uuid) -> String,
) -> Vec<(String, String)> {
    let mut rows: Vec<&AgentLoadView> = staff.iter().collect();
    rows.sort_by(|a, b| {
        (Some(b.id) == me)
            .cmp(&(Some(a.id) == me))
            .then(availability_rank(a.availability).cmp(&availability_rank(b.availability)))
            .then_with(|| a.display_name.cmp(&b.display_name))
            .then(a.id.cmp(&b.id))
    });
    let mut choices = vec![(String::new(), "unassigned".to_owned())];
    choices.extend(
        rows.into_iter()
            .map(|a| (a.id.to_string(), assign_label(a, me))),
    );
    if let Some(c) = current
        && !staff.iter().any(|a| a.id == c)
    {
        choices.push((c.to_string(), current_name(c)));
    }
    choices
}

/// The signed-in agent's row of the directory.
pub fn mine(staff: &[AgentLoadView], me: Uuid) -> Option<&AgentLoadView> {
    staff.iter().find(|a| a.id == me)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use neurochat_protocol::v1::Role;

    fn agent(
        n: u128,
        name: &str,
        availability: Availability,
        open: u32,
        cap: u32,
    ) -> AgentLoadView {
        AgentLoadView {
            id: Uuid::from_u128(n),
            display_name: name.to_owned(),
            role: Role::Agent,
            availability,
            capacity: cap,
            open_tickets: open,
        }
    }

    #[test]
    fn labels_show_presence_and_load() {
        let a = agent(1, "Ana", Availability::Online, 2, 5);
        assert_eq!(load_text(&a), "2/5");
        assert_eq!(assign_label(&a, None), "Ana · online · 2/5");
        assert_eq!(assign_label(&a, Some(a.id)), "Ana (you) · online · 2/5");
        let full = agent(2, "Bob", Availability::Away, 5, 5);
        assert!(is_full(&full));
        assert_eq!(assign_label(&full, None), "Bob · away · 5/5 full");
        let manual = agent(3, "Cid", Availability::Offline, 1, 0);
        assert!(!is_full(&manual), "capacity 0: no auto-assignment");
        assert_eq!(assign_label(&manual, None), "Cid · offline · 1/0");
    }

    #[test]
    fn choices_put_me_first_then_by_presence_and_name() {
        let me = agent(3, "Zed", Availability::Offline, 0, 5);
        let staff = vec![
            agent(1, "Bob", Availability::Offline, 1, 5),
            agent(2, "Ana", Availability::Away, 0, 5),
            me.clone(),
            agent(4, "Cid", Availability::Online, 3, 4),
            agent(5, "Abe", Availability::Online, 0, 4),
        ];
        let c = assign_choices(&staff, Some(me.id), None, |_| unreachable!());
        let values: Vec<&str> = c.iter().map(|(v, _)| v.as_str()).collect();
        let id = |n: u128| Uuid::from_u128(n).to_string();
        assert_eq!(values, ["", &id(3), &id(5), &id(4), &id(2), &id(1)]);
        assert_eq!(c[0].1, "unassigned");
    }

    #[test]
    fn a_current_assignee_outside_the_directory_is_kept() {
        let staff = vec![agent(1, "Ana", Availability::Online, 0, 5)];
        let gone = Uuid::from_u128(9);
        let c = assign_choices(&staff, None, Some(gone), |_| "Gone Agent".into());
        assert_eq!(
            c.last().unwrap(),
            &(gone.to_string(), "Gone Agent".to_owned())
        );
        let c = assign_choices(&staff, None, Some(staff[0].id), |_| unreachable!());
        assert_eq!(c.len(), 2);
        assert_eq!(mine(&staff, staff[0].id).map(|a| a.open_tickets), Some(0));
        assert!(mine(&staff, gone).is_none());
    }
}
