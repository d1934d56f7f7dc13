//! Warnings about a tool definition itself: hidden instructions anywhere in its text
//! (description, title, every string of its schemas), invisible / bidi-control / confusable
//! characters, a schema without `type`, an oversized description, a badly formed name.
//! Duplicate names and annotation contradictions need more than one tool or the decision, and
//! are added by the engine's caller.

use crate::classify::tokens::truncate_at_char;
use crate::model::{Finding, Severity, Tool};
use regex::bytes::{Regex, RegexSet};
use serde_json::Value;
use std::sync::OnceLock;

/// A description longer than this (bytes) crowds the model's context and hides text from the
/// person approving the tool.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Most schema text scanned per tool, so a hostile schema costs bounded time.
const MAX_SCAN_BYTES: usize = 256 * 1024;
const MAX_SCAN_DEPTH: usize = 16;

/// Patterns of instructions aimed at the model rather than the user. `(pattern, critical)`.
/// Critical ones are what tool poisoning looks like; the others are imperatives that steer the
/// model and deserve a look.
const HIDDEN: &[(&str, bool, &str)] = &[
    (
        r"<\s*/?\s*(important|system|secret|hidden|critical|admin|sudo|override)\b[^>]{0,40}>",
        true,
        "an <IMPORTANT>-style tag addressed to the model",
    ),
    (
        r"\b(ignore|disregard|forget|override)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|other|system)\s+(instructions|rules|prompts?|directions)",
        true,
        "an instruction to ignore other instructions",
    ),
    (
        r"\b(do\s+not|don't|never)\s+(tell|inform|mention|reveal|show|notify|alert|disclose)\s+(this|that|it|these|them|anything)\b[^.]{0,30}\b(user|human|operator)|\b(do\s+not|don't|never)\s+(tell|inform|notify|alert)\s+the\s+(user|human)\s+(about|of)\s+(this|that|it|these)\b|\b(do\s+not|don't|never)\s+(tell|inform|notify|alert)\s+the\s+(user|human)\s*([.!;<]|$)",
        true,
        "an instruction to keep something from the user",
    ),
    (
        r"\bwithout\s+(telling|informing|notifying|asking|alerting)\s+(the\s+)?(user|human)",
        true,
        "an instruction to act without the user knowing",
    ),
    (
        r"\b(hide|conceal|keep)\s+(this|it|that)?\s*(secret\s+)?from\s+(the\s+)?(user|human)",
        true,
        "an instruction to hide something from the user",
    ),
    (
        r"\bthe\s+(user|human)\s+(must|should)\s+not\s+(know|see|be\s+told|notice)",
        true,
        "an instruction to keep something from the user",
    ),
    (
        r"\b(read|cat|open|include|send|pass|upload|attach|copy|access|load|contents?\s+of)\b[^.]{0,40}(~/\.ssh|id_rsa|id_ed25519|\.aws/credentials|mcp\.json|\.cursor/|claude_desktop_config|\.npmrc|\.netrc|/etc/passwd|/etc/shadow|\.git-credentials|\.env\b)",
        true,
        "a request to read a secret file",
    ),
    (
        r"\b(read|cat|open|include|send|pass|provide|attach|append|collect)\b[^.]{0,60}\b(private\s+keys?|api[\s_-]?keys?|passwords?|secrets?|access\s+tokens?|credentials|environment\s+variables|ssh\s+keys?)\b[^.]{0,60}\b(as|in(to)?|to)\s+(the\s+)?(parameter|argument|field|sidenote|note|request|body|url)",
        true,
        "a request to pass secrets through a tool argument",
    ),
    (
        r"\bpass\s+(its|their|the\s+file'?s?)\s+contents?\s+as\b",
        true,
        "a request to pass file contents through a tool argument",
    ),
    (
        r"\b(always|also)\s+(bcc|cc|blind\s+copy|send\s+a\s+copy|forward\s+(a\s+)?cop(y|ies))\b",
        true,
        "an instruction to copy messages to someone else",
    ),
    (
        r"\bwhen\s+(using|calling|invoking)\s+(the\s+)?[a-z0-9_.\-]+\s+tool\b[^.]{0,80}\b(must|always|instead|also)\b",
        false,
        "an instruction about how to use another tool",
    ),
    (
        r"\b(you|the\s+(assistant|model|ai|agent|llm))\s+(must|should|need\s+to|have\s+to|are\s+required\s+to)\b",
        false,
        "an imperative addressed to the model",
    ),
    (
        r"<\s*/?\s*(instructions?|context|rules|guidelines)\b[^>]{0,40}>",
        false,
        "an instruction tag addressed to the model",
    ),
    (
        r"\b(before|after)\s+(using|calling)\s+(this|any)\s+tool\b",
        false,
        "an instruction about what to do around this tool",
    ),
];

struct Patterns {
    set: RegexSet,
    each: Vec<Regex>,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let pats: Vec<String> = HIDDEN
            .iter()
            .map(|(p, _, _)| crate::classify::rules::ascii_classes(p))
            .collect();
        Patterns {
            // The patterns are constants covered by tests: failing here is a build bug.
            set: regex::bytes::RegexSetBuilder::new(&pats)
                .unicode(false)
                .dfa_size_limit(32 << 20)
                .build()
                .expect("hidden-instruction patterns compile"),
            each: pats
                .iter()
                .map(|p| {
                    regex::bytes::RegexBuilder::new(p)
                        .unicode(false)
                        .dfa_size_limit(32 << 20)
                        .build()
                        .expect("hidden-instruction pattern compiles")
                })
                .collect(),
        }
    })
}

/// Where a piece of text sits, as a chain of segments on the stack: rendered only when a
/// finding quotes it, so scanning allocates nothing.
struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    seg: Seg<'p>,
}

enum Seg<'p> {
    Root(&'p str),
    Key(&'p str),
    Index(usize),
    /// The property name itself (long keys are text the model reads).
    KeyName,
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut s = match self.parent {
            Some(p) => p.render(),
            None => String::new(),
        };
        match self.seg {
            Seg::Root(r) => s.push_str(r),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(truncate_at_char(k, 64));
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::KeyName => s.push_str(" (key)"),
        }
        s
    }
}

/// Calls `f` on every string of a tool definition a model reads, with its place.
fn visit_pieces(tool: &Tool, f: &mut dyn FnMut(&Path<'_>, &str)) {
    let root = |r| Path {
        parent: None,
        seg: Seg::Root(r),
    };
    f(&root("name"), &tool.name);
    if let Some(t) = &tool.title {
        f(&root("title"), t);
    }
    if let Some(d) = &tool.description {
        f(&root("description"), d);
    }
    let mut budget = MAX_SCAN_BYTES;
    if let Some(s) = &tool.input_schema {
        walk(s, &root("inputSchema"), 0, &mut budget, f);
    }
    if let Some(s) = &tool.output_schema {
        walk(s, &root("outputSchema"), 0, &mut budget, f);
    }
    if let Some(a) = &tool.annotations {
        walk(a, &root("annotations"), 0, &mut budget, f);
    }
    for (k, v) in &tool.extra {
        walk(v, &root(k), 0, &mut budget, f);
    }
}

fn walk(
    v: &Value,
    place: &Path<'_>,
    depth: usize,
    budget: &mut usize,
    f: &mut dyn FnMut(&Path<'_>, &str),
) {
    if depth > MAX_SCAN_DEPTH || *budget == 0 {
        return;
    }
    match v {
        Value::String(s) => {
            let s = truncate_at_char(s, *budget);
            *budget -= s.len();
            f(place, s);
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if !matches!(x, Value::String(_) | Value::Array(_) | Value::Object(_)) {
                    continue;
                }
                let here = Path {
                    parent: Some(place),
                    seg: Seg::Index(i),
                };
                walk(x, &here, depth + 1, budget, f);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                if *budget == 0 {
                    return;
                }
                // Property names are text the model reads too (full-schema poisoning).
                let key = truncate_at_char(k, *budget);
                *budget -= key.len();
                let here = Path {
                    parent: Some(place),
                    seg: Seg::Key(k),
                };
                if key.len() > 24 {
                    let key_place = Path {
                        parent: Some(&here),
                        seg: Seg::KeyName,
                    };
                    f(&key_place, key);
                }
                if matches!(x, Value::String(_) | Value::Array(_) | Value::Object(_)) {
                    walk(x, &here, depth + 1, budget, f);
                }
            }
        }
        _ => {}
    }
}

/// What the fast path gathers: every string of a definition (of 8 bytes or more, those the
/// patterns can match) lowercased in one buffer, and whether any text is not ASCII.
#[derive(Default)]
struct Gathered {
    buf: Vec<u8>,
    non_ascii: bool,
    controls: bool,
}

impl Gathered {
    fn add(&mut self, t: &str) {
        if !t.is_ascii() {
            self.non_ascii = true;
            // Emoji and dashes are common and harmless; only invisible, tag and bidi
            // characters need each string's place.
            self.controls = self.controls || t.chars().any(|c| char_kind(c).is_some());
        }
        if t.len() >= 8 {
            let start = self.buf.len();
            self.buf.extend_from_slice(t.as_bytes());
            self.buf[start..].make_ascii_lowercase();
            self.buf.push(b'\n');
        }
    }

    /// Every string of a JSON value, without places.
    fn value(&mut self, v: &Value, depth: usize, budget: &mut usize) {
        if depth > MAX_SCAN_DEPTH || *budget == 0 {
            return;
        }
        match v {
            Value::String(s) => {
                let s = truncate_at_char(s, *budget);
                *budget -= s.len();
                self.add(s);
            }
            Value::Array(a) => {
                for x in a {
                    self.value(x, depth + 1, budget);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    if *budget == 0 {
                        return;
                    }
                    let key = truncate_at_char(k, *budget);
                    *budget -= key.len();
                    if key.len() > 24 {
                        self.add(key);
                    }
                    self.value(x, depth + 1, budget);
                }
            }
            _ => {}
        }
    }
}

/// Findings about one tool's own definition.
pub fn tool_findings(tool: &Tool) -> Vec<Finding> {
    let mut out = Vec::new();
    // Fast path: all text in one lowercased buffer, one pass of the pattern set. Only when
    // something matches, or there is non-ASCII text, is each string examined with its place.
    let mut g = Gathered {
        buf: Vec::with_capacity(1024),
        ..Gathered::default()
    };
    g.add(&tool.name);
    if let Some(t) = &tool.title {
        g.add(t);
    }
    if let Some(d) = &tool.description {
        g.add(d);
    }
    let mut budget = MAX_SCAN_BYTES;
    for v in [&tool.input_schema, &tool.output_schema, &tool.annotations]
        .into_iter()
        .flatten()
    {
        g.value(v, 0, &mut budget);
    }
    for v in tool.extra.values() {
        g.value(v, 0, &mut budget);
    }
    if patterns().set.is_match(&g.buf) {
        hidden_instructions(tool, &mut out);
    }
    if g.controls {
        control_characters(tool, &mut out);
    }
    if g.non_ascii {
        confusables(tool, &mut out);
    }
    schema_type(tool, &mut out);
    oversized(tool, &mut out);
    name_charset(tool, &mut out);
    out
}

fn hidden_instructions(tool: &Tool, out: &mut Vec<Finding>) {
    let p = patterns();
    let mut critical: Vec<String> = Vec::new();
    let mut steering: Vec<String> = Vec::new();
    visit_pieces(tool, &mut |place, text| {
        if text.len() < 8 {
            return;
        }
        let lower = text.to_ascii_lowercase();
        let matches = p.set.matches(lower.as_bytes());
        if !matches.matched_any() {
            return;
        }
        let place = place.render();
        for i in matches.iter() {
            let (_, is_critical, what) = HIDDEN[i];
            let Some(m) = p.each[i].find(lower.as_bytes()) else {
                continue;
            };
            let quote = excerpt(text, m.start(), m.end());
            let line = format!("{what} in {place}: “{quote}”");
            let list = if is_critical {
                &mut critical
            } else {
                &mut steering
            };
            if list.len() < 4 && !list.contains(&line) {
                list.push(line);
            }
        }
    });
    if !critical.is_empty() {
        out.push(Finding {
            kind: "hidden_instructions".into(),
            severity: Severity::Critical,
            message: format!(
                "the definition carries instructions for the model that the user is not meant to see: {}",
                critical.join("; ")
            ),
        });
    } else if !steering.is_empty() {
        out.push(Finding {
            kind: "hidden_instructions".into(),
            severity: Severity::Info,
            message: format!(
                "the definition steers the model with imperatives: {}",
                steering.join("; ")
            ),
        });
    }
}

fn excerpt(text: &str, start: usize, end: usize) -> String {
    let mut s = start.min(text.len());
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = end.min(s + 120).min(text.len()).max(s);
    while !text.is_char_boundary(e) {
        e += 1;
    }
    text[s..e].replace(['\n', '\r'], " ")
}

/// What kind of trouble a character is: the shared table in `crate::text`.
use crate::text::HiddenKind as CharKind;

fn char_kind(c: char) -> Option<CharKind> {
    crate::text::hidden_kind(c)
}

/// Letters of scripts that look like Latin ones (Cyrillic, Greek, Armenian, fullwidth forms).
fn lookalike_letter(c: char) -> bool {
    matches!(c as u32, 0x0370..=0x03FF | 0x0400..=0x04FF | 0x0530..=0x058F | 0xFF21..=0xFF5A)
}

/// Invisible, tag and bidi-control characters, with the place of each.
fn control_characters(tool: &Tool, out: &mut Vec<Finding>) {
    let mut invisible: Vec<String> = Vec::new();
    let mut bidi: Vec<String> = Vec::new();
    let mut tag_places: Vec<String> = Vec::new();
    visit_pieces(tool, &mut |place, text| {
        if text.is_ascii() {
            return;
        }
        for c in text.chars() {
            let Some(kind) = char_kind(c) else { continue };
            let note = format!("U+{:04X} in {}", c as u32, place.render());
            let list = match kind {
                CharKind::Invisible => &mut invisible,
                CharKind::Bidi => &mut bidi,
                CharKind::Tag => &mut tag_places,
            };
            if list.len() < 4 && !list.contains(&note) {
                list.push(note);
            }
        }
    });
    let in_name = |list: &[String]| list.iter().any(|n| n.ends_with(" in name"));
    if !tag_places.is_empty() || !invisible.is_empty() {
        let critical = !tag_places.is_empty() || in_name(&invisible);
        let mut all = tag_places.clone();
        all.extend(invisible.iter().cloned());
        out.push(Finding {
            kind: "invisible_characters".into(),
            severity: if critical {
                Severity::Critical
            } else {
                Severity::Warning
            },
            message: format!(
                "invisible characters{}: {}",
                if tag_places.is_empty() {
                    ""
                } else {
                    " (Unicode tag characters can carry hidden text)"
                },
                all.join(", ")
            ),
        });
    }
    if !bidi.is_empty() {
        out.push(Finding {
            kind: "bidi_control".into(),
            severity: if in_name(&bidi) {
                Severity::Critical
            } else {
                Severity::Warning
            },
            message: format!(
                "bidirectional control characters can make text display differently from what the model reads: {}",
                bidi.join(", ")
            ),
        });
    }
}

/// Confusables: a name or a description word mixing Latin with look-alike letters.
fn confusables(tool: &Tool, out: &mut Vec<Finding>) {
    let mut confusable: Vec<String> = Vec::new();
    let check_word = |place: &str, word: &str, confusable: &mut Vec<String>| {
        let latin = word.chars().any(|c| c.is_ascii_alphabetic());
        let alike = word.chars().any(lookalike_letter);
        if latin && alike && confusable.len() < 4 {
            confusable.push(format!("“{}” in {place}", truncate_at_char(word, 64)));
        }
    };
    if !tool.name.is_ascii() {
        check_word("name", &tool.name, &mut confusable);
    }
    for (place, text) in [
        ("title", tool.title.as_deref()),
        ("description", tool.description.as_deref()),
    ] {
        let Some(text) = text.filter(|t| !t.is_ascii()) else {
            continue;
        };
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            check_word(place, word, &mut confusable);
        }
    }
    if !confusable.is_empty() {
        let critical = confusable.iter().any(|c| c.ends_with(" in name"));
        out.push(Finding {
            kind: "confusable_characters".into(),
            severity: if critical {
                Severity::Critical
            } else {
                Severity::Warning
            },
            message: format!(
                "words mix Latin letters with look-alike letters of other scripts: {}",
                confusable.join(", ")
            ),
        });
    }
}

fn schema_type(tool: &Tool, out: &mut Vec<Finding>) {
    let message = match &tool.input_schema {
        None => {
            Some("the tool has no inputSchema; MCP requires one of type \"object\"".to_string())
        }
        Some(Value::Object(m)) => match m.get("type") {
            None => Some(
                "the inputSchema has no `type`; MCP requires `\"type\": \"object\"`".to_string(),
            ),
            Some(Value::String(t)) if t == "object" => None,
            Some(other) => Some(format!(
                "the inputSchema `type` is {other}, not \"object\" as MCP requires"
            )),
        },
        Some(other) => Some(format!(
            "the inputSchema is {}, not an object schema",
            crate::model::json_kind(other)
        )),
    };
    if let Some(message) = message {
        out.push(Finding {
            kind: "schema_missing_type".into(),
            severity: Severity::Warning,
            message,
        });
    }
}

fn oversized(tool: &Tool, out: &mut Vec<Finding>) {
    let stored = tool.description.as_deref().map_or(0, str::len);
    let original = tool
        .description_truncated_from
        .map_or(stored, |n| n as usize)
        .max(stored);
    if original > MAX_DESCRIPTION_BYTES {
        let truncated = if tool.description_truncated_from.is_some() {
            format!(" (stored truncated to {stored} bytes)")
        } else {
            String::new()
        };
        out.push(Finding {
            kind: "oversized_description".into(),
            severity: Severity::Warning,
            message: format!(
                "the description is {original} bytes{truncated}, over the {MAX_DESCRIPTION_BYTES}-byte limit: long descriptions crowd the model's context and hide text from the person approving the tool"
            ),
        });
    }
}

fn name_charset(tool: &Tool, out: &mut Vec<Finding>) {
    let ok = !tool.name.is_empty()
        && tool.name.len() <= 128
        && tool
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'));
    if !ok {
        out.push(Finding {
            kind: "name_charset".into(),
            severity: Severity::Warning,
            message: format!(
                "the name “{}” is not 1–128 characters of A–Z, a–z, 0–9, `_`, `-`, `.`, `/` as MCP recommends",
                truncate_at_char(&tool.name, 80).escape_debug()
            ),
        });
    }
}

/// A finding for each of several tools sharing one name.
pub fn duplicate_name(name: &str, count: usize) -> Finding {
    Finding {
        kind: "duplicate_name".into(),
        severity: Severity::Warning,
        message: format!(
            "{count} tools are named “{}”: a client calls one of them by name and cannot tell which",
            truncate_at_char(name, 80)
        ),
    }
}

/// Nothing in the definition says what the tool does: it gets the least-trusted verdict.
pub fn no_evidence(tool: &Tool) -> Finding {
    Finding {
        kind: "no_evidence".into(),
        severity: Severity::Warning,
        message: format!(
            "nothing in the name, description or schema of `{}` says what it does; it needs approval until someone reviews it",
            truncate_at_char(&tool.name, 80)
        ),
    }
}
