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

#[cfg(test)]
mod tests {
    #[test]
    fn cuts_on_char_boundaries() {
        assert_eq!(super::truncate_at_char("héllo", 2), "h");
        assert_eq!(super::truncate_at_char("héllo", 3), "hé");
        assert_eq!(super::truncate_at_char("abc", 10), "abc");
        assert_eq!(super::truncate_at_char("💡x", 3), "");
    }
}
