//! The classification engine: extract the facts of one tool (name words and its verb, the
//! description's first verb, schema parameters and enums, annotations), fire the rules on
//! them, weigh the votes, and turn the result into access, effects, risk, policy, confidence
//! and a plain-English rationale.

use crate::classify::rules::{Cond, Rule, RuleSet, Signal};
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
/// An effect counts when its rules' weights add up to this.
pub const EFFECT_THRESHOLD: u16 = 2;

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

    fn annotation(&self, key: &str) -> Option<bool> {
        self.annotations?.get(key)?.as_bool()
    }

    /// Whether every set key of `c` holds (`all`) or any does (`!all`).
    fn check(&self, c: &Cond, all: bool) -> bool {
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
fn glued_verb(word: &str) -> Option<&'static str> {
    GLUED_VERBS
        .iter()
        .find(|v| word.len() >= v.len() + 4 && word.starts_with(**v))
        .copied()
}

/// The first verb of the description's first sentence, skipping a `WORKFLOW:`-style prefix
/// and filler ("Tools for listing …" → `list`). A negation before it ("Does not modify")
/// means there is none.
fn leading_verb(rules: &RuleSet, lower: &str) -> Option<(String, usize, usize)> {
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

/// One rule firing.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: usize,
    pub source: Source,
    pub text: String,
    pub weight: u16,
}

/// The rules that fired on a tool and the votes they cast.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub hits: Vec<Hit>,
    /// Votes per access from evidence (not annotations), indexed by `Access as usize`.
    pub evidence_votes: [u16; 3],
    /// Votes from annotations.
    pub annotation_votes: [u16; 3],
    pub effects: [u16; 11],
    pub risk_up: u8,
    /// Risk floors set by rules, with the access the rule argued for (a floor from a rule
    /// whose access lost does not apply: "explain this SQL without running it").
    pub risk_floors: Vec<(Risk, Option<Access>)>,
}

fn access_idx(a: Access) -> usize {
    match a {
        Access::Read => 0,
        Access::Write => 1,
        Access::Execute => 2,
    }
}

pub fn effect_idx(e: Effect) -> usize {
    Effect::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

/// Fires every rule on the facts.
pub fn evaluate(rules: &RuleSet, f: &Facts<'_>) -> Evaluation {
    let mut ev = Evaluation::default();
    let fire = |ev: &mut Evaluation, idx: usize, source: Source, text: &str, weight: u16| {
        let rule = &rules.rules[idx];
        if ev.hits.iter().any(|h| h.rule == idx && h.source == source) {
            return;
        }
        if let Some(req) = &rule.requires {
            if !f.check(req, true) {
                return;
            }
        }
        if let Some(unless) = &rule.unless {
            if f.check(unless, false) {
                return;
            }
        }
        apply(ev, rule, source, weight);
        ev.hits.push(Hit {
            rule: idx,
            source,
            text: quote(text),
            weight,
        });
    };
    let w = |idx: usize| rules.rules[idx].weight as u16;
    let reduced = |idx: usize| (rules.rules[idx].weight as u16).saturating_sub(1).max(1);

    // Name: the verb at full weight, other verbs as hints.
    if let Some(p) = f.primary_verb {
        let word = &f.name_tokens[p];
        let verb = if rules.verbs.contains_key(word) {
            Some(word.as_str())
        } else {
            glued_verb(word)
        };
        if let Some((ids, _)) = verb.and_then(|v| rules.verbs.get(v)) {
            for &i in ids {
                fire(&mut ev, i, Source::Name, &f.tool.name, w(i));
            }
        }
    }
    for &s in &f.secondary_verbs {
        if let Some((ids, _)) = rules.verbs.get(&f.name_tokens[s]) {
            for &i in ids {
                if !rules.rules[i].ambiguous {
                    fire(&mut ev, i, Source::Name, &f.tool.name, 1);
                }
            }
        }
    }
    for t in &f.name_tokens {
        if let Some(ids) = rules.name_tokens.get(t) {
            for &i in ids {
                fire(&mut ev, i, Source::Name, &f.tool.name, w(i));
            }
        }
        if !f.has_verb() {
            if let Some(ids) = rules.name_nouns.get(t) {
                for &i in ids {
                    fire(&mut ev, i, Source::Name, &f.tool.name, w(i));
                }
            }
        }
    }
    // Description: its first verb, then phrase patterns.
    if let Some((verb, s, e)) = &f.desc_verb {
        if let Some((ids, _)) = rules.verbs.get(verb) {
            let text = sentence_around(f.desc, *s, *e);
            for &i in ids {
                fire(&mut ev, i, Source::Description, text, reduced(i));
            }
        }
    }
    if let Some(set) = &rules.description_set {
        if !f.desc_lower.is_empty() {
            for pi in set.matches(f.desc_lower.as_bytes()).iter() {
                let idx = rules.description_rules[pi];
                let re = &rules.description_regexes[pi];
                if let Some(m) = re
                    .find_iter(f.desc_lower.as_bytes())
                    .find(|m| !negated(&f.desc_lower, m.start()))
                {
                    let text = sentence_around(f.desc, m.start(), m.end());
                    fire(&mut ev, idx, Source::Description, text, w(idx));
                }
            }
        }
    }
    // Schema: parameters, enum values, action enums.
    for (pi, (name, compact, last)) in f.params.iter().enumerate() {
        let fixed = f.param_is_enum.get(pi).copied().unwrap_or(false);
        for key in [compact, last] {
            if let Some(ids) = rules.params.get(key) {
                for &i in ids {
                    // An enum or boolean parameter cannot carry code or a command.
                    if fixed
                        && rules.rules[i]
                            .signals
                            .contains(&Signal::Effect(Effect::Code))
                    {
                        continue;
                    }
                    fire(
                        &mut ev,
                        i,
                        Source::Schema,
                        &format!("parameter `{name}`"),
                        w(i),
                    );
                }
            }
        }
    }
    for v in &f.enum_values {
        if let Some(ids) = rules.enum_values.get(v) {
            for &i in ids {
                fire(
                    &mut ev,
                    i,
                    Source::Schema,
                    &format!("enum value `{v}`"),
                    w(i),
                );
            }
        }
    }
    for v in &f.action_verbs {
        if let Some((ids, _)) = rules.verbs.get(v) {
            for &i in ids {
                fire(
                    &mut ev,
                    i,
                    Source::Schema,
                    &format!("operation `{v}` in an action enum"),
                    reduced(i),
                );
            }
        }
    }
    // Server context and annotations.
    for &i in &rules.server_rules {
        if let Some(re) = &rules.rules[i].trigger.server {
            if let Some(m) = re.find(f.server.text.as_bytes()) {
                let text = String::from_utf8_lossy(m.as_bytes()).into_owned();
                fire(&mut ev, i, Source::Server, &text, w(i));
            }
        }
    }
    if let Some(ann) = f.annotations {
        for &i in &rules.annotation_rules {
            let cond = &rules.rules[i].trigger.annotation;
            if cond
                .iter()
                .all(|(k, v)| ann.get(k).and_then(Value::as_bool) == Some(*v))
            {
                let text = cond
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                fire(&mut ev, i, Source::Annotation, &text, w(i));
            }
        }
    }
    ev
}

fn apply(ev: &mut Evaluation, rule: &Rule, source: Source, weight: u16) {
    for s in &rule.signals {
        match *s {
            Signal::Access(a) => {
                let votes = if source == Source::Annotation {
                    &mut ev.annotation_votes
                } else {
                    &mut ev.evidence_votes
                };
                votes[access_idx(a)] += weight;
            }
            Signal::Effect(e) => ev.effects[effect_idx(e)] += weight,
            Signal::RiskUp(n) => ev.risk_up = ev.risk_up.max(n),
            Signal::RiskAtLeast(r) => {
                let access = rule.signals.iter().find_map(|s| match s {
                    Signal::Access(a) => Some(*a),
                    _ => None,
                });
                ev.risk_floors.push((r, access));
            }
        }
    }
}

/// Bounded quote of matched text.
fn quote(text: &str) -> String {
    const MAX: usize = 160;
    let t = tokens::truncate_at_char(text.trim(), MAX);
    if t.len() < text.trim().len() {
        format!("{t}…")
    } else {
        t.to_string()
    }
}

/// The clause around a match, so the quote reads: from the previous sentence break (at most
/// 60 bytes back) to the next (at most 80 bytes on).
fn sentence_around(text: &str, start: usize, end: usize) -> &str {
    // Byte regexes may start or end a match inside a multi-byte character.
    let (mut start, mut end) = (start.min(text.len()), end.min(text.len()));
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let mut s = start.saturating_sub(60);
    while !text.is_char_boundary(s) {
        s += 1;
    }
    if let Some(i) = text[s..start].rfind(['.', '\n', ';']) {
        s += i + 1;
    }
    let mut e = (end + 80).min(text.len());
    while !text.is_char_boundary(e) {
        e -= 1;
    }
    if let Some(i) = text[end..e].find(['.', '\n', ';']) {
        e = end + i;
    }
    text[s..e].trim()
}

/// Decided access with the vote totals behind it.
pub struct Decision {
    pub access: Access,
    pub effects: Vec<Effect>,
    /// Access from evidence alone (annotations withheld), if any evidence voted.
    pub evidence_access: Option<Access>,
    pub evidence_strength: u16,
    pub evidence_margin: u16,
}

fn pick(votes: [u16; 3]) -> Option<Access> {
    let [r, w, x] = votes;
    if r + w + x == 0 {
        None
    } else if r > w + x {
        Some(Access::Read)
    } else if x >= w && x > 0 {
        Some(Access::Execute)
    } else {
        Some(Access::Write)
    }
}

/// Effects that only a tool that changes something can have.
const WRITE_ONLY_EFFECTS: &[Effect] = &[
    Effect::Send,
    Effect::Admin,
    Effect::Financial,
    Effect::Bulk,
    Effect::Code,
];

pub fn decide(ev: &Evaluation) -> Decision {
    let destructive = ev.effects[effect_idx(Effect::Destructive)] >= EFFECT_THRESHOLD;
    let evidence_access = pick(ev.evidence_votes);
    let total = [
        ev.evidence_votes[0] + ev.annotation_votes[0],
        ev.evidence_votes[1] + ev.annotation_votes[1],
        ev.evidence_votes[2] + ev.annotation_votes[2],
    ];
    let mut access = pick(total).unwrap_or(Access::Write);
    if destructive && access == Access::Read {
        // A tool that deletes is never read-only, whatever its annotations say.
        access = if total[2] > total[1] {
            Access::Execute
        } else {
            Access::Write
        };
    }
    let mut effects: Vec<Effect> = Effect::ALL
        .iter()
        .copied()
        .filter(|e| ev.effects[effect_idx(*e)] >= EFFECT_THRESHOLD)
        .collect();
    if access == Access::Read {
        effects.retain(|e| !WRITE_ONLY_EFFECTS.contains(e));
    }
    if access == Access::Execute && !effects.contains(&Effect::Code) {
        // Running what the tool does not define is handling code.
        effects.push(Effect::Code);
        effects.sort();
    }
    let [r, w, x] = ev.evidence_votes;
    let (strength, margin) = match evidence_access {
        Some(Access::Read) => (r, r.saturating_sub(w + x)),
        Some(_) => (w + x, (w + x).saturating_sub(r)),
        None => (0, 0),
    };
    Decision {
        access,
        effects,
        evidence_access,
        evidence_strength: strength,
        evidence_margin: margin,
    }
}

/// Risk and the reasons for it, from access, effects and rule floors.
pub fn grade(
    d: &Decision,
    ev: &Evaluation,
    f: &Facts<'_>,
    findings: &[Finding],
) -> (Risk, Vec<String>) {
    let mut risk = match d.access {
        Access::Read => Risk::Low,
        Access::Write => Risk::Medium,
        Access::Execute => Risk::High,
    };
    let mut reasons: Vec<(Risk, String)> = vec![(
        risk,
        match d.access {
            Access::Read => "it only reads".to_string(),
            Access::Write => "it changes state".to_string(),
            Access::Execute => {
                "it runs code, commands or queries that the caller supplies".to_string()
            }
        },
    )];
    let has = |e: Effect| d.effects.contains(&e);
    fn bump(risk: &mut Risk, reasons: &mut Vec<(Risk, String)>, level: Risk, why: &str) {
        if level > *risk {
            *risk = level;
        }
        reasons.push((level, why.to_string()));
    }
    macro_rules! raise {
        ($level:expr, $why:expr $(,)?) => {{
            let level = $level;
            bump(&mut risk, &mut reasons, level, $why)
        }};
    }
    if has(Effect::Financial) {
        if has(Effect::Bulk) || has(Effect::Send) {
            raise!(
                Risk::Critical,
                "it moves money, in bulk or to a recipient the caller chooses"
            );
        } else {
            raise!(Risk::High, "it moves money or commits spending");
        }
    }
    if has(Effect::Destructive) {
        raise!(Risk::High, "it can delete or overwrite data irreversibly");
    }
    if has(Effect::Credentials) {
        if d.access == Access::Read {
            raise!(Risk::High, "it reads secrets or credentials");
        } else {
            raise!(Risk::High, "it creates or changes secrets or credentials");
        }
    }
    if has(Effect::Admin) {
        raise!(
            Risk::High,
            "it changes permissions, members or configuration"
        );
    }
    if has(Effect::Send) {
        let recipient = f
            .params
            .iter()
            .any(|(_, c, _)| RECIPIENT_PARAMS.contains(&c.as_str()));
        if recipient {
            raise!(Risk::High, "it sends to recipients the caller chooses");
        } else {
            raise!(
                Risk::Medium,
                "it publishes or sends messages others will see"
            );
        }
    }
    if has(Effect::PrivateData) {
        raise!(Risk::Medium, "it reads private data");
    }
    if has(Effect::UntrustedInput) {
        raise!(
            Risk::Medium,
            "it returns content others can write (a prompt-injection path)",
        );
    }
    if has(Effect::Network) {
        raise!(
            Risk::Medium,
            "it reaches network addresses the caller chooses"
        );
    }
    if has(Effect::Filesystem) && d.access != Access::Read {
        raise!(Risk::Medium, "it writes to the filesystem");
    }
    let floor = ev
        .risk_floors
        .iter()
        .filter(|(_, a)| a.is_none_or(|a| a == d.access))
        .map(|(r, _)| *r)
        .max();
    if let Some(floor) = floor {
        if floor > risk {
            let why = rule_risk_reason(ev, floor);
            raise!(floor, &why);
        }
    }
    if has(Effect::Bulk)
        && (has(Effect::Destructive) || has(Effect::Financial) || has(Effect::Send))
    {
        raise!(step(risk, 1), "it acts on many items at once");
    }
    if ev.risk_up > 0 {
        raise!(step(risk, ev.risk_up), "a rule raises it");
    }
    if findings.iter().any(|f| f.severity == Severity::Critical) {
        raise!(
            Risk::Critical,
            "its definition carries hidden instructions or smuggled characters",
        );
    }
    // The reasons that reach the final level, most serious first; the base reason ("it only
    // reads") only when nothing raised the risk above it.
    let base = reasons[0].clone();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut out: Vec<String> = Vec::new();
    for (level, why) in &reasons {
        if *level == risk && !out.contains(why) && out.len() < 3 {
            out.push(why.clone());
        }
    }
    if out.is_empty() || (base.0 == risk && !out.contains(&base.1)) {
        out.insert(0, base.1);
    }
    (risk, out)
}

fn rule_risk_reason(ev: &Evaluation, _floor: Risk) -> String {
    // Floors come from rules about specific dangers (shell commands, raw SQL…); the strongest
    // such evidence explains it.
    if ev.effects[effect_idx(Effect::Code)] > 0 {
        "it can run arbitrary code or shell commands".to_string()
    } else {
        "a rule for this kind of tool sets it".to_string()
    }
}

fn step(r: Risk, n: u8) -> Risk {
    let i = Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) + n as usize;
    Risk::ALL[i.min(Risk::ALL.len() - 1)]
}

/// The recommended gateway rule.
pub fn policy_for(access: Access, risk: Risk, reasons: &[String], findings: &[Finding]) -> Policy {
    let why = reasons.first().cloned().unwrap_or_default();
    if let Some(f) = findings.iter().find(|f| f.severity == Severity::Critical) {
        return Policy {
            action: Action::Deny,
            rate_limit: None,
            reason: format!(
                "its definition is unsafe to show a model ({}); review the server before use",
                f.kind.replace('_', " ")
            ),
        };
    }
    match risk {
        Risk::Low => Policy {
            action: Action::Allow,
            rate_limit: None,
            reason: why,
        },
        Risk::Medium => Policy {
            action: Action::RateLimit,
            rate_limit: Some(RateLimit {
                max: if access == Access::Read { 60 } else { 20 },
                window: 60,
            }),
            reason: why,
        },
        Risk::High | Risk::Critical => Policy {
            action: Action::RequireApproval,
            rate_limit: None,
            reason: why,
        },
    }
}

/// How sure the classification is: high when signals agree (or the author's annotation
/// agrees with the evidence), low when they disagree or are absent.
pub fn confidence(d: &Decision, f: &Facts<'_>, contradiction: bool) -> Confidence {
    if contradiction {
        return Confidence::Low;
    }
    let claimed = f.annotation("readOnlyHint");
    match (claimed, d.evidence_access) {
        (_, None) if claimed.is_none() => Confidence::Low,
        (Some(ro), Some(a)) if ro == (a == Access::Read) => Confidence::High,
        (Some(_), _) => Confidence::Medium,
        (None, Some(_)) => {
            if d.evidence_strength >= 3 && d.evidence_margin == d.evidence_strength {
                Confidence::High
            } else if d.evidence_margin * 2 >= d.evidence_strength && d.evidence_margin >= 2 {
                Confidence::Medium
            } else {
                Confidence::Low
            }
        }
        _ => Confidence::Low,
    }
}

/// The evidence list, strongest first within each source.
pub fn evidence(rules: &RuleSet, ev: &Evaluation) -> Vec<Evidence> {
    let mut hits: Vec<&Hit> = ev.hits.iter().collect();
    hits.sort_by_key(|h| (source_rank(h.source), std::cmp::Reverse(h.weight)));
    hits.iter()
        .map(|h| Evidence {
            rule: rules.rules[h.rule].id.clone(),
            signal: rules.rules[h.rule].signal_label.clone(),
            source: h.source,
            text: h.text.clone(),
        })
        .collect()
}

fn source_rank(s: Source) -> u8 {
    match s {
        Source::Override => 0,
        Source::Annotation => 1,
        Source::Name => 2,
        Source::Description => 3,
        Source::Schema => 4,
        Source::Server => 5,
    }
}

/// A few sentences saying why, from the evidence.
pub fn rationale(
    rules: &RuleSet,
    ev: &Evaluation,
    d: &Decision,
    class: Class,
    risk: Risk,
    reasons: &[String],
) -> String {
    let mut s = String::with_capacity(200);
    let verb_of = |a: Access| match a {
        Access::Read => "only reads",
        Access::Write => "changes state",
        Access::Execute => "runs what the caller supplies",
    };
    s.push_str(class.title());
    if class.title().to_ascii_lowercase() != d.access.as_str() {
        s.push_str(" (");
        s.push_str(d.access.as_str());
        s.push_str(" access)");
    }
    // The strongest evidence for the chosen access, one quote per source.
    let mut quotes: Vec<String> = Vec::new();
    let mut hits: Vec<&Hit> = ev
        .hits
        .iter()
        .filter(|h| {
            rules.rules[h.rule].signals.iter().any(|sig| {
                matches!(sig, Signal::Access(a) if *a == d.access)
                    || matches!(sig, Signal::Effect(e) if d.effects.contains(e) && matches!(e, Effect::Destructive | Effect::Financial | Effect::Send))
            })
        })
        .collect();
    hits.sort_by_key(|h| std::cmp::Reverse(h.weight));
    let mut used = Vec::new();
    for h in hits {
        if used.contains(&h.source) || quotes.len() >= 2 {
            continue;
        }
        used.push(h.source);
        let q = tokens::truncate_at_char(&h.text, 80);
        quotes.push(match h.source {
            Source::Name => format!("its name “{q}”"),
            Source::Description => format!("its description (“{q}”)"),
            Source::Schema => format!("its input schema ({q})"),
            Source::Annotation => format!("its author's annotation ({q})"),
            Source::Server => format!("its server (“{q}”)"),
            Source::Override => format!("a reviewer's override ({q})"),
        });
    }
    if quotes.is_empty() {
        s.push_str(
            ": no rule matched its name, description or schema, so it is treated as a tool that ",
        );
        s.push_str(verb_of(d.access));
        s.push_str(", with unknown effects.");
    } else {
        s.push_str(": ");
        s.push_str(&quotes.join(" and "));
        s.push_str(" say it ");
        s.push_str(verb_of(d.access));
        s.push('.');
    }
    let extra: Vec<&str> = d
        .effects
        .iter()
        .filter(|e| !matches!(e, Effect::Code) || d.access != Access::Execute)
        .map(|e| e.as_str())
        .collect();
    if !extra.is_empty() {
        s.push_str(" Effects: ");
        s.push_str(&extra.join(", ").replace('_', " "));
        s.push('.');
    }
    s.push_str(" Risk ");
    s.push_str(risk.as_str());
    if !reasons.is_empty() {
        s.push_str(" because ");
        s.push_str(&reasons.join("; "));
    }
    s.push('.');
    s
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
    fn sentence_around_quotes_the_clause() {
        let t = "Lists things. Deletes the file at path. Returns nothing.";
        let s = t.find("Deletes").unwrap();
        assert_eq!(sentence_around(t, s, s + 7), "Deletes the file at path");
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

    #[test]
    fn risk_steps_saturate() {
        assert_eq!(step(Risk::Low, 1), Risk::Medium);
        assert_eq!(step(Risk::High, 5), Risk::Critical);
    }
}
