//! Facts of one tool, extracted once: name words and the name's verbs, the description
//! (bounded, lowercased, with cross-references and examples masked), its main-clause and
//! coordinated verbs, schema parameters and operation enums, annotations.

use crate::classify::rules::{Cond, RuleSet, Signal};
use crate::classify::tokens;
use crate::model::*;
use serde_json::Value;

/// Most description bytes the rules read: the signal is at the start, and a hostile
/// megabyte description must not cost more than a normal one.
pub const MAX_DESCRIPTION_SCAN: usize = 4096;
/// Most schema parameters and enum values collected.
const MAX_PARAMS: usize = 128;
const MAX_ENUM_VALUES: usize = 256;
/// Schema nesting followed.
const MAX_SCHEMA_DEPTH: usize = 4;
/// Words of the description's first sentence searched for its verb.
const LEADING_WORDS: usize = 8;

/// Enum parameters whose values are operations the tool performs (`action: [list, delete]`).
const ACTION_PARAMS: &[&str] = &["action", "actions", "operation", "operations", "op"];
/// Parameter names that take a recipient chosen by the caller.
pub const RECIPIENT_PARAMS: &[&str] = &[
    "to",
    "recipient",
    "recipients",
    "cc",
    "bcc",
    "emailto",
    "phone",
    "phonenumber",
];

const NEGATIONS: &[&str] = &[
    "not", "never", "no", "without", "cannot", "nor", "doesn't", "don't", "won't", "isn't",
    "can't", "doesnt", "dont", "wont", "isnt", "cant",
];

/// Server facts, computed once per server.
#[derive(Debug, Clone, Default)]
pub struct ServerFacts {
    /// Lowercased id, name and description.
    pub text: String,
}

/// Everything the rules look at in one tool.
pub struct Facts<'a> {
    pub tool: &'a Tool,
    pub name_tokens: Vec<String>,
    /// Index into `name_tokens` of the tool's verb.
    pub primary_verb: Option<usize>,
    /// Other unambiguous verbs of the name.
    pub secondary_verbs: Vec<usize>,
    /// The description (bounded), as received and lowercased (ASCII only, so byte offsets match).
    pub desc: &'a str,
    pub desc_lower: String,
    /// The description's first verb: base form and byte range in `desc`.
    pub desc_verb: Option<(String, usize, usize)>,
    /// Parameter names as written, and compacted (`filePath` → `filepath`), and their last word.
    pub params: Vec<(String, String, String)>,
    /// Whether each parameter is limited to an enum (it cannot carry free text such as code).
    pub param_is_enum: Vec<bool>,
    pub enum_values: Vec<String>,
    /// Values of action-like enums that are verbs.
    pub action_verbs: Vec<String>,
    /// Annotations, unless withheld.
    pub annotations: Option<&'a Value>,
    pub server: &'a ServerFacts,
}

impl<'a> Facts<'a> {
    pub fn new(
        rules: &RuleSet,
        tool: &'a Tool,
        server: &'a ServerFacts,
        use_annotations: bool,
    ) -> Facts<'a> {
        let name_tokens = tokens::split_identifier(&tool.name);
        let (primary_verb, secondary_verbs) = find_verbs(rules, &name_tokens);
        let desc = tokens::truncate_at_char(
            tool.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION_SCAN,
        );
        let desc_lower = desc.to_ascii_lowercase();
        let desc_verb = leading_verb(rules, &desc_lower);
        let mut facts = Facts {
            tool,
            name_tokens,
            primary_verb,
            secondary_verbs,
            desc,
            desc_lower,
            desc_verb,
            params: Vec::new(),
            param_is_enum: Vec::new(),
            enum_values: Vec::new(),
            action_verbs: Vec::new(),
            annotations: if use_annotations {
                tool.annotations.as_ref().filter(|a| a.is_object())
            } else {
                None
            },
            server,
        };
        if let Some(schema) = &tool.input_schema {
            facts.walk_schema(rules, schema, 0);
        }
        facts
    }

    fn walk_schema(&mut self, rules: &RuleSet, schema: &Value, depth: usize) {
        if depth > MAX_SCHEMA_DEPTH {
            return;
        }
        let Some(obj) = schema.as_object() else {
            return;
        };
        if let Some(Value::Object(props)) = obj.get("properties") {
            for (name, sub) in props {
                if self.params.len() >= MAX_PARAMS {
                    break;
                }
                let compact = tokens::compact(name);
                let last = tokens::split_identifier(name).pop().unwrap_or_default();
                let action_like = ACTION_PARAMS.contains(&compact.as_str());
                if let Some(Value::Array(values)) = sub.get("enum") {
                    self.add_enum(rules, values, action_like);
                }
                // An array of operations: `{"type":"array","items":{"enum":[...]}}`.
                if let Some(Value::Array(values)) = sub.get("items").and_then(|i| i.get("enum")) {
                    self.add_enum(rules, values, action_like);
                }
                let is_enum = sub.get("enum").is_some()
                    || sub.get("const").is_some()
                    || sub.get("type").and_then(Value::as_str) == Some("boolean");
                self.params.push((name.clone(), compact, last));
                self.param_is_enum.push(is_enum);
                self.walk_schema(rules, sub, depth + 1);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(sub) = obj.get(key) {
                self.walk_schema(rules, sub, depth + 1);
            }
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(subs)) = obj.get(key) {
                for sub in subs.iter().take(16) {
                    self.walk_schema(rules, sub, depth + 1);
                }
            }
        }
        if depth == 0 {
            if let Some(Value::Array(values)) = obj.get("enum") {
                self.add_enum(rules, values, false);
            }
        }
    }

    fn add_enum(&mut self, rules: &RuleSet, values: &[Value], action_like: bool) {
        for v in values.iter().filter_map(Value::as_str) {
            if self.enum_values.len() >= MAX_ENUM_VALUES {
                return;
            }
            let lower = tokens::truncate_at_char(v, 64).to_ascii_lowercase();
            if action_like {
                // `delete_item`, `bulk-update`: the verb is the first word that is one.
                if let Some(verb) = tokens::split_identifier(&lower)
                    .into_iter()
                    .find(|w| rules.verbs.contains_key(w))
                {
                    if !self.action_verbs.contains(&verb) {
                        self.action_verbs.push(verb);
                    }
                }
            }
            self.enum_values.push(lower);
        }
    }

    /// The name has a verb.
    pub fn has_verb(&self) -> bool {
        self.primary_verb.is_some()
    }

    pub fn verb_token(&self) -> Option<&str> {
        self.primary_verb.map(|i| self.name_tokens[i].as_str())
    }

    pub(crate) fn annotation(&self, key: &str) -> Option<bool> {
        self.annotations?.get(key)?.as_bool()
    }

    /// Whether every set key of `c` holds (`all`) or any does (`!all`).
    pub(crate) fn check(&self, c: &Cond, all: bool) -> bool {
        let mut results = Vec::with_capacity(4);
        if !c.verb.is_empty() {
            let hit = self
                .verb_token()
                .is_some_and(|v| c.verb.iter().any(|x| x == v))
                || self
                    .desc_verb
                    .as_ref()
                    .is_some_and(|(v, _, _)| c.verb.contains(v))
                || self.action_verbs.iter().any(|v| c.verb.contains(v));
            results.push(hit);
        }
        if !c.name_token.is_empty() {
            results.push(self.name_tokens.iter().any(|t| c.name_token.contains(t)));
        }
        if !c.name_noun.is_empty() {
            results
                .push(!self.has_verb() && self.name_tokens.iter().any(|t| c.name_noun.contains(t)));
        }
        if let Some(re) = &c.description {
            results.push(re.is_match(self.desc_lower.as_bytes()));
        }
        if !c.param.is_empty() {
            results.push(
                self.params
                    .iter()
                    .any(|(_, p, last)| c.param.contains(p) || c.param.contains(last)),
            );
        }
        if !c.enum_value.is_empty() {
            results.push(self.enum_values.iter().any(|v| c.enum_value.contains(v)));
        }
        if let Some(re) = &c.server {
            results.push(re.is_match(self.server.text.as_bytes()));
        }
        if !c.annotation.is_empty() {
            results.push(
                c.annotation
                    .iter()
                    .all(|(k, v)| self.annotation(k) == Some(*v)),
            );
        }
        if all {
            results.iter().all(|b| *b)
        } else {
            results.iter().any(|b| *b)
        }
    }
}

/// The name's verb: the first unambiguous verb word, else an ambiguous one (`post`, `commit`)
/// in first or second place (after a namespace such as `git_`). Secondary verbs: the other
/// unambiguous ones.
fn find_verbs(rules: &RuleSet, words: &[String]) -> (Option<usize>, Vec<usize>) {
    let mut primary = None;
    let mut ambiguous_first = None;
    let mut secondary = Vec::new();
    for (i, w) in words.iter().enumerate() {
        match rules.verb_ambiguity(w) {
            Some(false) => {
                if primary.is_none() {
                    primary = Some(i);
                } else if i > 0 && matches!(words[i - 1].as_str(), "and" | "or" | "then") {
                    // `find_and_replace`, `get_or_create`: the joined verb acts too, and the
                    // one that changes something is what matters.
                    let prev_reads = primary
                        .and_then(|p| rules.verbs.get(&words[p]))
                        .is_some_and(|(ids, _)| {
                            ids.iter()
                                .all(|&r| rules.rules[r].signals == [Signal::Access(Access::Read)])
                        });
                    if prev_reads {
                        secondary.push(primary.unwrap_or(i));
                        primary = Some(i);
                    } else {
                        secondary.push(i);
                    }
                } else {
                    secondary.push(i);
                }
            }
            Some(true) if i <= 1 && ambiguous_first.is_none() => ambiguous_first = Some(i),
            _ => {}
        }
    }
    if primary.is_none() {
        // A verb that is also a noun (`post_message`, `git_commit`) names the action only
        // when no unambiguous verb does (`API-post-search` searches).
        primary = ambiguous_first;
    }
    if primary.is_none() && words.len() == 1 && glued_verb(&words[0]).is_some() {
        // `getweather`, `listfiles`: a verb glued to its object (index 0 marks it; the verb
        // itself is recovered by `glued_verb`).
        primary = Some(0);
    }
    (primary, secondary)
}

/// Verbs recognised at the start of a one-word name: only long-enough, unambiguous ones, so
/// that `settings` is not `set` + `tings`.
const GLUED_VERBS: &[&str] = &[
    "get", "list", "search", "fetch", "read", "create", "delete", "update", "remove", "write",
    "send", "execute",
];

/// The base form of a verb at the start of a one-word name glued to its object.
pub(crate) fn glued_verb(word: &str) -> Option<&'static str> {
    GLUED_VERBS
        .iter()
        .find(|v| word.len() >= v.len() + 4 && word.starts_with(**v))
        .copied()
}

/// The first verb of the description's first sentence, skipping a `WORKFLOW:`-style prefix
/// and filler ("Tools for listing …" → `list`). A negation before it ("Does not modify")
/// means there is none.
pub(crate) fn leading_verb(rules: &RuleSet, lower: &str) -> Option<(String, usize, usize)> {
    // "START HERE for Athena: List …", "WORKFLOW: …": a short label before a colon. When
    // no verb follows it, the label was the sentence ("Access charge data: the charge for …").
    // A label that starts with a verb and introduces a list is the sentence itself ("Access
    // credits data: balance, sharing configuration, …").
    if let Some(colon) = tokens::truncate_at_char(lower, 48).find(':') {
        if !lower[..colon].contains('.') && colon + 1 < lower.len() {
            let label_is_verb = first_word_is_verb(rules, &lower[..colon]);
            if label_is_verb && !first_word_is_verb(rules, &lower[colon + 1..]) {
                return sentence_verb(rules, lower, 0);
            }
            if let Some(v) = sentence_verb(rules, lower, colon + 1) {
                return Some(v);
            }
        }
    }
    sentence_verb(rules, lower, 0)
}

/// Whether the first word of `text` is a verb of the rules.
fn first_word_is_verb(rules: &RuleSet, text: &str) -> bool {
    tokens::words(text)
        .next()
        .is_some_and(|(_, w)| tokens::stems(w).any(|s| rules.verbs.contains_key(s.as_ref())))
}

/// The first verb of the sentence starting at `offset`.
fn sentence_verb(rules: &RuleSet, lower: &str, offset: usize) -> Option<(String, usize, usize)> {
    let text = &lower[offset..];
    let sentence_end = text
        .find(". ")
        .or_else(|| text.find('\n'))
        .unwrap_or(text.len());
    let sentence = &text[..sentence_end];
    let mut prev = "";
    for (i, (start, word)) in tokens::words(sentence).take(LEADING_WORDS).enumerate() {
        if NEGATIONS.contains(&word) {
            return None;
        }
        let before = std::mem::replace(&mut prev, word);
        if word.contains('_') {
            continue;
        }
        for stem in tokens::stems(word) {
            if rules.verbs.contains_key(stem.as_ref()) {
                // A verb that is also a noun (`charge`, `order`, `invoice`) is the action
                // only where a verb stands: first, or after `to`, `and`, `can`, … ("Access the
                // Support charge data" reads charges).
                if i > 0
                    && rules.verb_ambiguity(stem.as_ref()) == Some(true)
                    && !VERB_SLOT.contains(&before)
                    && !(before == "for" && word.ends_with("ing"))
                {
                    continue;
                }
                let s = offset + start;
                return Some((stem.into_owned(), s, s + word.len()));
            }
        }
    }
    None
}

/// Words after which an ambiguous word in a description is a verb ("used to order", "and
/// charge").
const VERB_SLOT: &[&str] = &[
    "to", "and", "or", "then", "can", "will", "you", "also", "please", "lets", "let", "may",
];

/// Whether a match at `start` in a lowercased text is negated by a word shortly before it in
/// the same sentence ("does not delete", "without modifying").
pub fn negated(lower: &str, start: usize) -> bool {
    let mut start = start.min(lower.len());
    while !lower.is_char_boundary(start) {
        start -= 1;
    }
    let mut from = start.saturating_sub(40);
    while !lower.is_char_boundary(from) {
        from += 1;
    }
    let before = &lower[from..start];
    let before = match before.rfind(['.', ';', '\n', '!', '?']) {
        Some(i) => &before[i + 1..],
        None => before,
    };
    let words: Vec<&str> = before
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().rev().take(4).any(|w| NEGATIONS.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_looks_back_within_the_sentence() {
        let t = "this tool does not modify anything";
        assert!(negated(t, t.find("modify").unwrap()));
        let t = "reads files without deleting them";
        assert!(negated(t, t.find("deleting").unwrap()));
        let t = "never mind. deletes the file";
        assert!(!negated(t, t.find("deletes").unwrap()));
        let t = "deletes the file";
        assert!(!negated(t, 0));
        let t = "no, really: this one will then delete it";
        assert!(!negated(t, t.find("delete").unwrap()));
    }

    #[test]
    fn leading_verb_survives_multibyte_text_at_the_label_limit() {
        // Regression: a `—` straddling byte 48 panicked (mapbox, postman, ms-365 servers).
        let rules = crate::classify::Classifier::builtin();
        let text = "find the intersection geometry of two polygons — the result";
        assert!(leading_verb(rules.rules(), text).is_some());
        let text = "update the properties of mailfolder object.\n\n💡 tip: x";
        assert!(leading_verb(rules.rules(), text).is_some());
    }
}
