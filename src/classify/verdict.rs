//! The verdict: access and effects from the evaluation, then risk, policy, confidence,
//! evidence and a plain-English rationale.

use crate::classify::evaluation::{effect_idx, more_access, Evaluation, Hit, EFFECT_THRESHOLD};
use crate::classify::facts::{Facts, RECIPIENT_PARAMS};
use crate::classify::rules::{RuleSet, Signal};
use crate::classify::tokens;
use crate::model::*;

/// Decided access with the vote totals behind it.
pub struct Decision {
    pub access: Access,
    pub effects: Vec<Effect>,
    /// Access from evidence alone (annotations withheld), if any evidence voted.
    pub evidence_access: Option<Access>,
    pub evidence_strength: u16,
    pub evidence_margin: u16,
    /// The author's `readOnlyHint: true` was overruled by independent evidence.
    pub claim_overruled: bool,
    /// The author's `readOnlyHint: true` stood against one strong lexical signal.
    pub claim_doubted: bool,
    /// Nothing at all said what the tool does.
    pub no_evidence: bool,
    /// The description states the tool is read-only and nothing independent contradicts it:
    /// like a standing `readOnlyHint: true`, operation values do not raise it.
    pub read_only_stated: bool,
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

/// Whether a hit argues that the tool changes or runs something (or destroys).
fn argues_change(rules: &RuleSet, h: &Hit) -> bool {
    rules.rules[h.rule].signals.iter().any(|s| {
        matches!(
            s,
            Signal::Access(Access::Write | Access::Execute) | Signal::Effect(Effect::Destructive)
        )
    })
}

/// Evidence against an author's read-only claim: `(non-lexical, independent lexical
/// signals, strongest lexical weight)`. Non-lexical: what the schema offers (a destructive
/// value in an operation enum, a raw command / code / SQL parameter, an HTTP DELETE).
fn against_read_only(rules: &RuleSet, ev: &Evaluation) -> (bool, usize, u16) {
    let structural = ev.hits.iter().any(|h| {
        h.source == Source::Schema
            && rules.rules[h.rule].signals.iter().any(|s| {
                matches!(
                    s,
                    Signal::Access(Access::Execute) | Signal::Effect(Effect::Destructive)
                )
            })
    });
    // Independent: different rules, or one rule in the name and (with another word, since
    // a word said twice counts once) in the description.
    let mut ids: Vec<(usize, u8, u16)> = ev
        .hits
        .iter()
        .filter(|h| matches!(h.source, Source::Name | Source::Description))
        .filter(|h| argues_change(rules, h))
        .map(|h| (h.rule, (h.source == Source::Name) as u8, h.weight))
        .collect();
    ids.sort_unstable();
    ids.dedup_by_key(|k| (k.0, k.1));
    // Two hints of weight 1 are not two signals: together they must weigh 4 ("delete" and
    // "permanently" do; "remove" in two asides do not).
    let total: u16 = ids.iter().map(|k| k.2).sum();
    let independent = if total >= 4 {
        ids.len()
    } else {
        ids.len().min(1)
    };
    let strongest = ev
        .hits
        .iter()
        .filter(|h| matches!(h.source, Source::Name | Source::Description))
        .filter(|h| argues_change(rules, h))
        .map(|h| h.weight)
        .max()
        .unwrap_or(0);
    (structural, independent, strongest)
}

pub fn decide(rules: &RuleSet, ev: &Evaluation, f: &Facts<'_>) -> Decision {
    let destructive_weight: u16 = ev
        .hits
        .iter()
        .filter(|h| h.source != Source::Annotation)
        .filter(|h| {
            rules.rules[h.rule]
                .signals
                .contains(&Signal::Effect(Effect::Destructive))
        })
        .map(|h| h.weight)
        .sum();
    let evidence_destroys = destructive_weight >= EFFECT_THRESHOLD || ev.capability_destructive;
    let mut evidence_access = pick(ev.evidence_votes);
    // A tool can do the most a listed operation does, unless its text states that it is
    // read-only (the author's word about the whole tool).
    let states_read_only = ev.hits.iter().any(|h| {
        h.source == Source::Description
            && h.weight >= 5
            && rules.rules[h.rule].signals == [Signal::Access(Access::Read)]
    });
    if let Some(cap) = ev
        .capability
        .filter(|c| *c != Access::Read && !states_read_only)
    {
        evidence_access = Some(evidence_access.map_or(cap, |a| more_access(a, cap)));
    }
    if evidence_destroys && evidence_access.is_none_or(|a| a == Access::Read) {
        evidence_access = Some(Access::Write);
    }
    // The description's own statement that the tool is read-only weighs like the author's
    // `readOnlyHint: true`: it stands against a lone lexical signal ("Read-only. Lists update
    // and deletion events"), not against the schema or two independent signals.
    let read_only_stated = states_read_only
        && f.annotation("readOnlyHint").is_none()
        && pick(ev.evidence_votes) == Some(Access::Read)
        && {
            let (structural, lexical, _) = against_read_only(rules, ev);
            !structural && lexical < 2
        };
    if read_only_stated {
        evidence_access = Some(Access::Read);
    }
    let [r, w, x] = ev.evidence_votes;
    let claim = f.annotation("readOnlyHint");
    let (mut claim_overruled, mut claim_doubted) = (false, false);
    let access = match claim {
        Some(true) => {
            let (structural, lexical, strongest) = against_read_only(rules, ev);
            let changes = evidence_access.is_some_and(|a| a != Access::Read);
            if changes && (structural || lexical >= 2) {
                claim_overruled = true;
                evidence_access.unwrap_or(Access::Write)
            } else {
                claim_doubted = changes && strongest >= 3;
                Access::Read
            }
        }
        Some(false) => {
            if evidence_access == Some(Access::Execute) || (x >= w && x > 0) {
                Access::Execute
            } else {
                Access::Write
            }
        }
        None => evidence_access.unwrap_or(Access::Write),
    };
    let mut effects: Vec<Effect> = Effect::ALL
        .iter()
        .copied()
        .filter(|e| ev.effects[effect_idx(*e)] >= EFFECT_THRESHOLD)
        .collect();
    if ev.capability_destructive && !effects.contains(&Effect::Destructive) {
        effects.push(Effect::Destructive);
        effects.sort();
    }
    if access == Access::Read {
        effects.retain(|e| !WRITE_ONLY_EFFECTS.contains(e) && *e != Effect::Destructive);
    } else if !evidence_destroys && claim == Some(true) {
        effects.retain(|e| *e != Effect::Destructive);
    }
    if access == Access::Execute && !effects.contains(&Effect::Code) {
        // Running what the tool does not define is handling code.
        effects.push(Effect::Code);
        effects.sort();
    }
    let (strength, margin) = match evidence_access {
        Some(Access::Read) => (r, r.saturating_sub(w + x)),
        Some(_) => ((w + x).max(2), (w + x).saturating_sub(r).max(1)),
        None => (0, 0),
    };
    Decision {
        access,
        effects,
        evidence_access,
        evidence_strength: strength,
        evidence_margin: margin,
        claim_overruled,
        claim_doubted,
        no_evidence: evidence_access.is_none() && claim.is_none(),
        read_only_stated,
    }
}

/// Findings about the author's annotations that the evidence contradicts.
pub fn contradictions(
    rules: &RuleSet,
    f: &Facts<'_>,
    ev: &Evaluation,
    d: &Decision,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if f.annotations.is_none() {
        return out;
    }
    let destroys = d.effects.contains(&Effect::Destructive)
        || ev
            .hits
            .iter()
            .filter(|h| h.source != Source::Annotation)
            .filter(|h| {
                rules.rules[h.rule]
                    .signals
                    .contains(&Signal::Effect(Effect::Destructive))
            })
            .map(|h| h.weight)
            .sum::<u16>()
            >= EFFECT_THRESHOLD;
    if d.claim_overruled {
        out.push(Finding {
            kind: "annotation_contradiction".into(),
            severity: Severity::Warning,
            message: format!(
                "readOnlyHint is true, but {} (see the evidence); classed {} regardless",
                if destroys {
                    "the tool deletes or overwrites"
                } else {
                    "its schema or several independent signals say it changes state"
                },
                d.access
            ),
        });
    } else if d.claim_doubted {
        out.push(Finding {
            kind: "annotation_contradiction".into(),
            severity: Severity::Info,
            message: "readOnlyHint is true, but one strong signal in its name or description says it changes state; the author's claim stands, with low confidence".into(),
        });
    }
    if f.annotation("destructiveHint") == Some(false) && destroys {
        out.push(Finding {
            kind: "annotation_contradiction".into(),
            severity: Severity::Warning,
            message: "destructiveHint is false, but its name or description says it deletes or overwrites; classed destructive regardless".into(),
        });
    }
    out
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

/// Why a tool nothing describes needs approval.
pub const NO_EVIDENCE_REASON: &str =
    "nothing in its name, description or schema says what it does; review it before allowing it";

/// The recommended gateway rule.
pub fn policy_for(d: &Decision, risk: Risk, reasons: &[String], findings: &[Finding]) -> Policy {
    let access = d.access;
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
    if d.no_evidence {
        // The least-trusted verdict: nobody knows what it does.
        return Policy {
            action: Action::RequireApproval,
            rate_limit: None,
            reason: NO_EVIDENCE_REASON.to_string(),
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
    if contradiction || d.claim_overruled || d.claim_doubted || d.no_evidence {
        return Confidence::Low;
    }
    let claimed = f.annotation("readOnlyHint");
    match (claimed, d.evidence_access) {
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
        (None, None) => Confidence::Low,
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
        s.push_str(if quotes.len() == 1 {
            " says it "
        } else {
            " say it "
        });
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

/// Kinds of SQL statement by their first keyword, and what a statement of that kind does.
const SQL_STATEMENTS: &[(&str, Access, Class)] = &[
    ("SELECT", Access::Read, Class::Read),
    ("SHOW", Access::Read, Class::Read),
    ("EXPLAIN", Access::Read, Class::Read),
    ("INSERT", Access::Write, Class::Write),
    ("CREATE", Access::Write, Class::Write),
    ("UPDATE", Access::Write, Class::Destructive),
    ("DELETE", Access::Write, Class::Destructive),
    ("ALTER", Access::Write, Class::Destructive),
    ("DROP", Access::Write, Class::Destructive),
    ("TRUNCATE", Access::Write, Class::Destructive),
];

/// The verdict per value of each parameter that chooses the operation: an `action` /
/// `operation` / `mode` enum, an HTTP `method` enum, the choices a free-text `command` /
/// `action` parameter's description lists, and the statement kinds of free SQL text. A value
/// with no verb the rules know gets the tool's own (worst-case) verdict; a parameter none of
/// whose values has one is left out. SQL rows: see `sql_rows`.
pub fn per_argument(
    rules: &RuleSet,
    f: &Facts<'_>,
    ev: &Evaluation,
    tool_access: Access,
    tool_class: Class,
) -> Vec<ArgumentClass> {
    let mut out = Vec::new();
    for p in &f.op_params {
        let mut rows = Vec::with_capacity(p.values.len());
        let mut known = 0;
        for value in &p.values {
            let lower = value.to_ascii_lowercase();
            let meaning = if p.http {
                Some(match lower.as_str() {
                    "get" | "head" | "options" => (Access::Read, Class::Read),
                    "delete" => (Access::Write, Class::Destructive),
                    _ => (Access::Write, Class::Write),
                })
            } else {
                value_meaning(rules, &lower)
            };
            if meaning.is_some() {
                known += 1;
            }
            let (access, class) = meaning.unwrap_or((tool_access, tool_class));
            rows.push(ArgumentClass {
                param: p.name.clone(),
                value: value.clone(),
                access,
                class,
                kind: if p.described {
                    ArgumentKind::Described
                } else {
                    ArgumentKind::Enum
                },
            });
        }
        if known > 0 {
            out.extend(rows);
        }
    }
    out.extend(sql_rows(rules, f, ev, tool_access));
    out
}

/// The SQL statement kinds of a tool that runs free SQL: when a SQL rule (`exec.sql*`)
/// fired and no read-only statement did, one row per kind for the first free-text parameter
/// a SQL rule names (`sql`, `query`, …). A tool whose text promises read-only queries has one
/// operation, so it gets none.
fn sql_rows(rules: &RuleSet, f: &Facts<'_>, ev: &Evaluation, access: Access) -> Vec<ArgumentClass> {
    let fired = |is: &dyn Fn(&str) -> bool| ev.hits.iter().any(|h| is(&rules.rules[h.rule].id));
    let promises_read_only = |id: &str| matches!(id, "readonly.description" | "readonly.statement");
    if access == Access::Read
        || !fired(&|id| id.starts_with("exec.sql"))
        || fired(&promises_read_only)
    {
        return Vec::new();
    }
    let sql_params = |p: &str| {
        rules
            .rules
            .iter()
            .filter(|r| r.id.starts_with("exec.sql"))
            .any(|r| r.trigger.param.iter().any(|x| x == p))
    };
    let Some(param) = f
        .text_params
        .iter()
        .map(|&i| &f.params[i])
        .find(|(_, compact, _)| sql_params(compact))
        .map(|(name, _, _)| tokens::truncate_at_char(name, 64))
    else {
        return Vec::new();
    };
    SQL_STATEMENTS
        .iter()
        .map(|&(keyword, access, class)| ArgumentClass {
            param: param.to_string(),
            value: keyword.to_string(),
            access,
            class,
            kind: ArgumentKind::Sql,
        })
        .collect()
}

/// What one operation value (`delete_item`, `list`, `refund`) does, from its first verb.
fn value_meaning(rules: &RuleSet, value: &str) -> Option<(Access, Class)> {
    let words = tokens::split_identifier(value);
    let (at, verb, ids) = words.iter().enumerate().find_map(|(i, w)| {
        rules
            .verbs
            .get(w.as_str())
            .map(|(ids, _)| (i, w.as_str(), ids))
    })?;
    // The word sense depends on the object, as for a tool's name: a name rule that reads
    // with this verb and a later word (`start_cost_analysis`, `run_report`) decides.
    let reads_by_object = words[at + 1..].iter().any(|w| {
        rules.name_tokens.get(w.as_str()).is_some_and(|rs| {
            rs.iter().any(|&r| {
                let rule = &rules.rules[r];
                rule.signals == [Signal::Access(Access::Read)]
                    && rule
                        .requires
                        .as_ref()
                        .is_some_and(|c| c.verb.iter().any(|v| v == verb))
            })
        })
    });
    if reads_by_object {
        return Some((Access::Read, Class::Read));
    }
    let unconditional: Vec<usize> = ids
        .iter()
        .copied()
        .filter(|&i| rules.rules[i].requires.is_none() && rules.rules[i].unless.is_none())
        .collect();
    let (access, destructive) = crate::classify::evaluation::verb_meaning(rules, &unconditional);
    let access = access?;
    let financial = unconditional.iter().any(|&i| {
        rules.rules[i]
            .signals
            .contains(&Signal::Effect(Effect::Financial))
    });
    let mut effects = Vec::new();
    if destructive {
        effects.push(Effect::Destructive);
    }
    if financial {
        effects.push(Effect::Financial);
    }
    Some((access, Class::derive(access, &effects)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_steps_saturate() {
        assert_eq!(step(Risk::Low, 1), Risk::Medium);
        assert_eq!(step(Risk::High, 5), Risk::Critical);
    }
}
