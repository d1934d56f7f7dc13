//! What changed between two tool definitions, for a person: a word-level diff of the
//! description and the JSON paths that changed in the schemas, the annotations and the rest.

use crate::classify::report::clean;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// A changed JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathChange {
    /// `inputSchema.properties.force`, `annotations.destructiveHint`, `inputSchema.required[1]`.
    pub path: String,
    /// Compact JSON, escaped and bounded; `None` when absent.
    pub before: Option<String>,
    pub after: Option<String>,
}

impl PathChange {
    pub fn render(&self) -> String {
        match (&self.before, &self.after) {
            (None, Some(a)) => format!("{}: added {a}", self.path),
            (Some(b), None) => format!("{}: removed (was {b})", self.path),
            (Some(b), Some(a)) => format!("{}: {b} → {a}", self.path),
            (None, None) => format!("{}: changed", self.path),
        }
    }
}

/// Most path changes listed per tool.
pub const MAX_PATHS: usize = 50;

/// Word-level diff of two texts in git's `--word-diff=plain` style (`[-old-]{+new+}`), only
/// the changed stretches with a few words of context, escaped and bounded.
pub fn words(old: &str, new: &str) -> String {
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(500))
        .diff_words(old, new);
    let mut out = String::new();
    // A short description is shown whole; a long one as its changed stretches in context.
    let context = if old.len() + new.len() < 600 {
        10_000
    } else {
        8
    };
    for (gi, group) in diff.grouped_ops(context).iter().enumerate() {
        if gi > 0 {
            out.push_str(" … ");
        }
        // Runs of one tag; whitespace between two changed words stays inside the run.
        let mut runs: Vec<(ChangeTag, String)> = Vec::new();
        for op in group {
            for ch in diff.iter_changes(op) {
                let (tag, v) = (ch.tag(), ch.value());
                let tag = if v.trim().is_empty() && tag != ChangeTag::Equal {
                    ChangeTag::Equal
                } else {
                    tag
                };
                match runs.last_mut() {
                    Some((t, s)) if *t == tag => s.push_str(v),
                    _ => runs.push((tag, v.to_string())),
                }
            }
        }
        // Changed runs joined only by whitespace form one stretch: `[-old words-]{+new words+}`.
        let mut i = 0;
        while i < runs.len() {
            if runs[i].0 == ChangeTag::Equal {
                out.push_str(&clean(&runs[i].1, 2000));
                i += 1;
                continue;
            }
            let (mut del, mut ins) = (String::new(), String::new());
            while i < runs.len() {
                match runs[i].0 {
                    ChangeTag::Delete => del.push_str(&runs[i].1),
                    ChangeTag::Insert => ins.push_str(&runs[i].1),
                    ChangeTag::Equal => {
                        let joins = runs[i].1.trim().is_empty()
                            && runs.get(i + 1).is_some_and(|r| r.0 != ChangeTag::Equal);
                        if !joins {
                            break;
                        }
                        del.push_str(&runs[i].1);
                        ins.push_str(&runs[i].1);
                    }
                }
                i += 1;
            }
            let (d, n) = (clean(del.trim(), 2000), clean(ins.trim(), 2000));
            if !d.is_empty() {
                out.push_str(&format!("[-{d}-]"));
            }
            if !n.is_empty() {
                out.push_str(&format!("{{+{n}+}}"));
            }
            // Keep the space the stretch ended with.
            if ins.ends_with(char::is_whitespace)
                || (ins.is_empty() && del.ends_with(char::is_whitespace))
            {
                out.push(' ');
            }
        }
        if out.len() > 4000 {
            out = crate::text::truncate_at_char(&out, 4000).to_string();
            out.push('…');
            break;
        }
    }
    out.trim().to_string()
}

/// Every path where two JSON values differ (objects by key, arrays by index), under `prefix`.
pub fn json_paths(
    prefix: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<PathChange>,
) {
    if out.len() >= MAX_PATHS {
        return;
    }
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                json_paths(&join(prefix, k), a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                json_paths(&format!("{prefix}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(PathChange {
            path: clean(prefix, 200),
            before: a.map(short),
            after: b.map(short),
        }),
    }
}

fn join(prefix: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (prefix.is_empty(), simple) {
        (true, true) => key.to_string(),
        (false, true) => format!("{prefix}.{key}"),
        (_, false) => format!("{prefix}[{}]", Value::String(key.to_string())),
    }
}

fn short(v: &Value) -> String {
    clean(&v.to_string(), 120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_word_edit_is_shown_as_one_word() {
        let d = words(
            "Delete a file from the workspace.",
            "Delete a file from the computer.",
        );
        assert!(d.contains("[-workspace.-]{+computer.+}"), "{d}");
        assert!(d.contains("from the"), "{d}");
        let d = words("Get the current time.", "Get the current time and date.");
        assert_eq!(d, "Get the current [-time.-]{+time and date.+}");
        let d = words(
            "Send a message now to the channel",
            "Send a note to the channel",
        );
        assert_eq!(d, "Send a [-message now-]{+note+} to the channel");
    }

    #[test]
    fn added_property_and_changed_hint_are_paths() {
        let mut out = Vec::new();
        json_paths(
            "inputSchema",
            Some(
                &json!({"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}),
            ),
            Some(
                &json!({"type":"object","properties":{"path":{"type":"string"},"force":{"type":"boolean"}},"required":["path","force"]}),
            ),
            &mut out,
        );
        let r: Vec<String> = out.iter().map(PathChange::render).collect();
        assert_eq!(
            r,
            [
                "inputSchema.properties.force: added {\"type\":\"boolean\"}",
                "inputSchema.required[1]: added \"force\""
            ]
        );
    }
}
