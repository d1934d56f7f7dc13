//! Words for the full-text index and for search text: snake_case, kebab-case, dotted and
//! camelCase names are split into their words so that `job status` finds `check_job_status`
//! and `checkJobStatus` alike.

/// Longest search text used, in words and in bytes per word: hostile or pasted input stays
/// cheap to run.
const MAX_WORDS: usize = 32;
const MAX_WORD: usize = 64;

/// Words too common to search for: dropped from indexed text and from queries alike.
pub const STOP: &[&str] = &[
    "the", "and", "or", "of", "to", "in", "for", "on", "with", "is", "this", "that", "by", "from",
    "as", "be", "it", "at", "an", "are", "if", "its", "can", "will", "use",
];
/// Longest term, in bytes (the browser index keys terms on 32 bytes).
pub const MAX_TERM: usize = 32;
/// Bytes of a description that are indexed, for `toolrisk query` and the site's search alike.
pub const MAX_DESCRIPTION: usize = 2048;

/// The one tokeniser of `toolrisk query` and the site's search (`static/search.js` mirrors
/// it; a browser test compares the two): a word lower-cased, at least two characters and at
/// most `MAX_TERM` bytes, not a stop word, with a plural `s` taken off (Harman's S-stemmer:
/// `-ies` → `-y`, `-es` → `-e`, `-s` → nothing, but not `-ss`, `-us`, `-aies`, `-eies`,
/// `-aes`, `-ees`, `-oes`, and only on words of four characters or more).
pub fn term(word: &str) -> Option<String> {
    let w = word.to_lowercase();
    let n = w.chars().count();
    if n < 2 || STOP.contains(&w.as_str()) {
        return None;
    }
    let plural_es = w.ends_with("es") && !["aes", "ees", "oes"].iter().any(|e| w.ends_with(e));
    let plural_s = w.ends_with('s') && !w.ends_with("us") && !w.ends_with("ss");
    let w = if n < 4 {
        w
    } else if w.ends_with("ies") && !w.ends_with("eies") && !w.ends_with("aies") {
        format!("{}y", &w[..w.len() - 3])
    } else if plural_es || plural_s {
        // `-es` → `-e` and `-s` → nothing both take the last letter off.
        w[..w.len() - 1].to_string()
    } else {
        w
    };
    (w.len() <= MAX_TERM).then_some(w)
}

/// The terms indexed for a text: each run of letters and digits as a whole, and its
/// camelCase and letter/digit parts when it has several, so `getFile` is found by
/// `getfile`, `get` and `file`.
pub fn index_terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|r| !r.is_empty())
    {
        let parts = split_words(run);
        if parts.len() > 1 {
            out.extend(term(run));
        }
        out.extend(parts.iter().filter_map(|p| term(p)));
    }
    out
}

/// The terms of search text: the parts of each word (as `index_terms` splits them), at most
/// `MAX_WORDS`, so hostile or pasted input stays cheap.
pub fn query_terms(text: &str) -> Vec<String> {
    split_words(text)
        .iter()
        .filter(|w| w.len() <= MAX_WORD)
        .filter_map(|w| term(w))
        .take(MAX_WORDS)
        .collect()
}

/// The indexed terms of a description: its first `MAX_DESCRIPTION` bytes, each term once.
pub fn description_terms(description: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    index_terms(crate::text::truncate_at_char(description, MAX_DESCRIPTION))
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

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

/// Turns search text into two FTS5 queries: every word (AND) and any word (OR). Each word is
/// quoted, so FTS5 syntax in the text (`NEAR`, `*`, `"`, `:`) is just text. Both are empty
/// when the text has no words.
pub fn fts_query(text: &str) -> (String, String) {
    let words = query_terms(text);
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
    }

    #[test]
    fn one_tokeniser_for_index_and_query() {
        assert_eq!(index_terms("getFile"), ["getfile", "get", "file"]);
        assert_eq!(
            index_terms("Sends emails to the addresses"),
            ["send", "email", "addresse"]
        );
        assert_eq!(query_terms("send email"), ["send", "email"]);
        assert_eq!(
            query_terms("status process queries"),
            ["status", "process", "query"]
        );
        assert_eq!(index_terms("a x9 café"), ["x9", "café"]);
        assert!(index_terms(&"y".repeat(40)).is_empty());
        assert_eq!(description_terms("jobs job Jobs"), ["job"]);
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
        assert_eq!(fts_query("\"NEAR(ab cd)\" *:^").0, "\"near\" \"ab\" \"cd\"");
        assert_eq!(fts_query("  --  ").0, "");
        assert_eq!(fts_query(&"wx ".repeat(100)).0.matches('"').count(), 64);
    }
}
