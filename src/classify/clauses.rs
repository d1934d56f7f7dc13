//! Reading the structure of a description: what is the tool's own text (not a reference to
//! another tool, usage advice or an example), what its main verb is, and which verbs are
//! coordinated with it as further operations ("list, create, rename or delete").

use crate::classify::facts::{DescVerb, NEGATIONS};
use crate::classify::rules::RuleSet;
use crate::classify::tokens;
use regex::bytes::{Regex, RegexSet};
use std::sync::OnceLock;

/// Words of a sentence searched for its main verb.
const LEADING_WORDS: usize = 8;
/// Sentences searched for a main verb when the first has none ("Limit: 5 requests per
/// minute. Search …").
const LEADING_SENTENCES: usize = 3;
/// Bytes of the description searched for main verbs.
const LEADING_BYTES: usize = 600;
/// Words after a main verb searched for coordinated verbs.
const COORDINATED_WORDS: usize = 48;

/// Spans of a lowercased description that are not the tool's own operations, each blanked
/// to the end of its clause (`.`, `;`, `)` or a line break):
/// - references to other tools: "use `delete_item` to remove …", "call list_x first";
/// - usage advice: "use this tool when …", "before creating …", "when writing …";
/// - examples: "(e.g. …)", "for example …", an `Examples:` paragraph, code fences.
fn masks() -> &'static (RegexSet, Vec<(Regex, Extent)>) {
    static M: OnceLock<(RegexSet, Vec<(Regex, Extent)>)> = OnceLock::new();
    M.get_or_init(|| {
        let ident = r"(`[^`\n]{1,80}`|'[a-z0-9_.\-]{2,60}'|[a-z0-9]+[_\-][a-z0-9_\-]*[a-z0-9])";
        let pats = [
            (r"(?s)```.*?(```|$)".to_string(), Extent::Match),
            (r"\((e\.g\.?|i\.e\.?|eg|for\s+example|for\s+instance|example)[^)]{0,300}\)".into(), Extent::Match),
            (r"(?s)(^|\n)[ \t#*-]*(examples?|example\s+(prompts?|usage|queries|calls?)|usage\s+examples?|sample\s+(calls?|queries))\s*:.*?(\n[ \t]*\n|$)".into(), Extent::Match),
            (r"\b(e\.g\.|for\s+example|for\s+instance|example\s+prompts?\s*:|examples?\s*:)".into(), Extent::Clause),
            (format!(r"\b(use|call|invoke|run|try|prefer|see|via|then)\s+(the\s+)?{ident}(\s+tool)?"), Extent::Reference),
            (format!(r"`[a-z0-9]+[_\-.][a-z0-9_\-.]*`|\b(the\s+){ident}\s+tool\b"), Extent::Match),
            (r"(?s)\buse\s+this(\s+tool)?\s+(only\s+)?(when|if)\s*:.*?(\n[ \t]*\n|$)".into(), Extent::Match),
            (r"\b(use\s+this(\s+tool)?\s+(only\s+)?(when|if|before|after|instead)|(before|after|when|whenever|while|prior\s+to|instead\s+of)\s+[a-z]+ing)\b".into(), Extent::Clause),
        ]
        .into_iter()
        .map(|(p, extent)| (crate::classify::rules::ascii_classes(&p), extent))
        .collect::<Vec<_>>();
        let set = regex::bytes::RegexSetBuilder::new(pats.iter().map(|p| &p.0))
            .unicode(false)
            .build()
            .expect("the built-in clause patterns compile (checked by the tests)");
        let each = pats
            .into_iter()
            .map(|(p, extent)| {
                let re = regex::bytes::RegexBuilder::new(&p)
                    .unicode(false)
                    .build()
                    .expect("the built-in clause patterns compile (checked by the tests)");
                (re, extent)
            })
            .collect();
        (set, each)
    })
}

/// How far a mask reaches from its match.
#[derive(Clone, Copy)]
enum Extent {
    /// Just the match.
    Match,
    /// To the end of the clause.
    Clause,
    /// To the end of the clause, and from the start of the sentence when the sentence leads
    /// into it ("To delete items, use `delete_item`").
    Reference,
}

fn clause_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| matches!(c, b'.' | b';' | b'\n' | b')' | b'!' | b'?'))
        .map_or(b.len(), |i| from + i)
}

fn sentence_start(b: &[u8], at: usize) -> usize {
    b[..at]
        .iter()
        .rposition(|&c| matches!(c, b'.' | b';' | b'\n' | b'!' | b'?'))
        .map_or(0, |i| i + 1)
}

/// The lowercased description with what is not the tool's own text blanked (same length, so
/// offsets still match the original).
pub fn own_text(lower: String) -> String {
    let b = lower.as_bytes();
    // One pass of the set first: most descriptions have nothing to mask.
    let (set, each) = masks();
    let hits = set.matches(b);
    if !hits.matched_any() {
        return lower;
    }
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in hits.iter() {
        let (re, extent) = &each[i];
        for m in re.find_iter(b) {
            let (mut s, mut e) = (m.start(), m.end());
            match extent {
                Extent::Match => {}
                Extent::Clause => e = clause_end(b, e),
                Extent::Reference => {
                    e = clause_end(b, e);
                    let ss = sentence_start(b, s);
                    let lead = lower[ss..s].trim_start();
                    if ["to ", "for ", "if ", "when ", "instead", "otherwise", "or "]
                        .iter()
                        .any(|p| lead.starts_with(p))
                    {
                        s = ss;
                    }
                }
            }
            spans.push((s, e));
        }
    }
    if spans.is_empty() {
        return lower;
    }
    let mut out = lower.into_bytes();
    for (mut s, mut e) in spans {
        // Widened to whole characters, so that blanking keeps the text UTF-8.
        while s > 0 && s < out.len() && (out[s] & 0xC0) == 0x80 {
            s -= 1;
        }
        while e < out.len() && (out[e] & 0xC0) == 0x80 {
            e += 1;
        }
        for c in &mut out[s..e] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Words after which an ambiguous word in a description is a verb ("used to order", "and
/// charge").
const VERB_SLOT: &[&str] = &[
    "to", "and", "or", "then", "can", "will", "you", "also", "please", "lets", "let", "may",
];

/// Words before a verb-looking word that make it a noun ("a run", "the set of", "this
/// monitor").
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "its", "their", "your", "my", "our", "his",
    "her", "each", "every", "any", "of", "per", "whose", "which",
];

/// Words after a coordinated verb that show it takes an object, so it is a verb and not a
/// noun in a list ("list, create a branch" but not "returns name, type and label").
const OBJECT_STARTS: &[&str] = &[
    "a",
    "an",
    "the",
    "this",
    "that",
    "these",
    "those",
    "its",
    "their",
    "your",
    "one",
    "all",
    "any",
    "each",
    "every",
    "some",
    "multiple",
    "new",
    "existing",
    "current",
    "specific",
    "selected",
    "given",
    "specified",
    "them",
    "it",
    "or",
    "and",
];

/// Inflection of a description word relative to its base form.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    Base,
    S,
    Ing,
}

fn form(word: &str, stem: &str) -> Form {
    if word == stem {
        Form::Base
    } else if word.ends_with("ing") {
        Form::Ing
    } else {
        Form::S
    }
}

/// The verb of the rules a description word is an inflection of.
/// Command abbreviations that are verbs in names (`rm_file`, `del_key`) but not words of
/// prose: in a description they are other languages' words ("la lista del cliente").
const NAME_ONLY_VERBS: &[&str] = &["rm", "del", "mv", "cp", "ls"];

fn verb_of(rules: &RuleSet, word: &str) -> Option<String> {
    if word.contains('_') || word.len() < 2 || word.len() > 24 || NAME_ONLY_VERBS.contains(&word) {
        return None;
    }
    tokens::stems(word)
        .find(|s| rules.verbs.contains_key(s.as_ref()))
        .map(|s| s.into_owned())
}

/// The description's main verb and the verbs coordinated with it.
pub fn description_verbs(rules: &RuleSet, lower: &str) -> Vec<DescVerb> {
    let mut out = Vec::new();
    let Some((main, word)) = leading_verb(rules, lower) else {
        return out;
    };
    let main_form = form(word_at(lower, main.start), &main.verb);
    let _ = word;
    let end = main.end;
    out.push(main);
    coordinated(rules, lower, end, main_form, &mut out);
    out
}

fn word_at(text: &str, start: usize) -> &str {
    let b = text.as_bytes();
    let mut e = start;
    while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
        e += 1;
    }
    &text[start..e]
}

/// Verbs of the same form chained to the main verb by commas, slashes, `and`, `or`, or
/// listed after a colon, in the rest of its sentence.
fn coordinated(
    rules: &RuleSet,
    lower: &str,
    from: usize,
    main_form: Form,
    out: &mut Vec<DescVerb>,
) {
    let rest = &lower[from..];
    let sentence_end = rest
        .find(". ")
        .or_else(|| rest.find('\n'))
        .unwrap_or(rest.len());
    let sentence = &rest[..sentence_end];
    let b = sentence.as_bytes();
    let mut prev_end = 0usize;
    let mut prev_word = "";
    // Whether only coordinators and adverbs stand between the last verb and here.
    let mut chained = true;
    let mut after_colon = false;
    let words: Vec<(usize, &str)> = tokens::words(sentence).take(COORDINATED_WORDS).collect();
    for (i, &(start, word)) in words.iter().enumerate() {
        let gap = &b[prev_end..start];
        let punct = gap.iter().any(|c| matches!(c, b',' | b'/' | b':' | b'&'));
        // A list after a colon right behind the verb and its object ("Manage stashes: list
        // …"), not one further on ("…, which includes the operations: drop index …").
        if gap.contains(&b':') && i <= 4 {
            after_colon = true;
        }
        let coordinator = punct || matches!(prev_word, "and" | "or" | "then" | "nor");
        let is_link =
            matches!(word, "and" | "or" | "then" | "also" | "nor") || word.ends_with("ly");
        if NEGATIONS.contains(&word) {
            return;
        }
        let before_word = prev_word;
        prev_end = start + word.len();
        prev_word = word;
        if is_link {
            continue;
        }
        let verb = if coordinator && !DETERMINERS.contains(&before_word) {
            verb_of(rules, word)
        } else {
            None
        };
        let Some(verb) = verb.filter(|v| form(word, v) == main_form) else {
            chained = false;
            continue;
        };
        let ambiguous = rules.verb_ambiguity(&verb) == Some(true);
        let next = words.get(i + 1).map(|w| w.1).unwrap_or("");
        let takes_object = OBJECT_STARTS.contains(&next);
        let links_on = matches!(next, "and" | "or" | "then");
        let accept = (chained && (!ambiguous || takes_object || links_on))
            || (!ambiguous && takes_object)
            || (!ambiguous && after_colon && punct);
        if accept {
            if !out.iter().any(|d| d.verb == verb) {
                let s = from + start;
                out.push(DescVerb {
                    verb,
                    start: s,
                    end: s + word.len(),
                    coordinated: true,
                });
            }
            chained = true;
        } else {
            chained = false;
        }
    }
}

/// The main verb of the description, skipping a `WORKFLOW:`-style label, filler ("Tools for
/// listing …" → `list`) and a first sentence with no verb ("Limit: 6 requests per 30 s."). A
/// negation before it ("Does not modify") means there is none.
pub(crate) fn leading_verb<'t>(rules: &RuleSet, lower: &'t str) -> Option<(DescVerb, &'t str)> {
    // "START HERE for Athena: List …", "WORKFLOW: …": a short label before a colon. When
    // no verb follows it, the label was the sentence ("Access charge data: the charge for …").
    // A label that starts with a verb and introduces a list is the sentence itself ("Access
    // credits data: balance, sharing configuration, …").
    if let Some(colon) = tokens::truncate_at_char(lower, 48).find(':') {
        if !lower[..colon].contains('.') && colon + 1 < lower.len() {
            let label_is_verb = first_word_is_verb(rules, &lower[..colon]);
            // "Manage branches: list, create or delete": an umbrella verb's label is the main
            // clause and the list after the colon its operations; "START HERE for X: List …"
            // is a label before the sentence.
            let umbrella = tokens::words(&lower[..colon]).next().is_some_and(|(_, w)| {
                verb_of(rules, w).is_some_and(|v| rules.verb_ambiguity(&v) == Some(true))
            });
            let after_is_verb = first_word_is_verb(rules, &lower[colon + 1..]);
            if label_is_verb && (umbrella || !after_is_verb) {
                return sentence_verb(rules, lower, 0);
            }
            if let Some(v) = sentence_verb(rules, lower, colon + 1) {
                return Some(v);
            }
        }
    }
    let mut offset = 0;
    let limit = tokens::truncate_at_char(lower, LEADING_BYTES).len();
    for _ in 0..LEADING_SENTENCES {
        if let Some(v) = sentence_verb(rules, lower, offset) {
            return Some(v);
        }
        if negated_start(lower, offset) {
            return None;
        }
        let text = &lower[offset..];
        match text.find(". ").or_else(|| text.find('\n')) {
            Some(i) if offset + i + 1 < limit => offset += i + 1,
            _ => return None,
        }
    }
    None
}

/// Whether the sentence at `offset` starts with a negation ("Does not modify …").
fn negated_start(lower: &str, offset: usize) -> bool {
    tokens::words(&lower[offset..])
        .take(LEADING_WORDS)
        .any(|(_, w)| NEGATIONS.contains(&w))
}

/// Whether the first word of `text` is a verb of the rules.
fn first_word_is_verb(rules: &RuleSet, text: &str) -> bool {
    tokens::words(text)
        .next()
        .is_some_and(|(_, w)| verb_of(rules, w).is_some())
}

/// The first verb of the sentence starting at `offset`.
fn sentence_verb<'t>(
    rules: &RuleSet,
    lower: &'t str,
    offset: usize,
) -> Option<(DescVerb, &'t str)> {
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
        let Some(stem) = verb_of(rules, word) else {
            continue;
        };
        // "a DAG run", "the set of", "this monitor": a noun.
        if i > 0 && DETERMINERS.contains(&before) {
            continue;
        }
        // A verb that is also a noun (`charge`, `order`, `invoice`) is the action only where
        // a verb stands: first, or after `to`, `and`, `can`, … ("Access the Support charge
        // data" reads charges).
        if i > 0
            && rules.verb_ambiguity(&stem) == Some(true)
            && !VERB_SLOT.contains(&before)
            && !(before == "for" && word.ends_with("ing"))
        {
            continue;
        }
        let s = offset + start;
        return Some((
            DescVerb {
                verb: stem,
                start: s,
                end: s + word.len(),
                coordinated: false,
            },
            &lower[s..s + word.len()],
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;

    fn verbs(text: &str) -> Vec<(String, bool)> {
        let c = Classifier::builtin();
        let own = own_text(text.to_ascii_lowercase());
        description_verbs(c.rules(), &own)
            .into_iter()
            .map(|d| (d.verb, d.coordinated))
            .collect()
    }

    fn names(text: &str) -> Vec<String> {
        verbs(text).into_iter().map(|v| v.0).collect()
    }

    #[test]
    fn coordinated_verbs_are_each_an_operation() {
        assert_eq!(
            names("Manage branches: list all branches, show current branch, create a new branch, delete a branch, or rename a branch."),
            ["manage", "list", "show", "create", "delete", "rename"]
        );
        assert_eq!(
            names("Creates, updates or deletes a record."),
            ["create", "update", "delete"]
        );
        assert_eq!(
            names("Read or replace the device clipboard."),
            ["read", "replace"]
        );
        assert_eq!(names("Stop and remove a container."), ["stop", "remove"]);
        // Nouns in a list are not operations.
        assert_eq!(
            names("Returns the name, type and label of a field."),
            ["return"]
        );
        assert_eq!(names("Lists files, directories and links."), ["list"]);
        assert_eq!(
            verbs("Get information about the current Grafana identity: login, email, name, whether it is an admin"),
            // A list after a colon far from the verb lists data, not operations.
            [("get".to_string(), false)]
        );
    }

    #[test]
    fn main_verb_skips_preambles_and_nouns() {
        assert_eq!(
            names("Limit: 6req/30s. Search Mathlib for lemmas."),
            ["search"]
        );
        assert_eq!(names("Get the status of a DAG run."), ["get"]);
        assert_eq!(names("Does not modify anything."), Vec::<String>::new());
    }

    #[test]
    fn cross_references_and_examples_are_not_own_operations() {
        let own = own_text(
            "gets an item. to delete items, use `delete_item` instead. example: delete_item(id=1)"
                .into(),
        );
        assert!(!own.contains("delete"), "{own}");
        assert!(own.starts_with("gets an item."));
        let own = own_text("lists jobs (e.g. remove old ones with purge_jobs).".into());
        assert!(!own.contains("remove"), "{own}");
        let own = own_text("required step before creating or editing any function.".into());
        assert!(!own.contains("creating"), "{own}");
        assert_eq!(own_text("deletes the file.".into()), "deletes the file.");
        // Same length, so offsets into the original still hold.
        let t = "use `x_y` first. deletes ✓ (e.g. ünïcode)";
        assert_eq!(own_text(t.into()).len(), t.len());
        // A mask that would end inside a character blanks the whole character.
        let t = "lists x (e.g. ü) and ü (for example ü)ü";
        assert_eq!(own_text(t.into()).len(), t.len());
    }
}
