//! The verdict: access and effects from the evaluation, then risk, policy, confidence,
//! evidence and a plain-English rationale.

use crate::classify::evaluation::{effect_idx, Evaluation, Hit, EFFECT_THRESHOLD};
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
    fn risk_steps_saturate() {
        assert_eq!(step(Risk::Low, 1), Risk::Medium);
        assert_eq!(step(Risk::High, 5), Risk::Critical);
    }
}
