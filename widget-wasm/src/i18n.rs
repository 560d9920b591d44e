//! The widget's strings, in English and German.
//!
//! A struct of `&'static str` per locale (not a map or a format library):
//! the whole table costs a few hundred bytes of WASM and a missing string is
//! a compile error, not a blank label.

use crate::out::{cat, num};

/// A language the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// English (the fallback for every unknown language).
    #[default]
    En,
    /// German.
    De,
}

impl Locale {
    /// Picks a locale from a tag such as `de`, `de-AT` or `en_US`; unknown
    /// languages fall back to English rather than showing nothing.
    pub fn parse(tag: &str) -> Locale {
        let lang = crate::text::before(crate::text::before(tag, b'-'), b'_');
        if lang.eq_ignore_ascii_case("de") {
            Locale::De
        } else {
            Locale::En
        }
    }

    /// The BCP 47 tag (for `lang` attributes).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// The string table of this locale.
    pub fn strings(self) -> &'static Strings {
        match self {
            Locale::En => &EN,
            Locale::De => &DE,
        }
    }
}

/// Every fixed text the widget shows or reads out to screen readers.
#[derive(Debug)]
pub struct Strings {
    /// Launcher label while the panel is closed.
    pub open_chat: &'static str,
    /// Launcher and close-button label while the panel is open.
    pub close_chat: &'static str,
    /// The panel's accessible name.
    pub chat: &'static str,
    /// Greeting shown above an empty conversation.
    pub greeting: &'static str,
    /// Composer placeholder and label.
    pub input: &'static str,
    /// Send button label.
    pub send: &'static str,
    /// Shown while (re)connecting.
    pub connecting: &'static str,
    /// Shown when the browser or the server is unreachable.
    pub offline: &'static str,
    /// Header when no agent is online and no reply time is known.
    pub reply_asap: &'static str,
    /// Ticket banner: resolved.
    pub resolved: &'static str,
    /// Ticket banner: closed.
    pub closed: &'static str,
    /// Button that starts a fresh ticket.
    pub new_conversation: &'static str,
    /// Heading of the earlier-conversations list.
    pub earlier: &'static str,
    /// Shown while an agent types.
    pub typing: &'static str,
    /// Pre-chat form: name field.
    pub name: &'static str,
    /// Pre-chat form: email field.
    pub email: &'static str,
    /// Pre-chat form: submit button.
    pub start: &'static str,
    /// Tick label: not yet acknowledged by the server.
    pub tick_pending: &'static str,
    /// Tick label: stored by the server.
    pub tick_sent: &'static str,
    /// Tick label: reached support.
    pub tick_delivered: &'static str,
    /// Tick label: read by support.
    pub tick_read: &'static str,
    /// Unread badge label suffix ("3 unread").
    pub unread: &'static str,
    /// A message could not be sent (shown with the draft put back).
    pub send_failed: &'static str,
}

static EN: Strings = Strings {
    open_chat: "Open chat",
    close_chat: "Close chat",
    chat: "Chat with support",
    greeting: "Hi! How can we help you?",
    input: "Write a message…",
    send: "Send",
    connecting: "Connecting…",
    offline: "You are offline. Messages will be sent when the connection is back.",
    reply_asap: "We'll reply as soon as we can",
    resolved: "This conversation was marked as resolved.",
    closed: "This conversation is closed.",
    new_conversation: "Start a new conversation",
    earlier: "Earlier conversations",
    typing: "Support is typing…",
    name: "Name",
    email: "Email",
    start: "Start chat",
    tick_pending: "Sending",
    tick_sent: "Sent",
    tick_delivered: "Delivered",
    tick_read: "Read",
    unread: "unread",
    send_failed: "The message could not be sent.",
};

static DE: Strings = Strings {
    open_chat: "Chat öffnen",
    close_chat: "Chat schließen",
    chat: "Chat mit dem Support",
    greeting: "Hallo! Wie können wir helfen?",
    input: "Nachricht schreiben…",
    send: "Senden",
    connecting: "Verbinde…",
    offline: "Sie sind offline. Nachrichten werden gesendet, sobald die Verbindung wieder steht.",
    reply_asap: "Wir antworten so schnell wie möglich",
    resolved: "Diese Unterhaltung wurde als gelöst markiert.",
    closed: "Diese Unterhaltung ist geschlossen.",
    new_conversation: "Neue Unterhaltung beginnen",
    earlier: "Frühere Unterhaltungen",
    typing: "Der Support schreibt…",
    name: "Name",
    email: "E-Mail",
    start: "Chat starten",
    tick_pending: "Wird gesendet",
    tick_sent: "Gesendet",
    tick_delivered: "Zugestellt",
    tick_read: "Gelesen",
    unread: "ungelesen",
    send_failed: "Die Nachricht konnte nicht gesendet werden.",
};

/// The header's presence line: agents online, else the usual reply time,
/// else the generic promise (also when the server has no status endpoint).
pub fn presence(locale: Locale, agents_online: Option<u32>, reply_within_s: Option<u64>) -> String {
    match (locale, agents_online) {
        (Locale::En, Some(1)) => return "1 agent online".to_owned(),
        (Locale::En, Some(n)) if n > 1 => return cat(&[&num(n.into()), " agents online"]),
        (Locale::De, Some(1)) => return "1 Mitarbeiter:in online".to_owned(),
        (Locale::De, Some(n)) if n > 1 => {
            return cat(&[&num(n.into()), " Mitarbeitende online"]);
        }
        _ => {}
    }
    match reply_within_s {
        Some(s) => {
            let d = duration(locale, s);
            match locale {
                Locale::En => cat(&["We usually reply within ", &d]),
                Locale::De => cat(&["Wir antworten meist innerhalb von ", &d]),
            }
        }
        None => locale.strings().reply_asap.to_owned(),
    }
}

/// A rough human duration: minutes below two hours, then hours, then days
/// (a reply-time promise needs no more precision).
fn duration(locale: Locale, secs: u64) -> String {
    let mins = secs.div_ceil(60).max(1);
    let (n, unit) = if mins < 120 {
        (mins, 0)
    } else if mins < 48 * 60 {
        (mins.div_ceil(60), 1)
    } else {
        (mins.div_ceil(24 * 60), 2)
    };
    let one = n == 1;
    let word = match (locale, unit, one) {
        (Locale::En, 0, true) => "minute",
        (Locale::En, 0, false) => "minutes",
        (Locale::En, 1, true) => "hour",
        (Locale::En, 1, false) => "hours",
        (Locale::En, _, true) => "day",
        (Locale::En, _, false) => "days",
        (Locale::De, 0, true) => "Minute",
        (Locale::De, 0, false) => "Minuten",
        (Locale::De, 1, true) => "Stunde",
        (Locale::De, 1, false) => "Stunden",
        (Locale::De, _, true) => "Tag",
        (Locale::De, _, false) => "Tagen",
    };
    cat(&[&num(n), " ", word])
}

/// The counter near the length limit, `used / max`.
pub fn counter(used: usize, max: usize) -> String {
    cat(&[&num(used as u64), " / ", &num(max as u64)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_tags() {
        assert_eq!(Locale::parse("de-AT"), Locale::De);
        assert_eq!(Locale::parse("DE"), Locale::De);
        assert_eq!(Locale::parse("en_US"), Locale::En);
        assert_eq!(Locale::parse("fr"), Locale::En);
        assert_eq!(Locale::parse(""), Locale::En);
    }

    #[test]
    fn presence_lines() {
        assert_eq!(presence(Locale::En, Some(2), None), "2 agents online");
        assert_eq!(presence(Locale::En, Some(1), Some(60)), "1 agent online");
        assert_eq!(
            presence(Locale::En, Some(0), Some(300)),
            "We usually reply within 5 minutes"
        );
        assert_eq!(
            presence(Locale::En, None, Some(7200)),
            "We usually reply within 2 hours"
        );
        assert_eq!(
            presence(Locale::De, Some(0), Some(30)),
            "Wir antworten meist innerhalb von 1 Minute"
        );
        assert_eq!(
            presence(Locale::De, None, Some(3 * 86400)),
            "Wir antworten meist innerhalb von 3 Tagen"
        );
        assert_eq!(
            presence(Locale::En, None, None),
            "We'll reply as soon as we can"
        );
        assert_eq!(
            presence(Locale::De, Some(3), None),
            "3 Mitarbeitende online"
        );
    }

    #[test]
    fn every_string_is_translated() {
        // Debug prints every field: an empty one would show up as "".
        for l in [Locale::En, Locale::De] {
            assert!(!format!("{:?}", l.strings()).contains("\"\""));
        }
    }
}
