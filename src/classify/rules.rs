//! Rules as data: the YAML format of `rules.yaml` (embedded) and of a user's `--rules FILE`,
//! compiled into lookup tables so that classifying a tool costs a few hash lookups and one
//! pass of a regex set over its description.

use crate::classify::tokens;
use crate::model::{Access, Effect, Risk};
use anyhow::{bail, Context, Result};
// Byte regexes with Unicode off: descriptions are matched ASCII-lowercased, and Unicode
// classes under bounded repetition (`[^.]{0,40}`) blow up the lazy DFA (~10× slower).
use regex::bytes::{Regex, RegexSet};
use rustc_hash::FxHashMap as HashMap;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The built-in rules, compiled into the binary.
pub const BUILTIN_RULES: &str = include_str!("rules.yaml");

/// A rules file: built-in `rules.yaml` or a user's `--rules FILE`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// Drop every built-in rule and use only these (default: add to / replace by id).
    #[serde(default)]
    pub replace_builtin: bool,
    /// Ids of built-in rules to switch off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// The rules; a rule with the id of a built-in one replaces it.
    #[serde(default)]
    pub rules: Vec<RuleDef>,
}

/// One rule: when `match` holds (and `requires` holds, and `unless` does not), emit `then`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// Stable id, quoted in evidence (`verb.delete`).
    pub id: String,
    /// What the rule recognises and why it concludes what it does.
    pub description: String,
    /// Tools the rule must fire on (checked by the test suite).
    #[serde(default)]
    pub examples: Vec<Example>,
    /// The trigger: exactly one key.
    #[serde(rename = "match")]
    pub trigger: When,
    /// Further conditions that must all hold.
    #[serde(default)]
    pub requires: Option<When>,
    /// Conditions any of which stops the rule.
    #[serde(default)]
    pub unless: Option<When>,
    /// Signals: `access:read|write|execute`, `effect:<effect>`, `risk:+1`, `risk:>=high`.
    pub then: Vec<String>,
    /// Strength of the signal, 1 (hint) to 5 (decisive). Default 2.
    #[serde(default = "default_weight")]
    pub weight: u8,
    /// The verbs are also common nouns (`request`, `post`, `commit`): they count in a name
    /// only in first or second position, never as a secondary verb.
    #[serde(default)]
    pub ambiguous: bool,
}

fn default_weight() -> u8 {
    2
}

/// An example a rule must fire on: a tool name, or a small tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Example {
    Name(String),
    Tool(ExampleTool),
}

/// A small tool for a rule example.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleTool {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Parameter names of the input schema.
    #[serde(default)]
    pub params: Vec<String>,
    /// Values of an `action` enum parameter.
    #[serde(default, rename = "enum")]
    pub enum_values: Vec<String>,
    #[serde(default)]
    pub annotations: Option<serde_json::Value>,
    /// Server name or description.
    #[serde(default)]
    pub server: Option<String>,
}

/// Conditions. As a trigger exactly one key is set; in `requires` all set keys must hold,
/// in `unless` any.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The tool's verb: in the name (first verb, after namespace prefixes), the first verb of
    /// the description, or a value of an `action`/`operation`/`method` enum.
    #[serde(default)]
    pub verb: Vec<String>,
    /// Any word of the name.
    #[serde(default)]
    pub name_token: Vec<String>,
    /// A word of the name, when the name has no verb at all (`directory_tree`, `git_status`).
    #[serde(default)]
    pub name_noun: Vec<String>,
    /// A regex over the lowercased description; a match preceded by a negation ("does not
    /// modify") does not count.
    #[serde(default)]
    pub description: Option<String>,
    /// An input-schema property name (compared without separators or case), or its last word.
    #[serde(default)]
    pub param: Vec<String>,
    /// A string value of any enum in the input schema (case-insensitive).
    #[serde(default)]
    pub enum_value: Vec<String>,
    /// A regex over the lowercased server id, name and description.
    #[serde(default)]
    pub server: Option<String>,
    /// Annotation hints with the value they must have.
    #[serde(default)]
    pub annotation: BTreeMap<String, bool>,
}

impl When {
    fn keys(&self) -> usize {
        [
            !self.verb.is_empty(),
            !self.name_token.is_empty(),
            !self.name_noun.is_empty(),
            self.description.is_some(),
            !self.param.is_empty(),
            !self.enum_value.is_empty(),
            self.server.is_some(),
            !self.annotation.is_empty(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}

/// What a rule concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Access(Access),
    Effect(Effect),
    /// Raise the risk by this many levels.
    RiskUp(u8),
    /// Raise the risk to at least this level.
    RiskAtLeast(Risk),
}

/// Why a rule's signal does not parse (`signal` is the text as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalError {
    /// No `:` between kind and value.
    NotKindValue { signal: String },
    /// A kind other than access, effect or risk.
    UnknownKind { signal: String, kind: String },
    /// `risk:` followed by neither `+N` nor `>=LEVEL`.
    BadRisk { signal: String },
    /// The value is not an access class, effect or risk level (the parser's message).
    BadValue { signal: String, message: String },
}

impl std::fmt::Display for SignalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignalError::NotKindValue { signal } => {
                write!(f, "signal `{signal}` is not `kind:value`")
            }
            SignalError::UnknownKind { signal, kind } => write!(
                f,
                "signal `{signal}`: unknown kind `{kind}` (expected access, effect or risk)"
            ),
            SignalError::BadRisk { signal } => {
                write!(f, "`{signal}`: expected risk:+N or risk:>=LEVEL")
            }
            SignalError::BadValue { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for SignalError {}

impl Signal {
    pub fn parse(s: &str) -> Result<Signal, SignalError> {
        let signal = || s.to_string();
        let bad_value = |e: crate::model::UnknownLabel| SignalError::BadValue {
            signal: signal(),
            message: e.to_string(),
        };
        let (k, v) = s
            .split_once(':')
            .ok_or_else(|| SignalError::NotKindValue { signal: signal() })?;
        match k.trim() {
            "access" => v.parse().map(Signal::Access).map_err(bad_value),
            "effect" => v.parse().map(Signal::Effect).map_err(bad_value),
            "risk" => {
                let v = v.trim();
                if let Some(n) = v.strip_prefix('+') {
                    n.parse::<u8>()
                        .map(Signal::RiskUp)
                        .map_err(|_| SignalError::BadRisk { signal: signal() })
                } else if let Some(level) = v.strip_prefix(">=") {
                    level.parse().map(Signal::RiskAtLeast).map_err(bad_value)
                } else {
                    Err(SignalError::BadRisk { signal: signal() })
                }
            }
            other => Err(SignalError::UnknownKind {
                signal: signal(),
                kind: other.to_string(),
            }),
        }
    }

    /// The signal as written in evidence.
    pub fn label(&self) -> String {
        match self {
            Signal::Access(a) => format!("access:{a}"),
            Signal::Effect(e) => format!("effect:{e}"),
            Signal::RiskUp(n) => format!("risk:+{n}"),
            Signal::RiskAtLeast(r) => format!("risk:>={r}"),
        }
    }
}

/// A condition with its regexes compiled.
#[derive(Debug, Clone, Default)]
pub struct Cond {
    pub verb: Vec<String>,
    pub name_token: Vec<String>,
    pub name_noun: Vec<String>,
    pub description: Option<Regex>,
    pub param: Vec<String>,
    pub enum_value: Vec<String>,
    pub server: Option<Regex>,
    pub annotation: Vec<(String, bool)>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub description: String,
    pub examples: Vec<Example>,
    pub signals: Vec<Signal>,
    /// The signals as written, joined: the `signal` of its evidence.
    pub signal_label: String,
    pub weight: u8,
    pub ambiguous: bool,
    pub trigger: Cond,
    pub requires: Option<Cond>,
    pub unless: Option<Cond>,
}

/// The compiled rule set: the rules plus indexes from each trigger value to the rules it fires.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// verb → (rules, whether every rule naming it marks it ambiguous)
    pub verbs: HashMap<String, (Vec<usize>, bool)>,
    pub name_tokens: HashMap<String, Vec<usize>>,
    pub name_nouns: HashMap<String, Vec<usize>>,
    pub params: HashMap<String, Vec<usize>>,
    pub enum_values: HashMap<String, Vec<usize>>,
    /// Description regexes, in one set for one pass; `description_rules[i]` is the rule of
    /// pattern i, `description_regexes[i]` finds its position.
    pub description_set: Option<RegexSet>,
    pub description_rules: Vec<usize>,
    pub description_regexes: Vec<Regex>,
    pub server_rules: Vec<usize>,
    pub annotation_rules: Vec<usize>,
}

/// Rewrites `\b`, `\w`, `\s` (and `\d`) to their ASCII forms. Unicode word boundaries make the
/// regex engine leave its fast DFA on any non-ASCII text (an emoji in a description), costing
/// ~50× in throughput; the rules only ever mean ASCII words.
pub fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    // Inside `[...]` the escapes stay as they are (a class is matched by the DFA either way).
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(k @ ('b' | 'w' | 's' | 'd')) if !in_class => {
                    out.push_str("(?-u:\\");
                    out.push(k);
                    out.push(')');
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '[' => {
                in_class = true;
                out.push(c);
            }
            ']' => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Lazy-DFA cache per regex: large enough that the rule patterns never thrash it (a thrashing
/// cache makes the engine fall back to its slow NFA simulation).
const DFA_CACHE_BYTES: usize = 32 << 20;

fn compile_regex(rule: &str, pattern: &str) -> Result<Regex> {
    regex::bytes::RegexBuilder::new(&ascii_classes(pattern))
        .unicode(false)
        .dfa_size_limit(DFA_CACHE_BYTES)
        .size_limit(1 << 22)
        .build()
        .with_context(|| format!("rule `{rule}`: bad regex `{pattern}`"))
}

fn lower_all(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.trim().to_ascii_lowercase()).collect()
}

fn compile_cond(rule: &str, w: &When) -> Result<Cond> {
    Ok(Cond {
        verb: lower_all(&w.verb),
        name_token: lower_all(&w.name_token),
        name_noun: lower_all(&w.name_noun),
        description: w
            .description
            .as_deref()
            .map(|p| compile_regex(rule, p))
            .transpose()?,
        param: w.param.iter().map(|p| tokens::compact(p)).collect(),
        enum_value: lower_all(&w.enum_value),
        server: w
            .server
            .as_deref()
            .map(|p| compile_regex(rule, p))
            .transpose()?,
        annotation: w.annotation.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    })
}

impl RuleSet {
    /// Parses rules YAML (`source` names it in errors).
    pub fn parse(source: &str, text: &str) -> Result<RulesFile> {
        serde_yaml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{source}: {}",
                crate::catalogue::yaml_error(&e).trim_end_matches('.')
            )
        })
    }

    /// The built-in rules.
    pub fn builtin_defs() -> Vec<RuleDef> {
        // The embedded file is checked by the test suite, so this cannot fail in a release.
        Self::parse("built-in rules.yaml", BUILTIN_RULES)
            .map(|f| f.rules)
            .expect("the built-in rules.yaml parses (checked by the tests)")
    }

    /// Merges a user file into rule definitions: replace all, disable some, replace by id, add.
    pub fn merge(mut base: Vec<RuleDef>, user: RulesFile) -> Result<Vec<RuleDef>> {
        if user.replace_builtin {
            base.clear();
        }
        for id in &user.disable {
            let before = base.len();
            base.retain(|r| &r.id != id);
            if base.len() == before {
                bail!("`disable` names rule `{id}`, which does not exist");
            }
        }
        for r in user.rules {
            match base.iter_mut().find(|b| b.id == r.id) {
                Some(slot) => *slot = r,
                None => base.push(r),
            }
        }
        Ok(base)
    }

    /// Compiles rule definitions; errors name the rule.
    pub fn compile(defs: Vec<RuleDef>) -> Result<RuleSet> {
        let mut set = RuleSet::default();
        let mut patterns = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for def in defs {
            let id = def.id.clone();
            if id.trim().is_empty() {
                bail!("a rule has an empty `id`");
            }
            if !seen.insert(id.clone()) {
                bail!("rule id `{id}` is used twice");
            }
            if def.trigger.keys() != 1 {
                bail!(
                    "rule `{id}`: `match` must have exactly one key (verb, name_token, name_noun, \
                     description, param, enum_value, server or annotation); put further \
                     conditions under `requires`"
                );
            }
            if !(1..=5).contains(&def.weight) {
                bail!("rule `{id}`: weight {} is outside 1..=5", def.weight);
            }
            let signals = def
                .then
                .iter()
                .map(|s| Signal::parse(s).map_err(|e| anyhow::anyhow!("rule `{id}`: {e}")))
                .collect::<Result<Vec<_>>>()?;
            if signals.is_empty() {
                bail!("rule `{id}`: `then` is empty");
            }
            let trigger = compile_cond(&id, &def.trigger)?;
            for cond in [
                Some(&def.trigger),
                def.requires.as_ref(),
                def.unless.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                for word in cond
                    .verb
                    .iter()
                    .chain(&cond.name_token)
                    .chain(&cond.name_noun)
                {
                    if word.is_empty() || !word.chars().all(|c| c.is_alphanumeric()) {
                        bail!(
                            "rule `{id}`: `{word}` is not one word; names are split on `_`, `-`, \
                             `.` and case changes, so list single lowercase words"
                        );
                    }
                }
            }
            let idx = set.rules.len();
            for v in &trigger.verb {
                let e = set
                    .verbs
                    .entry(v.clone())
                    .or_insert_with(|| (Vec::new(), true));
                e.0.push(idx);
                e.1 &= def.ambiguous;
            }
            for t in &trigger.name_token {
                set.name_tokens.entry(t.clone()).or_default().push(idx);
            }
            for t in &trigger.name_noun {
                set.name_nouns.entry(t.clone()).or_default().push(idx);
            }
            for p in &trigger.param {
                set.params.entry(p.clone()).or_default().push(idx);
            }
            for v in &trigger.enum_value {
                set.enum_values.entry(v.clone()).or_default().push(idx);
            }
            if let Some(p) = &def.trigger.description {
                patterns.push(ascii_classes(p));
                set.description_rules.push(idx);
                set.description_regexes
                    .push(trigger.description.clone().expect("compiled above"));
            }
            if trigger.server.is_some() {
                set.server_rules.push(idx);
            }
            if !trigger.annotation.is_empty() {
                set.annotation_rules.push(idx);
            }
            set.rules.push(Rule {
                signal_label: def.then.join(" "),
                signals,
                weight: def.weight,
                ambiguous: def.ambiguous,
                requires: def
                    .requires
                    .as_ref()
                    .map(|w| compile_cond(&id, w))
                    .transpose()?,
                unless: def
                    .unless
                    .as_ref()
                    .map(|w| compile_cond(&id, w))
                    .transpose()?,
                trigger,
                id,
                description: def.description,
                examples: def.examples,
            });
        }
        if !patterns.is_empty() {
            set.description_set = Some(
                regex::bytes::RegexSetBuilder::new(&patterns)
                    .unicode(false)
                    .dfa_size_limit(DFA_CACHE_BYTES)
                    .size_limit(1 << 24)
                    .build()
                    .context("compiling the description patterns")?,
            );
        }
        Ok(set)
    }

    /// Whether a word is a verb of some rule; `Some(true)` when it is only ever ambiguous.
    pub fn verb_ambiguity(&self, word: &str) -> Option<bool> {
        self.verbs.get(word).map(|(_, amb)| *amb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_classes_rewrites_only_escapes() {
        assert_eq!(
            ascii_classes(r"\bx\w+\s\.\\"),
            r"(?-u:\b)x(?-u:\w)+(?-u:\s)\.\\"
        );
        assert_eq!(
            ascii_classes(r"api[\s_-]?keys?\b"),
            r"api[\s_-]?keys?(?-u:\b)"
        );
        let re = compile_regex("t", r"\bdelete\b").unwrap();
        assert!(re.is_match("🛡️ delete it".as_bytes()));
        assert!(!re.is_match(b"undelete"));
        let re = compile_regex("t", r"send[^.]{0,10}mail").unwrap();
        assert!(re.is_match("send ✉️ mail".as_bytes()));
    }

    #[test]
    fn builtin_rules_parse_and_compile() {
        let file = RuleSet::parse("built-in rules.yaml", BUILTIN_RULES).unwrap();
        let set = RuleSet::compile(file.rules).unwrap();
        assert!(set.rules.len() > 40);
    }
}
