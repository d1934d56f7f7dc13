//! Words for the full-text index and for search text: snake_case, kebab-case, dotted and
//! camelCase names are split into their words so that `job status` finds `check_job_status`
//! and `checkJobStatus` alike.

/// Longest search text used, in words and in bytes per word: hostile or pasted input stays
/// cheap to run.
const MAX_WORDS: usize = 32;
const MAX_WORD: usize = 64;

/// Splits a name into words at separators and at lower→upper and letter↔digit boundaries.
fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_alphabetic() && c.is_numeric())
                || (p.is_numeric() && c.is_alphabetic());
            if boundary && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
        prev = Some(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The text indexed for a tool name: the name itself, then the words the tokenizer would not
/// find on its own (those run together by camelCase or digits), so both match.
pub fn name_words(name: &str) -> String {
    let plain: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out = name.to_string();
    for w in split_words(name) {
        let w = w.to_lowercase();
        if !plain.contains(&w) {
            out.push(' ');
            out.push_str(&w);
        }
    }
    out
}

/// The text indexed for a server: each word of its name and id once, so a server whose name
/// repeats its id does not outrank tools whose own name matches.
pub fn server_words(name: &str, id: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    for w in split_words(name).into_iter().chain(split_words(id)) {
        let w = w.to_lowercase();
        if !seen.contains(&w) {
            seen.push(w);
        }
    }
    seen.join(" ")
}

/// Turns search text into two FTS5 queries: every word (AND) and any word (OR). Each word is
/// quoted, so FTS5 syntax in the text (`NEAR`, `*`, `"`, `:`) is just text. Both are empty
/// when the text has no words.
pub fn fts_query(text: &str) -> (String, String) {
    let words: Vec<String> = split_words(text)
        .into_iter()
        .filter(|w| w.len() <= MAX_WORD)
        .map(|w| w.to_lowercase())
        .take(MAX_WORDS)
        .collect();
    let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
    (quoted.join(" "), quoted.join(" OR "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words() {
        assert_eq!(split_words("check_job_status"), ["check", "job", "status"]);
        assert_eq!(split_words("checkJobStatus"), ["check", "Job", "Status"]);
        assert_eq!(
            split_words("github.get-issue2"),
            ["github", "get", "issue", "2"]
        );
        assert_eq!(split_words("HTMLParser"), ["HTMLParser"]);
        assert_eq!(name_words("getFile"), "getFile get file");
        assert_eq!(name_words("job_status_v11"), "job_status_v11 v 11");
        assert_eq!(name_words("get_file"), "get_file");
        assert_eq!(
            server_words("Status Board", "io.github.ops/status-board"),
            "status board io github ops"
        );
    }

    #[test]
    fn query_text_is_quoted_and_bounded() {
        assert_eq!(
            fts_query("job status"),
            (
                "\"job\" \"status\"".to_string(),
                "\"job\" OR \"status\"".to_string()
            )
        );
        assert_eq!(fts_query("\"NEAR(a b)\" *:^").0, "\"near\" \"a\" \"b\"");
        assert_eq!(fts_query("  --  ").0, "");
        assert_eq!(fts_query(&"w ".repeat(100)).0.matches('"').count(), 64);
    }
}
