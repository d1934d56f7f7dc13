//! Markdown and text from crawled definitions, made safe to put in a page.
//!
//! pulldown-cmark passes raw HTML and any link scheme through, so its events are rewritten:
//! HTML becomes escaped text, links keep only http/https/mailto targets and get
//! `rel="nofollow noopener ugc"`, images become links (no request to another host).

use pulldown_cmark::{html, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Most bytes of markdown rendered on one page; the rest is cut and noted.
pub const MAX_MARKDOWN: usize = 32 * 1024;

pub use crate::text::is_hidden_char;

/// Replaces hidden characters by a visible `[U+XXXX]` so that a reader sees them.
pub fn reveal(s: &str) -> String {
    if !s.chars().any(is_hidden_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden_char(c) {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Cuts `s` to at most `max` bytes on a char boundary; tells whether it cut.
pub fn cut(s: &str, max: usize) -> (&str, bool) {
    let cut = crate::text::truncate_at_char(s, max);
    (cut, cut.len() < s.len())
}

/// The first sentence of a description, plain text, at most `max` bytes.
pub fn first_sentence(s: &str, max: usize) -> String {
    let flat: String = reveal(s.trim())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut end = flat.len();
    for (i, c) in flat.char_indices() {
        if matches!(c, '.' | '!' | '?') {
            let next = flat[i + c.len_utf8()..].chars().next();
            if next.is_none() || next == Some(' ') {
                end = i + c.len_utf8();
                break;
            }
        }
    }
    let (s, was_cut) = cut(&flat[..end], max);
    if was_cut {
        format!("{}…", s.trim_end())
    } else {
        s.to_string()
    }
}

/// Whether a link target may appear in a page.
pub fn safe_url(url: &str) -> bool {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:"))
        && !u
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || is_hidden_char(c))
}

/// Removes the indentation common to every line but the first: descriptions taken from
/// Python docstrings are indented, and markdown would show them as one code block.
pub fn dedent(s: &str) -> String {
    let mut lines = s.lines();
    let first = lines.next().unwrap_or("");
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    if indent == 0 {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    out.push_str(first.trim_start());
    for l in rest {
        out.push('\n');
        // `indent` counts ASCII spaces and tabs only, so this slice is on a char boundary.
        out.push_str(l.get(indent..).unwrap_or("").trim_end());
    }
    out
}

/// Renders untrusted markdown to safe HTML.
pub fn render(src: &str) -> String {
    let (src, was_cut) = cut(src, MAX_MARKDOWN);
    let src = reveal(&dedent(src));
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let mut depth_link: Vec<bool> = Vec::new();
    let events = Parser::new_ext(&src, opts).flat_map(|ev| -> Vec<Event> {
        match ev {
            Event::Html(h) | Event::InlineHtml(h) => vec![Event::Text(h)],
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                // Autolinked addresses come without the scheme.
                let href = if link_type == LinkType::Email {
                    let u = format!("mailto:{}", dest_url.trim());
                    safe_url(&u).then_some(u)
                } else {
                    safe_url(&dest_url).then(|| dest_url.trim().to_string())
                };
                depth_link.push(href.is_some());
                if let Some(href) = href {
                    let href = escape_attr(&href);
                    let t = if title.is_empty() {
                        String::new()
                    } else {
                        format!(" title=\"{}\"", escape_attr(&title))
                    };
                    let _ = id;
                    vec![Event::InlineHtml(CowStr::from(format!(
                        "<a href=\"{href}\"{t} rel=\"nofollow noopener ugc\">"
                    )))]
                } else {
                    vec![]
                }
            }
            Event::End(TagEnd::Link) => {
                if depth_link.pop().unwrap_or(false) {
                    vec![Event::InlineHtml(CowStr::from("</a>"))]
                } else {
                    vec![]
                }
            }
            // Images would make the reader's browser fetch from another host: show the alt
            // text and, if the target is safe, a plain link to it.
            Event::Start(Tag::Image { dest_url, .. }) => {
                let ok =
                    safe_url(&dest_url) && !dest_url.to_ascii_lowercase().starts_with("mailto:");
                depth_link.push(ok);
                if ok {
                    vec![Event::InlineHtml(CowStr::from(format!(
                        "<a href=\"{}\" rel=\"nofollow noopener ugc\">[image: ",
                        escape_attr(dest_url.trim())
                    )))]
                } else {
                    vec![Event::Text(CowStr::from("[image: "))]
                }
            }
            Event::End(TagEnd::Image) => {
                if depth_link.pop().unwrap_or(false) {
                    vec![Event::InlineHtml(CowStr::from("]</a>"))]
                } else {
                    vec![Event::Text(CowStr::from("]"))]
                }
            }
            other => vec![other],
        }
    });
    let mut out = String::with_capacity(src.len() + src.len() / 4);
    html::push_html(&mut out, events);
    if was_cut {
        out.push_str("<p class=\"cut\">(description shortened for display)</p>");
    }
    out
}

/// Escapes text for an HTML attribute value in double quotes.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_becomes_text() {
        let h = render("hi <script>alert(1)</script> <img src=x onerror=alert(1)>");
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<img"), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
    }

    #[test]
    fn only_safe_links_survive() {
        let h = render("[a](javascript:alert(1)) [b](https://example.com) [c](JAVASCRIPT:x) [d]( data:text/html,x)");
        assert!(!h.to_lowercase().contains("javascript:"), "{h}");
        assert!(!h.contains("data:"), "{h}");
        assert!(
            h.contains("href=\"https://example.com\" rel=\"nofollow noopener ugc\""),
            "{h}"
        );
        let img = render("![x](https://evil.example/p.png)");
        assert!(!img.contains("<img"), "{img}");
    }

    #[test]
    fn docstring_indentation_is_not_a_code_block() {
        let h = render("Runs a query.\n\n    Args:\n        q: the query\n    Returns: rows");
        assert!(!h.contains("<pre>"), "{h}");
        assert!(h.contains("Args:"), "{h}");
        assert!(render("x\n\n        code\n    text").contains("<pre>"));
    }

    #[test]
    fn bidi_is_revealed_and_sentences_cut() {
        assert_eq!(reveal("a\u{202E}b"), "a[U+202E]b");
        // Tag characters (invisible ASCII) are marked like the findings flag them.
        assert_eq!(reveal("a\u{E0041}b"), "a[U+E0041]b");
        assert_eq!(first_sentence("Gets a job. Then more.", 100), "Gets a job.");
        assert_eq!(first_sentence("v1.2 is here", 100), "v1.2 is here");
        assert!(first_sentence(&"x".repeat(1000), 50).len() <= 54);
    }
}
