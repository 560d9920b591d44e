//! Keyboard shortcuts (`?` lists them in the console).

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// `j`: open the next ticket of the inbox.
    Next,
    /// `k`: open the previous ticket.
    Previous,
    /// `c`: claim the open ticket.
    Claim,
    /// `r`: focus the composer.
    Reply,
    /// `?`: show the list of shortcuts.
    Help,
    /// `Escape`: close the shortcut list.
    Close,
}

/// Every shortcut with its key and what it does (the `?` list).
pub const LIST: &[(&str, &str)] = &[
    ("j", "next ticket"),
    ("k", "previous ticket"),
    ("c", "claim the open ticket"),
    ("r", "reply: focus the composer"),
    ("?", "show this list"),
    ("Esc", "close this list"),
];

/// The shortcut of a key press, if any. Presses while typing in a field or
/// with a modifier (Ctrl, Alt, Meta) are the field's or the browser's.
pub fn shortcut(key: &str, in_field: bool, modifier: bool) -> Option<Shortcut> {
    if modifier {
        return None;
    }
    if key == "Escape" {
        return Some(Shortcut::Close);
    }
    if in_field {
        return None;
    }
    match key {
        "j" => Some(Shortcut::Next),
        "k" => Some(Shortcut::Previous),
        "c" => Some(Shortcut::Claim),
        "r" => Some(Shortcut::Reply),
        "?" => Some(Shortcut::Help),
        _ => None,
    }
}

/// The index `step` rows away from `current` in a list of `len` rows,
/// clamped to the list (none selected: the first row).
pub fn step(current: Option<usize>, len: usize, forward: bool) -> Option<usize> {
    if len == 0 {
        return None;
    }
    Some(match current {
        None => 0,
        Some(i) if forward => (i + 1).min(len - 1),
        Some(i) => i.saturating_sub(1),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_outside_fields_only() {
        assert_eq!(shortcut("j", false, false), Some(Shortcut::Next));
        assert_eq!(shortcut("k", false, false), Some(Shortcut::Previous));
        assert_eq!(shortcut("c", false, false), Some(Shortcut::Claim));
        assert_eq!(shortcut("r", false, false), Some(Shortcut::Reply));
        assert_eq!(shortcut("?", false, false), Some(Shortcut::Help));
        assert_eq!(shortcut("j", true, false), None);
        assert_eq!(shortcut("c", false, true), None);
        assert_eq!(shortcut("Escape", true, false), Some(Shortcut::Close));
        assert_eq!(shortcut("x", false, false), None);
    }

    #[test]
    fn stepping_clamps() {
        assert_eq!(step(None, 3, true), Some(0));
        assert_eq!(step(Some(0), 3, true), Some(1));
        assert_eq!(step(Some(2), 3, true), Some(2));
        assert_eq!(step(Some(0), 3, false), Some(0));
        assert_eq!(step(Some(2), 3, false), Some(1));
        assert_eq!(step(Some(1), 0, true), None);
    }
}
