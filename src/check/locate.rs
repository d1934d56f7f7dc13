//! Where a tool's text is in its source file (a tools.json, or the server's code): the
//! description as written or JSON-escaped, its first line, then the name, quoted or as a word.
//! Gives the physical locations of SARIF results and of GitHub annotations.

use super::{Anchor, FileLocation};
use crate::model::Tool;

/// A source file's text and the URI to report it under.
#[derive(Debug, Clone)]
pub struct Source {
    pub uri: String,
    /// The plain path (see [`FileLocation::path`]).
    pub path: String,
    pub text: String,
}

/// Largest source file read for locations.
pub const MAX_SOURCE_BYTES: u64 = 32 * 1024 * 1024;

impl Source {
    /// Reads `path` through `bounded`; the URI is the path as given, `./` dropped, with `/`.
    pub fn load(path: &std::path::Path) -> anyhow::Result<Source> {
        let text = crate::bounded::read_text(path, MAX_SOURCE_BYTES)?;
        let cwd = std::env::current_dir().ok();
        let plain = cwd
            .as_deref()
            .and_then(|c| path.strip_prefix(c).ok())
            .unwrap_or(path)
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        Ok(Source {
            uri: file_uri(path),
            path: plain,
            text,
        })
    }

    /// The location of the tool's `anchor` text, else of its other text, else line 1.
    pub fn locate(&self, tool: Option<&Tool>, name: &str, anchor: Anchor) -> FileLocation {
        let by_desc = || {
            tool.and_then(|t| t.description.as_deref())
                .and_then(|d| self.find_description(d))
        };
        let by_name = || self.find_name(name);
        let found = match anchor {
            Anchor::Description => by_desc().or_else(by_name),
            Anchor::Name => by_name().or_else(by_desc),
        };
        match found {
            Some((start, end)) => self.location(start, end),
            None => FileLocation {
                uri: self.uri.clone(),
                path: self.path.clone(),
                start_line: 1,
                start_column: 1,
                end_line: 1,
                end_column: 1 + self
                    .text
                    .lines()
                    .next()
                    .map(|l| l.chars().count())
                    .unwrap_or(0),
            },
        }
    }

    fn find_description(&self, d: &str) -> Option<(usize, usize)> {
        let d = d.trim();
        if d.is_empty() {
            return None;
        }
        let escaped = json_inner(d);
        let first = d.lines().next().unwrap_or(d).trim();
        let mut candidates = vec![d.to_string(), escaped];
        if first.chars().count() >= 12 && first.len() < d.len() {
            candidates.push(first.to_string());
            candidates.push(json_inner(first));
        }
        // A long description is often split over lines in code: its opening words.
        let head: String = first.chars().take(40).collect();
        if head.chars().count() >= 12 {
            candidates.push(head);
        }
        candidates
            .iter()
            .find_map(|c| self.text.find(c.as_str()).map(|i| (i, i + c.len())))
    }

    fn find_name(&self, name: &str) -> Option<(usize, usize)> {
        if name.is_empty() {
            return None;
        }
        for q in ['"', '\''] {
            let quoted = format!("{q}{name}{q}");
            if let Some(i) = self.text.find(&quoted) {
                return Some((i + 1, i + 1 + name.len()));
            }
        }
        // As a whole word (`def get_time(`, `name: get_time`).
        let bytes = self.text.as_bytes();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut from = 0;
        while let Some(off) = self.text[from..].find(name) {
            let i = from + off;
            let j = i + name.len();
            let before_ok = i == 0 || !word(bytes[i - 1]);
            let after_ok = j >= bytes.len() || !word(bytes[j]);
            if before_ok && after_ok {
                return Some((i, j));
            }
            from = i + name.len().max(1);
            while !self.text.is_char_boundary(from) {
                from += 1;
            }
        }
        None
    }

    fn location(&self, start: usize, end: usize) -> FileLocation {
        let (sl, sc) = line_col(&self.text, start);
        let (el, ec) = line_col(&self.text, end);
        FileLocation {
            uri: self.uri.clone(),
            path: self.path.clone(),
            start_line: sl,
            start_column: sc,
            end_line: el,
            end_column: ec,
        }
    }
}

/// The URI GitHub matches against the repository: a path under the working directory (the
/// checkout in CI) as a relative reference, anything else as a `file://` URI.
pub fn file_uri(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    let rel = if path.is_absolute() {
        cwd.as_deref()
            .and_then(|c| path.strip_prefix(c).ok())
            .map(|p| p.to_path_buf())
    } else {
        Some(path.to_path_buf())
    };
    match rel {
        Some(r) => {
            let s = r.to_string_lossy().replace('\\', "/");
            let s = s.trim_start_matches("./");
            let mut out = String::with_capacity(s.len());
            for b in s.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
        None => url::Url::from_file_path(path)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| path.to_string_lossy().into_owned()),
    }
}

/// The working directory as a `file://` URI ending in `/` (SARIF `workingDirectory`).
pub fn working_directory_uri() -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    url::Url::from_directory_path(cwd)
        .ok()
        .map(|u| u.to_string())
}

/// The JSON string form of `s` without its quotes.
fn json_inner(s: &str) -> String {
    let j = serde_json::Value::String(s.to_string()).to_string();
    j[1..j.len() - 1].to_string()
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, d: &str) -> Tool {
        Tool {
            name: name.into(),
            description: Some(d.into()),
            ..Tool::default()
        }
    }

    #[test]
    fn finds_json_escaped_descriptions_and_quoted_names() {
        let src = Source {
            uri: "tools.json".into(),
            path: "tools.json".into(),
            text: "{\"tools\": [\n  {\"name\": \"get_time\",\n   \"description\": \"Say \\\"now\\\".\"}\n]}\n".into(),
        };
        let l = src.locate(
            Some(&tool("get_time", "Say \"now\".")),
            "get_time",
            Anchor::Description,
        );
        assert_eq!((l.start_line, l.start_column), (3, 20));
        let l = src.locate(Some(&tool("get_time", "x")), "get_time", Anchor::Name);
        assert_eq!((l.start_line, l.start_column, l.end_column), (2, 13, 21));
    }

    #[test]
    fn uris_are_relative_under_the_working_directory_and_encoded() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(file_uri(&cwd.join("src/a b.json")), "src/a%20b.json");
        assert_eq!(file_uri(std::path::Path::new("./tools.json")), "tools.json");
        assert_eq!(
            file_uri(std::path::Path::new("/nonexistent-root/x y.py")),
            "file:///nonexistent-root/x%20y.py"
        );
    }

    #[test]
    fn finds_names_as_words_in_code_and_falls_back_to_line_1() {
        let src = Source {
            uri: "server.py".into(),
            path: "server.py".into(),
            text: "import x\n\n@mcp.tool()\ndef get_time_zone():\n    pass\ndef get_time():\n"
                .into(),
        };
        let l = src.locate(None, "get_time", Anchor::Name);
        assert_eq!(l.start_line, 6);
        let l = src.locate(None, "nope", Anchor::Name);
        assert_eq!((l.start_line, l.start_column), (1, 1));
    }
}
