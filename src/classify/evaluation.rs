//! Evaluation: fire the rules on a tool's facts and collect the hits and the votes they cast.

use crate::classify::facts::{glued_verb, negated, Facts};
use crate::classify::rules::{Rule, RuleSet, Signal};
use crate::classify::tokens;
use crate::model::*;
use serde_json::Value;

/// An effect counts when its rules' weights add up to this.
pub const EFFECT_THRESHOLD: u16 = 2;

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
    /// The most a tool's listed operations can do (coordinated verbs, verbs joined in the
    /// name, values of an operation enum): capability is a maximum, not a vote.
    pub capability: Option<Access>,
    /// One of those operations destroys.
    pub capability_destructive: bool,
    /// Risk floors set by rules, with the access the rule argued for (a floor from a rule
    /// whose access lost does not apply: "explain this SQL without running it").
    pub risk_floors: Vec<(Risk, Option<Access>)>,
}

pub fn access_idx(a: Access) -> usize {
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
    // Description: its main verb and the verbs coordinated with it; a word the name already
    // said counts once.
    let name_verbs: Vec<&str> = f
        .primary_verb
        .iter()
        .chain(&f.secondary_verbs)
        .map(|&i| f.name_tokens[i].as_str())
        .collect();
    for d in &f.desc_verbs {
        if name_verbs.contains(&d.verb.as_str()) {
            if d.coordinated {
                note_capability(&mut ev, rules, &d.verb);
            }
            continue;
        }
        if let Some((ids, _)) = rules.verbs.get(&d.verb) {
            // A listed operation that only reads adds nothing to what the tool can do.
            if d.coordinated && verb_meaning(rules, ids).0 == Some(Access::Read) {
                continue;
            }
            let text = sentence_around(f.desc, d.start, d.end);
            for &i in ids {
                if d.coordinated && rules.rules[i].ambiguous {
                    continue;
                }
                fire(&mut ev, i, Source::Description, text, reduced(i));
            }
        }
        if d.coordinated || (f.desc_verbs.len() > 1 && rules.verb_ambiguity(&d.verb) != Some(true))
        {
            note_capability(&mut ev, rules, &d.verb);
        }
    }
    if f.name_joins_verbs {
        for &i in f.primary_verb.iter().chain(&f.secondary_verbs) {
            note_capability(&mut ev, rules, &f.name_tokens[i]);
        }
    }
    for v in &f.action_verbs {
        note_capability(&mut ev, rules, v);
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
                    // A match that is just the name's verb again ("delete_file": "Delete a
                    // file") is the same word, counted once.
                    let word = f.desc_lower.get(m.start()..m.end()).unwrap_or("").trim();
                    let changes = rules.rules[idx].signals.iter().any(|s| {
                        matches!(
                            s,
                            Signal::Access(Access::Write | Access::Execute)
                                | Signal::Effect(Effect::Destructive)
                        )
                    });
                    if changes
                        && !word.is_empty()
                        && word.bytes().all(|b| b.is_ascii_alphabetic())
                        && tokens::stems(word).any(|s| name_verbs.contains(&s.as_ref()))
                    {
                        continue;
                    }
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

/// Records one listed operation's access as a capability of the tool.
fn note_capability(ev: &mut Evaluation, rules: &RuleSet, verb: &str) {
    let Some((ids, _)) = rules.verbs.get(verb) else {
        return;
    };
    // The word sense was read from its object ("resolves a module name to an ID"): a rule of
    // this verb with conditions fired and only reads.
    if ids.iter().any(|&i| {
        let r = &rules.rules[i];
        r.requires.is_some()
            && r.signals == [Signal::Access(Access::Read)]
            && ev.hits.iter().any(|h| h.rule == i)
    }) {
        return;
    }
    let (access, destructive) = verb_meaning(rules, ids);
    if let Some(a) = access {
        ev.capability = Some(ev.capability.map_or(a, |c| more_access(c, a)));
    }
    ev.capability_destructive |= destructive;
}

/// What the rules of one verb conclude: the most-changing access and whether it destroys.
pub fn verb_meaning(rules: &RuleSet, ids: &[usize]) -> (Option<Access>, bool) {
    let mut access: Option<Access> = None;
    let mut destructive = false;
    // Only what the verb means on its own: a rule with conditions speaks of a word sense.
    for &i in ids
        .iter()
        .filter(|&&i| rules.rules[i].requires.is_none() && rules.rules[i].unless.is_none())
    {
        for s in &rules.rules[i].signals {
            match s {
                Signal::Access(a) => access = Some(access.map_or(*a, |c| more_access(c, *a))),
                Signal::Effect(Effect::Destructive) => destructive = true,
                _ => {}
            }
        }
    }
    (access, destructive)
}

/// The access that changes more: execute > write > read.
pub fn more_access(a: Access, b: Access) -> Access {
    if access_idx(b) > access_idx(a) {
        b
    } else {
        a
    }
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
pub(crate) fn sentence_around(text: &str, start: usize, end: usize) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_around_quotes_the_clause() {
        let t = "Lists things. Deletes the file at path. Returns nothing.";
        let s = t.find("Deletes").unwrap();
        assert_eq!(sentence_around(t, s, s + 7), "Deletes the file at path");
    }
}
