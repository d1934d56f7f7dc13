//! Small text helpers shared by the stages, and the one table of characters that hide or
//! reorder text (used by the findings and by the site's rendering alike).

/// What kind of hidden character a character is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenKind {
    /// Zero-width and other invisible characters (joiners, fillers, soft hyphen, BOM).
    Invisible,
    /// Unicode tag characters and variation selectors supplement: invisible copies of
    /// ASCII, used to smuggle text.
    Tag,
    /// Bidirectional controls: text displays in another order than it is read.
    Bidi,
}

/// The one table of hidden / invisible / bidi / tag characters.
pub fn hidden_kind(c: char) -> Option<HiddenKind> {
    match c as u32 {
        0x200B..=0x200D
        | 0x2060..=0x2064
        | 0xFEFF
        | 0x00AD
        | 0x180E
        | 0x034F
        | 0x115F
        | 0x1160
        | 0x3164
        | 0xFFA0 => Some(HiddenKind::Invisible),
        0xE0000..=0xE007F | 0xE0100..=0xE01EF => Some(HiddenKind::Tag),
        0x200E | 0x200F | 0x061C | 0x202A..=0x202E | 0x2066..=0x2069 => Some(HiddenKind::Bidi),
        _ => None,
    }
}

/// Characters a page shows as a visible `[U+XXXX]` marker rather than obeying: every
/// character of the table, and control characters other than newline and tab.
pub fn is_hidden_char(c: char) -> bool {
    hidden_kind(c).is_some() || (c.is_control() && c != '\n' && c != '\t')
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary, so cutting
/// crawled text never panics in the middle of a multi-byte character.
pub fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Text from a crawled server (errors, stderr tails, banners, slugs, JSON-RPC error texts)
/// made safe to print on a terminal: control characters (C0 except newline and tab, DEL,
/// C1) and the bidirectional overrides are written as escapes (`\x1b`, `\u{9b}`), so a
/// server cannot set the window title, clear the screen, write the clipboard or reorder what
/// the operator reads.
pub fn escape_control(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if ('\u{80}'..='\u{9f}').contains(&c) || hidden_kind(c).is_some() => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// [`escape_control`] on one line: newlines and tabs are escaped too.
pub fn escape_line(s: &str) -> String {
    escape_control(s).replace('\n', "\\n").replace('\t', "\\t")
}

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(super::truncate_at_char("héllo", 2), "h");
        assert_eq!(super::truncate_at_char("héllo", 3), "hé");
        assert_eq!(super::truncate_at_char("abc", 10), "abc");
        assert_eq!(super::truncate_at_char("💡x", 3), "");
    }

    #[test]
    fn tag_characters_are_hidden_like_bidi_and_zero_width() {
        use super::{hidden_kind, is_hidden_char, HiddenKind};
        assert_eq!(hidden_kind('\u{E0041}'), Some(HiddenKind::Tag));
        assert_eq!(hidden_kind('\u{202E}'), Some(HiddenKind::Bidi));
        assert_eq!(hidden_kind('\u{200B}'), Some(HiddenKind::Invisible));
        assert!(is_hidden_char('\u{E0041}') && is_hidden_char('\u{7}'));
        assert!(!is_hidden_char('a') && !is_hidden_char('\n') && !is_hidden_char('é'));
    }

    #[test]
    fn terminal_control_sequences_from_servers_are_escaped() {
        // Window title, clear screen, clipboard write (OSC 52), CSI as C1, bidi override.
        let hostile = "a\x1b]0;pwned\x07b\x1b[2Jc\x1b]52;c;ZXZpbA==\x07d\u{9b}31m\u{202e}e\r\nf";
        let s = super::escape_control(hostile);
        assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s:?}");
        assert!(!s.contains('\u{202e}'));
        assert_eq!(
            s,
            "a\\x1b]0;pwned\\x07b\\x1b[2Jc\\x1b]52;c;ZXZpbA==\\x07d\\u{9b}31m\\u{202e}e\\x0d\nf"
        );
        assert_eq!(super::escape_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(super::escape_control("plain é 💡"), "plain é 💡");
    }
}
