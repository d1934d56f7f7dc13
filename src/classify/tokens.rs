//! Splitting tool names, parameter names and descriptions into lowercase tokens the rules can
//! look up: snake_case, camelCase, kebab-case, dotted and slashed names all give the same words.

/// Most tokens taken from one name; a longer name is hostile or generated, and the rest adds
/// nothing a rule needs.
pub const MAX_NAME_TOKENS: usize = 24;
/// Most bytes of a name that are tokenised.
pub const MAX_NAME_BYTES: usize = 256;

/// Splits an identifier into lowercase words: `getUserID` → `get user id`,
/// `jira_create-issue.v2` → `jira create issue v2`, `HTTPRequest` → `http request`.
pub fn split_identifier(name: &str) -> Vec<String> {
    let name = truncate_at_char(name, MAX_NAME_BYTES);
    if name.is_ascii() {
        return split_ascii(name.as_bytes());
    }
    split_chars(name)
}

fn split_chars(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    let mut cur = String::new();
    for i in 0..chars.len() {
        let c = chars[i];
        if !c.is_alphanumeric() {
            flush(&mut cur, &mut out);
            continue;
        }
        if !cur.is_empty() {
            let prev = chars[i - 1];
            let next = chars.get(i + 1).copied();
            // camelCase boundary, or the last capital of an acronym before a word (HTTPRequest).
            let boundary = (prev.is_lowercase() && c.is_uppercase() && !camel_word(&chars, i))
                || (prev.is_uppercase()
                    && c.is_uppercase()
                    && next.is_some_and(|n| n.is_lowercase()));
            if boundary {
                flush(&mut cur, &mut out);
            }
        }
        for l in c.to_lowercase() {
            cur.push(l);
        }
        if out.len() >= MAX_NAME_TOKENS {
            break;
        }
    }
    flush(&mut cur, &mut out);
    out.truncate(MAX_NAME_TOKENS);
    out
}

/// `split_identifier` for ASCII names (nearly all of them): the same boundaries, on bytes,
/// each word allocated once.
fn split_ascii(b: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(4);
    let mut start: Option<usize> = None;
    let push = |out: &mut Vec<String>, s: usize, e: usize| {
        let mut w = String::with_capacity(e - s);
        w.extend(b[s..e].iter().map(|c| c.to_ascii_lowercase() as char));
        out.push(w);
    };
    for i in 0..b.len() {
        let c = b[i];
        if !c.is_ascii_alphanumeric() {
            if let Some(s) = start.take() {
                push(&mut out, s, i);
            }
            continue;
        }
        match start {
            None => start = Some(i),
            Some(s) => {
                let prev = b[i - 1];
                let next = b.get(i + 1).copied();
                let boundary =
                    (prev.is_ascii_lowercase() && c.is_ascii_uppercase() && !camel_word(b, i))
                        || (prev.is_ascii_uppercase()
                            && c.is_ascii_uppercase()
                            && next.is_some_and(|n| n.is_ascii_lowercase()));
                if boundary {
                    push(&mut out, s, i);
                    start = Some(i);
                }
            }
        }
        if out.len() >= MAX_NAME_TOKENS {
            start = None;
            break;
        }
    }
    if let Some(s) = start {
        push(&mut out, s, b.len());
    }
    out.truncate(MAX_NAME_TOKENS);
    out
}

/// Product names written in CamelCase are one word, not two: `checkIfWordPressIsValid` does
/// not press, `createPayPalOrder` does not pay, `listSharePointSites` does not share.
const CAMEL_WORDS: &[&str] = &[
    "WordPress",
    "PayPal",
    "SharePoint",
    "DocuSign",
    "CloudWatch",
    "OpenAI",
];

/// Whether the camelCase boundary at `i` falls inside one of `CAMEL_WORDS` (over the chars of
/// a name, or the bytes of an ASCII one).
fn camel_word<T: Copy + Into<char>>(chars: &[T], i: usize) -> bool {
    let at = |j: usize| -> char { chars[j].into() };
    let mut start = i;
    while start > 0 && at(start - 1).is_alphanumeric() && !at(start - 1).is_uppercase() {
        start -= 1;
    }
    if start > 0 && at(start - 1).is_uppercase() {
        start -= 1;
    }
    let mut end = i + 1;
    while end < chars.len() && at(end).is_lowercase() {
        end += 1;
    }
    let len = end - start;
    CAMEL_WORDS.iter().any(|w| {
        w.len() == len
            && w.chars()
                .zip(start..end)
                .all(|(a, j)| a.eq_ignore_ascii_case(&at(j)))
    })
}

fn flush(cur: &mut String, out: &mut Vec<String>) {
    if !cur.is_empty() {
        out.push(std::mem::take(cur));
    }
}

pub use crate::text::truncate_at_char;

/// An identifier with separators removed, lowercase: `file_path`, `filePath` → `filepath`.
pub fn compact(name: &str) -> String {
    let name = truncate_at_char(name, MAX_NAME_BYTES);
    if name.is_ascii() {
        return name
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase() as char)
            .collect();
    }
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Base forms a description word may be an inflection of, most likely first:
/// `creates` → `create`, `fetches` → `fetch`, `applies` → `apply`, `listing` → `list`,
/// `running` → `run`, `deleting` → `delete`. The word itself comes first.
pub fn stems(word: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    let mut v: Vec<Cow<'_, str>> = Vec::with_capacity(4);
    v.push(Cow::Borrowed(word));
    if let Some(base) = word.strip_suffix("ies") {
        v.push(Cow::Owned(format!("{base}y")));
    }
    if let Some(base) = word.strip_suffix("es") {
        v.push(Cow::Borrowed(base));
    }
    if let Some(base) = word.strip_suffix('s') {
        if !base.ends_with('s') {
            v.push(Cow::Borrowed(base));
        }
    }
    if let Some(base) = word.strip_suffix("ing").filter(|b| b.len() >= 2) {
        v.push(Cow::Borrowed(base));
        v.push(Cow::Owned(format!("{base}e")));
        let b = base.as_bytes();
        if b.len() >= 2 && b[b.len() - 1] == b[b.len() - 2] {
            v.push(Cow::Borrowed(&base[..base.len() - 1]));
        }
    }
    v.into_iter()
}

/// The words of a text, lowercase ASCII-folded by the caller: runs of letters, digits, `_`.
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i <= bytes.len() {
            let is_word = i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_');
            let idx = i;
            i += 1;
            match (start, is_word) {
                (None, true) => start = Some(idx),
                (Some(s), false) => {
                    start = None;
                    return Some((s, &text[s..idx]));
                }
                _ => {}
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str) -> Vec<String> {
        split_identifier(name)
    }

    #[test]
    fn splits_every_naming_style() {
        assert_eq!(s("create_issue"), ["create", "issue"]);
        assert_eq!(s("createIssue"), ["create", "issue"]);
        assert_eq!(s("create-issue"), ["create", "issue"]);
        assert_eq!(s("jira.create.issue"), ["jira", "create", "issue"]);
        assert_eq!(s("stripe/refunds.create"), ["stripe", "refunds", "create"]);
        assert_eq!(s("GitTools.BRANCH"), ["git", "tools", "branch"]);
        assert_eq!(
            s("TimeTools.GET_CURRENT_TIME.value"),
            ["time", "tools", "get", "current", "time", "value"]
        );
        assert_eq!(s("sendHTTPRequest"), ["send", "http", "request"]);
        assert_eq!(s("getUserID"), ["get", "user", "id"]);
        assert_eq!(s("atlas-create-db-user"), ["atlas", "create", "db", "user"]);
        assert_eq!(
            s("agento11y_manage_agents"),
            ["agento11y", "manage", "agents"]
        );
        assert_eq!(s("__weird__  name!!"), ["weird", "name"]);
        // A product name in CamelCase is one word.
        assert_eq!(
            s("hosting_checkIfWordPressInstallationsAreValidV1"),
            [
                "hosting",
                "check",
                "if",
                "wordpress",
                "installations",
                "are",
                "valid",
                "v1"
            ]
        );
        assert_eq!(s("createPayPalOrder"), ["create", "paypal", "order"]);
        assert_eq!(s("wordPress"), ["wordpress"]);
        assert_eq!(s("pressWord"), ["press", "word"]);
        assert_eq!(s("créerPayPalOrdre"), ["créer", "paypal", "ordre"]);
        assert!(s("").is_empty());
        // Non-ASCII names take the char path, with the same boundaries.
        assert_eq!(s("créerUnFichier_été"), ["créer", "un", "fichier", "été"]);
        assert_eq!(s("sendHTTPRequest✓"), ["send", "http", "request"]);
    }

    #[test]
    fn the_ascii_path_splits_as_the_char_path_does() {
        // Identifiers built from every kind of boundary, pseudo-randomly.
        let parts = [
            "get", "HTTP", "Request", "_", "-", ".", "ID", "v2", "x", "A", "9", " ", "aB",
            // Pieces of the CamelCase product names, so both paths meet `camel_word`.
            "Word", "Press", "Pay", "Pal", "check",
        ];
        let mut seed = 7u64;
        for _ in 0..5000 {
            let mut name = String::new();
            for _ in 0..(seed % 9) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                name.push_str(parts[(seed >> 33) as usize % parts.len()]);
            }
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            assert_eq!(split_ascii(name.as_bytes()), split_chars(&name), "{name:?}");
            let slow: String = name
                .chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(compact(&name), slow, "{name:?}");
        }
        let long = "aB".repeat(100);
        assert_eq!(split_ascii(long.as_bytes()), split_chars(&long));
    }

    #[test]
    fn bounds_hostile_names() {
        let long = "a_".repeat(10_000);
        assert_eq!(s(&long).len(), MAX_NAME_TOKENS);
        // Multi-byte text cut on a char boundary, never panics.
        let wide = "é".repeat(1000);
        assert!(s(&wide).len() <= 1);
    }

    #[test]
    fn compacts_parameter_names() {
        assert_eq!(compact("file_path"), "filepath");
        assert_eq!(compact("filePath"), "filepath");
        assert_eq!(compact("SHELL-Command"), "shellcommand");
    }

    #[test]
    fn stems_inflections() {
        let all = |w: &str| stems(w).map(|c| c.into_owned()).collect::<Vec<_>>();
        assert!(all("creates").contains(&"create".to_string()));
        assert!(all("fetches").contains(&"fetch".to_string()));
        assert!(all("applies").contains(&"apply".to_string()));
        assert!(all("listing").contains(&"list".to_string()));
        assert!(all("running").contains(&"run".to_string()));
        assert!(all("deleting").contains(&"delete".to_string()));
        assert_eq!(all("get"), ["get"]);
        // "class" is not the plural of "clas".
        assert!(!all("class").contains(&"clas".to_string()));
    }

    #[test]
    fn words_with_offsets() {
        let w: Vec<_> = words("get a_b, 3 c").collect();
        assert_eq!(w, [(0, "get"), (4, "a_b"), (9, "3"), (11, "c")]);
    }
}
