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
}
