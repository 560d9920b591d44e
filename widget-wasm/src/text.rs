//! Message text: splitting bodies into plain text and links, the subject of a
//! new ticket, and the cleanup a body needs before it is sent.
//!
//! Strings are sliced with `get` only: a panicking slice drags the panic
//! message formatting (char escaping, Unicode tables) into the WASM.
//!
//! Pure and tested natively: the DOM layer only turns [`Segment`]s into text
//! nodes and `<a>` elements, so whatever a body contains (markup included)
//! can never become anything but text.

/// A piece of a message body, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Plain text, shown as a text node.
    Text(&'a str),
    /// An `http`/`https` URL, shown as a link with the same text.
    Link(&'a str),
}

/// Splits a body into text and `http(s)://` links.
///
/// Only the two web schemes are linked: `javascript:`, `data:` and friends
/// stay text, so a body can never smuggle script into an `href`. Trailing
/// punctuation (`.`, `,`, `)` without its `(`…) belongs to the sentence, not
/// the URL, as readers expect.
pub fn linkify(body: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let bytes = body.as_bytes();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(rest) = body.get(i..) else { break };
        let scheme = if starts_with_ci(rest, "https://") {
            8
        } else if starts_with_ci(rest, "http://") {
            7
        } else {
            0
        };
        let at_boundary = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if scheme > 0 && at_boundary {
            let end = url_end(rest);
            if end > scheme {
                if text_start < i {
                    out.extend(body.get(text_start..i).map(Segment::Text));
                }
                out.extend(rest.get(..end).map(Segment::Link));
                i += end;
                text_start = i;
                continue;
            }
        }
        // Advance by one whole character (bodies are UTF-8).
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    if text_start < body.len() {
        out.extend(body.get(text_start..).map(Segment::Text));
    }
    out
}

fn count(s: &str, b: u8) -> usize {
    s.bytes().filter(|c| *c == b).count()
}

/// The text before the first `sep` (an ASCII byte), or all of it. Byte
/// loops instead of `str::split`/`find`: the pattern machinery is a few
/// kilobytes of WASM.
pub fn before(s: &str, sep: u8) -> &str {
    s.bytes()
        .position(|b| b == sep)
        .and_then(|i| s.get(..i))
        .unwrap_or(s)
}

/// The pieces of `s` between `sep` bytes (ASCII), like `split`.
pub fn pieces(s: &str, sep: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == sep {
            out.extend(s.get(start..i));
            start = i + 1;
        }
    }
    out.extend(s.get(start..));
    out
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Byte length of the URL at the start of `s` (scheme included).
fn url_end(s: &str) -> usize {
    let mut end = 0;
    for (idx, c) in s.char_indices() {
        if c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`') {
            break;
        }
        end = idx + c.len_utf8();
    }
    // Give trailing sentence punctuation back to the text.
    let mut url = s.get(..end).unwrap_or("");
    while let Some(last) = url.chars().last() {
        let strip = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' => true,
            ')' => count(url, b'(') < count(url, b')'),
            ']' => count(url, b'[') < count(url, b']'),
            _ => false,
        };
        if !strip {
            break;
        }
        url = url.get(..url.len() - last.len_utf8()).unwrap_or("");
    }
    url.len()
}

/// Cleans a body the visitor typed: `\r\n` becomes `\n`, control characters
/// other than newline and tab are dropped (the server rejects them), and the
/// ends are trimmed (the server stores the trimmed text, so the optimistic
/// bubble shows what will be stored).
pub fn clean_body(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    let mut after_cr = false;
    for c in raw.chars() {
        match c {
            '\n' if after_cr => {}
            '\r' => s.push('\n'),
            c if !c.is_control() || c == '\n' || c == '\t' => s.push(c),
            _ => {}
        }
        after_cr = c == '\r';
    }
    s.trim().to_owned()
}

/// Longest subject the server accepts, in characters.
pub const SUBJECT_MAX: usize = 200;

/// The subject of a new ticket: the first non-empty line of its first
/// message, trimmed, without control characters (tabs become spaces), cut
/// to [`SUBJECT_MAX`] characters with an ellipsis.
pub fn subject_of(body: &str) -> String {
    let line = pieces(body, b'\n')
        .into_iter()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let line: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    let line = line.trim();
    if line.is_empty() {
        return "…".to_owned();
    }
    if line.chars().count() <= SUBJECT_MAX {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(SUBJECT_MAX - 1).collect();
    s.truncate(s.trim_end().len());
    s.push('…');
    s
}

/// Number of characters (what the server's limits count, not bytes).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// The origin of a URL (`scheme://host[:port]`), as `new URL(u).origin`
/// gives it for the http(s) URLs a server setting holds; it keys the
/// widget's storage, which the loader reads with `URL.origin`.
pub fn origin(url: &str) -> &str {
    let Some(start) = url
        .as_bytes()
        .windows(3)
        .position(|w| w == b"://")
        .map(|i| i + 3)
    else {
        return url;
    };
    let end = url
        .get(start..)
        .and_then(|rest| rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')))
        .map_or(url.len(), |i| start + i);
    url.get(..end).unwrap_or(url)
}

/// Local `HH:MM` from an RFC 3339 timestamp, without a date library: the
/// widget only shows the time of day, and `offset_minutes` (the browser's
/// local offset east of UTC) comes from the caller. `None` when the
/// timestamp is not of the form the server writes.
pub fn clock(rfc3339: &str, offset_minutes: i32) -> Option<String> {
    let b = rfc3339.as_bytes();
    if b.len() < 16 || b[13] != b':' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    // Two ASCII digits at `at` (no `str::parse`: it would pull in more code).
    let two = |s: &str, at: usize| -> Option<i32> {
        let d = s.as_bytes().get(at..at + 2)?;
        let v = |c: u8| c.is_ascii_digit().then_some(i32::from(c - b'0'));
        Some(v(d[0])? * 10 + v(d[1])?)
    };
    let num = |r: std::ops::Range<usize>| two(rfc3339, r.start);
    let (h, m) = (num(11..13)?, num(14..16)?);
    // The server writes UTC (`Z`); an explicit offset is honoured too.
    let tail = rfc3339.get(16..)?;
    let skip = tail
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b':' || *b == b'.')
        .count();
    let zone = tail.get(skip..)?;
    let zone_minutes = match zone.as_bytes().first() {
        Some(b'+') | Some(b'-') if zone.len() >= 6 => {
            let sign = if zone.as_bytes().first() == Some(&b'-') {
                -1
            } else {
                1
            };
            let zh = two(zone, 1)?;
            let zm = two(zone, 4)?;
            sign * (zh * 60 + zm)
        }
        _ => 0,
    };
    let total = (h * 60 + m - zone_minutes + offset_minutes).rem_euclid(24 * 60);
    let (h, m) = (total / 60, total % 60);
    let d = |v: i32| char::from(b'0' + (v % 10) as u8);
    Some([d(h / 10), d(h), ':', d(m / 10), d(m)].iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_only_http_and_https() {
        assert_eq!(
            linkify("see https://example.com/a?b=1 now"),
            vec![
                Segment::Text("see "),
                Segment::Link("https://example.com/a?b=1"),
                Segment::Text(" now")
            ]
        );
        assert_eq!(
            linkify("javascript:alert(1) data:text/html,<b>x</b> ftp://x"),
            vec![Segment::Text(
                "javascript:alert(1) data:text/html,<b>x</b> ftp://x"
            )]
        );
        assert_eq!(linkify("HTTP://A.B"), vec![Segment::Link("HTTP://A.B")]);
    }

    #[test]
    fn markup_stays_text() {
        let body = "<img src=x onerror=alert(1)><script>alert(1)</script>";
        assert_eq!(linkify(body), vec![Segment::Text(body)]);
        // A URL cannot break out into markup either: `<` and `"` end it.
        assert_eq!(
            linkify("http://a.b/\"><script>"),
            vec![Segment::Link("http://a.b/"), Segment::Text("\"><script>")]
        );
    }

    #[test]
    fn trailing_punctuation_is_text() {
        assert_eq!(
            linkify("Go to http://a.b/c. Then (http://x.y/z) or http://w.io/a_(b)!"),
            vec![
                Segment::Text("Go to "),
                Segment::Link("http://a.b/c"),
                Segment::Text(". Then ("),
                Segment::Link("http://x.y/z"),
                Segment::Text(") or "),
                Segment::Link("http://w.io/a_(b)"),
                Segment::Text("!"),
            ]
        );
    }

    #[test]
    fn scheme_alone_or_inside_a_word_is_text() {
        assert_eq!(linkify("http://"), vec![Segment::Text("http://")]);
        assert_eq!(linkify("xhttp://a.b"), vec![Segment::Text("xhttp://a.b")]);
        assert_eq!(linkify(""), vec![]);
    }

    #[test]
    fn unicode_around_and_inside_links() {
        assert_eq!(
            linkify("Grüße → https://bücher.de/ä ok"),
            vec![
                Segment::Text("Grüße → "),
                Segment::Link("https://bücher.de/ä"),
                Segment::Text(" ok")
            ]
        );
        assert_eq!(
            linkify("a\nhttps://x.y\tb"),
            vec![
                Segment::Text("a\n"),
                Segment::Link("https://x.y"),
                Segment::Text("\tb")
            ]
        );
    }

    #[test]
    fn segments_rebuild_the_body() {
        for body in [
            "",
            "x",
            "http://a http://b",
            "ü(http://a.b/(c))).",
            "http://a.b...",
        ] {
            let joined: String = linkify(body)
                .into_iter()
                .map(|s| match s {
                    Segment::Text(t) | Segment::Link(t) => t,
                })
                .collect();
            assert_eq!(joined, body);
        }
    }

    #[test]
    fn subject_is_the_first_line_trimmed_and_cut() {
        assert_eq!(subject_of("  Cannot log in \nmore text"), "Cannot log in");
        assert_eq!(subject_of("\n\n  \n second\tline"), "second line");
        assert_eq!(subject_of(""), "…");
        let long = "ä".repeat(500);
        let s = subject_of(&long);
        assert_eq!(s.chars().count(), SUBJECT_MAX);
        assert!(s.ends_with('…'));
        assert_eq!(
            subject_of(&"a".repeat(SUBJECT_MAX)).chars().count(),
            SUBJECT_MAX
        );
    }

    #[test]
    fn bodies_are_cleaned_like_the_server_does() {
        assert_eq!(clean_body("  a\r\nb\rc\u{7}\u{0}\td  "), "a\nb\nc\td");
        assert_eq!(clean_body(" \n "), "");
    }

    #[test]
    fn byte_splitting() {
        assert_eq!(before("de-AT", b'-'), "de");
        assert_eq!(before("en", b'-'), "en");
        assert_eq!(before("", b'-'), "");
        assert_eq!(pieces("name, email", b','), vec!["name", " email"]);
        assert_eq!(pieces("", b','), vec![""]);
        assert_eq!(pieces("ä,ö,", b','), vec!["ä", "ö", ""]);
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://chat.example.com"),
            "https://chat.example.com"
        );
        assert_eq!(
            origin("https://chat.example.com:8443/x/y?z"),
            "https://chat.example.com:8443"
        );
        assert_eq!(origin("http://127.0.0.1:3000/"), "http://127.0.0.1:3000");
        assert_eq!(origin("relative"), "relative");
    }

    #[test]
    fn clock_shows_local_time() {
        assert_eq!(clock("2026-01-01T00:44:00Z", 0).as_deref(), Some("00:44"));
        assert_eq!(clock("2026-01-01T23:30:00Z", 60).as_deref(), Some("00:30"));
        assert_eq!(
            clock("2026-01-01T00:10:00.123Z", -60).as_deref(),
            Some("23:10")
        );
        assert_eq!(
            clock("2026-01-01T10:00:00+02:00", 0).as_deref(),
            Some("08:00")
        );
        assert_eq!(clock("garbage", 0), None);
        assert_eq!(clock("2026-01-01Tab:cd:00Z", 0), None);
    }
}
