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
/// Schema objects visited: a hostile schema with thousands of branches costs no more.
const MAX_SCHEMA_NODES: usize = 256;
/// Values kept of one operation enum.
const MAX_OP_VALUES: usize = 64;
/// Further parameters whose enum value chooses the operation (besides `ACTION_PARAMS`).
const OPERATION_PARAMS: &[&str] = &[
    "mode",
    "method",
    "httpmethod",
    "requestmethod",
    "command",
    "subcommand",
    "cmd",
    "tool",
    "task",
];
/// HTTP methods, lowercase.
pub const HTTP_METHODS: &[&str] = &["get", "head", "options", "post", "put", "patch", "delete"];

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

pub(crate) const NEGATIONS: &[&str] = &[
    "not", "never", "no", "without", "cannot", "nor", "doesn't", "don't", "won't", "isn't",
    "can't", "doesnt", "dont", "wont", "isnt", "cant",
];

/// Server facts, computed once per server.
#[derive(Debug, Clone, Default)]
pub struct ServerFacts {
    /// Lowercased id, name and description.
    pub text: String,
}

/// A verb of the description: its base form, its byte range, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescVerb {
    pub verb: String,
    pub start: usize,
    pub end: usize,
    /// Found in a list of operations coordinated with the main verb ("list, create or
    /// delete"), not as the main verb itself.
    pub coordinated: bool,
}

/// A parameter whose value chooses the operation (`action: [list, delete]`, an HTTP `method`
/// enum): the values as written.
#[derive(Debug, Clone)]
pub struct OpParam {
    pub name: String,
    /// An HTTP method enum (`GET`, `POST`, `DELETE`).
    pub http: bool,
    /// The values are listed in the description of a free-text parameter, not an enum.
    pub described: bool,
    pub values: Vec<String>,
}

/// Everything the rules look at in one tool.
pub struct Facts<'a> {
    pub tool: &'a Tool,
    pub name_tokens: Vec<String>,
    /// Index into `name_tokens` of the tool's verb.
    pub primary_verb: Option<usize>,
    /// Other unambiguous verbs of the name.
    pub secondary_verbs: Vec<usize>,
    /// Whether the name joins its verbs with `and` / `or` (`get_or_create`): each is an
    /// operation of the tool.
    pub name_joins_verbs: bool,
    /// The description (bounded), as received.
    pub desc: &'a str,
    /// The description lowercased (ASCII only, so byte offsets match `desc`), with
    /// cross-references to other tools, usage advice and examples blanked out: what the tool
    /// itself does.
    pub desc_lower: String,
    /// The description's main verb, then the verbs coordinated with it.
    pub desc_verbs: Vec<DescVerb>,
    /// Parameter names as written, and compacted (`filePath` → `filepath`), and their last word.
    pub params: Vec<(String, String, String)>,
    /// Whether each parameter is limited to an enum (it cannot carry free text such as code).
    pub param_is_enum: Vec<bool>,
    pub enum_values: Vec<String>,
    /// Values of action-like enums that are verbs.
    pub action_verbs: Vec<String>,
    /// Parameters whose value chooses the operation.
    pub op_params: Vec<OpParam>,
    /// Top-level parameters that take free text (a `string` that is no enum), as indexes
    /// into `params`.
    pub text_params: Vec<usize>,
    /// Schema nodes visited (bounded by `MAX_SCHEMA_NODES`).
    nodes: usize,
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
        let name_joins_verbs = primary_verb.is_some()
            && !secondary_verbs.is_empty()
            && name_tokens
                .iter()
                .any(|w| matches!(w.as_str(), "and" | "or"));
        let desc = tokens::truncate_at_char(
            tool.description.as_deref().unwrap_or(""),
            MAX_DESCRIPTION_SCAN,
        );
        let desc_lower = crate::classify::clauses::own_text(desc.to_ascii_lowercase());
        let desc_verbs = crate::classify::clauses::description_verbs(rules, &desc_lower);
        // The same word in name and description counts once, and it is the operation:
        // `expense_claim_list` "List Expense Claims", `purchase_invoice_get` "Get a single
        // Purchase Invoice" list and get; `claim` and `purchase` are part of the object.
        let (primary_verb, secondary_verbs) = match (primary_verb, desc_verbs.first()) {
            // …unless the description's word is a verb that is also a noun and the name's is
            // not: `atlas-create-access-list` "Allow … to access" creates an access list.
            (Some(p), Some(main))
                if name_tokens[p] != main.verb
                    && !name_joins_verbs
                    && !(rules.verb_ambiguity(&main.verb) == Some(true)
                        && rules.verb_ambiguity(&name_tokens[p]) == Some(false)) =>
            {
                match name_tokens
                    .iter()
                    .enumerate()
                    .skip(p + 1)
                    .find(|(_, w)| **w == main.verb)
                {
                    Some((j, _)) => (
                        Some(j),
                        secondary_verbs
                            .into_iter()
                            .filter(|&i| i != j && i != p)
                            .collect(),
                    ),
                    None => (Some(p), secondary_verbs),
                }
            }
            other => (other.0, secondary_verbs),
        };
        let mut facts = Facts {
            tool,
            name_tokens,
            primary_verb,
            secondary_verbs,
            name_joins_verbs,
            desc,
            desc_lower,
            desc_verbs,
            params: Vec::new(),
            param_is_enum: Vec::new(),
            enum_values: Vec::new(),
            action_verbs: Vec::new(),
            op_params: Vec::new(),
            text_params: Vec::new(),
            nodes: 0,
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

    /// The description's main verb.
    pub fn desc_verb(&self) -> Option<&DescVerb> {
        self.desc_verbs.first()
    }

    fn walk_schema(&mut self, rules: &RuleSet, schema: &Value, depth: usize) {
        if depth > MAX_SCHEMA_DEPTH || self.nodes >= MAX_SCHEMA_NODES {
            return;
        }
        self.nodes += 1;
        let Some(obj) = schema.as_object() else {
            return;
        };
        let node = SchemaKeys::of(obj);
        if let Some(Value::Object(props)) = node.properties {
            for (name, sub) in props {
                if self.params.len() >= MAX_PARAMS {
                    break;
                }
                let compact = tokens::compact(name);
                let last = tokens::split_identifier(name).pop().unwrap_or_default();
                let action_like = ACTION_PARAMS.contains(&compact.as_str());
                let chooser = action_like || OPERATION_PARAMS.contains(&compact.as_str());
                let keys = sub.as_object().map(SchemaKeys::of).unwrap_or_default();
                if let Some(Value::Array(values)) = keys.enum_values {
                    self.add_enum(rules, values, action_like);
                    if chooser && depth == 0 {
                        self.add_op_param(name, values);
                    }
                }
                // An array of operations: `{"type":"array","items":{"enum":[...]}}`.
                if let Some(Value::Array(values)) = keys.items.and_then(|i| i.get("enum")) {
                    self.add_enum(rules, values, action_like);
                }
                let is_enum = keys.enum_values.is_some()
                    || keys.constant
                    || keys.kind.and_then(Value::as_str) == Some("boolean");
                if depth == 0 && !is_enum && keys.takes_text() {
                    if chooser {
                        // A command router: `command: string` "One of: status, log, push".
                        let values = keys
                            .description
                            .and_then(Value::as_str)
                            .map(described_values)
                            .unwrap_or_default();
                        if values.len() >= 2 && self.op_params.len() < 4 {
                            self.op_params.push(OpParam {
                                name: tokens::truncate_at_char(name, 64).to_string(),
                                http: false,
                                described: true,
                                values,
                            });
                        }
                    }
                    self.text_params.push(self.params.len());
                }
                self.params.push((name.clone(), compact, last));
                self.param_is_enum.push(is_enum);
                self.walk_schema(rules, sub, depth + 1);
            }
        }
        for sub in [node.items, node.additional].into_iter().flatten() {
            self.walk_schema(rules, sub, depth + 1);
        }
        for subs in [node.any_of, node.one_of, node.all_of]
            .into_iter()
            .flatten()
        {
            if let Value::Array(subs) = subs {
                for sub in subs.iter().take(16) {
                    self.walk_schema(rules, sub, depth + 1);
                }
            }
        }
        if depth == 0 {
            if let Some(Value::Array(values)) = node.enum_values {
                self.add_enum(rules, values, false);
            }
        }
    }

    /// Records a parameter whose enum value chooses the operation.
    fn add_op_param(&mut self, name: &str, values: &[Value]) {
        let values: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .take(MAX_OP_VALUES)
            .map(|v| tokens::truncate_at_char(v, 64).to_string())
            .collect();
        if values.is_empty() || self.op_params.len() >= 4 {
            return;
        }
        let http = values
            .iter()
            .all(|v| HTTP_METHODS.contains(&v.to_ascii_lowercase().as_str()));
        self.op_params.push(OpParam {
            name: tokens::truncate_at_char(name, 64).to_string(),
            http,
            described: false,
            values,
        });
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
                || self.desc_verbs.iter().any(|d| c.verb.contains(&d.verb))
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

/// The keywords of one schema object the walk reads, found in one pass over its keys (a
/// lookup per keyword would hash each of them again).
#[derive(Default, Clone, Copy)]
struct SchemaKeys<'v> {
    kind: Option<&'v Value>,
    enum_values: Option<&'v Value>,
    constant: bool,
    items: Option<&'v Value>,
    properties: Option<&'v Value>,
    additional: Option<&'v Value>,
    description: Option<&'v Value>,
    any_of: Option<&'v Value>,
    one_of: Option<&'v Value>,
    all_of: Option<&'v Value>,
}

impl<'v> SchemaKeys<'v> {
    fn of(obj: &'v serde_json::Map<String, Value>) -> SchemaKeys<'v> {
        let mut k = SchemaKeys::default();
        for (key, v) in obj {
            match key.as_str() {
                "type" => k.kind = Some(v),
                "enum" => k.enum_values = Some(v),
                "const" => k.constant = true,
                "items" => k.items = Some(v),
                "properties" => k.properties = Some(v),
                "additionalProperties" => k.additional = Some(v),
                "description" => k.description = Some(v),
                "anyOf" => k.any_of = Some(v),
                "oneOf" => k.one_of = Some(v),
                "allOf" => k.all_of = Some(v),
                _ => {}
            }
        }
        k
    }

    /// Whether the property takes free text: `type: string` (alone or among others), or no
    /// type at all.
    fn takes_text(&self) -> bool {
        match self.kind {
            None => self.properties.is_none() && self.items.is_none(),
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            Some(_) => false,
        }
    }
}

/// The values a free-text parameter's description lists as its choices: the words after
/// "one of" / "options" / "available" / "supported" / "valid values" / "commands" / "actions" /
/// "operations" (up to the end of the sentence), or, failing that, two or more quoted or
/// backticked words. Each value is one identifier (`list`, `get-status`, `delete_item`); a
/// list with anything else in it (prose, a sentence) is not a list of choices.
pub(crate) fn described_values(description: &str) -> Vec<String> {
    let desc = tokens::truncate_at_char(description, 1024).to_ascii_lowercase();
    const MARKERS: &[&str] = &[
        "one of",
        "options",
        "available",
        "supported",
        "valid values",
        "allowed values",
        "commands",
        "actions",
        "operations",
        "values",
        "choices",
    ];
    let is_ident = |w: &str| {
        !w.is_empty()
            && w.len() <= 40
            && w.starts_with(|c: char| c.is_ascii_lowercase())
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    for marker in MARKERS {
        let Some(at) = desc.find(marker) else {
            continue;
        };
        let rest = &desc[at + marker.len()..];
        let lead = |r: &'_ str| -> usize {
            r.len() - r.trim_start_matches([':', ' ', '(', '[', '-']).len()
        };
        let mut rest = &rest[lead(rest)..];
        for word in ["are ", "is ", "include ", "includes ", "include: "] {
            if let Some(r) = rest.strip_prefix(word) {
                rest = &r[lead(r)..];
            }
        }
        let end = rest.find(['.', ')', ']', ';', '\n']).unwrap_or(rest.len());
        let items: Vec<String> = rest[..end]
            .split([',', '|', '/'])
            .flat_map(|part| part.split(" or "))
            .flat_map(|part| part.split(" and "))
            .map(|w| w.trim().trim_matches(['`', '\'', '"', ' ']).to_string())
            .filter(|w| !w.is_empty())
            .collect();
        if items.len() >= 2 && items.len() <= MAX_OP_VALUES && items.iter().all(|w| is_ident(w)) {
            return dedup(items);
        }
    }
    let quoted: Vec<String> = desc
        .split(['`', '\'', '"'])
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    if quoted.len() >= 2 && quoted.len() <= MAX_OP_VALUES && quoted.iter().all(|w| is_ident(w)) {
        return dedup(quoted);
    }
    Vec::new()
}

fn dedup(mut items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.retain(|w| seen.insert(w.clone()));
    items
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
                } else if rules.verbs.contains_key(&words[i - 1]) {
                    secondary.push(i);
                }
                // Otherwise a verb after a noun is part of a compound noun (`dag_run`,
                // `test_run`, `log_export`), not a second operation.
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
}
