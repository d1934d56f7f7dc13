//! Small text helpers shared by the stages.

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
            '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
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
