//! The rule-based classifier: (tool, server context, rules, overrides) → `Classification`.
//! Pure and deterministic: no network, same answer every run. The rules are data
//! (`rules.yaml`, embedded; extended with `--rules FILE`), the engine is `facts.rs` (what a tool says), `evaluation.rs` (the rules fired
//! on it) and `verdict.rs` (access, effects, risk, policy, confidence, rationale).

pub mod clauses;
pub mod eval;
pub mod evaluation;
pub mod facts;
pub mod findings;
pub mod input;
pub mod overrides;
pub mod policy;
pub mod report;
pub mod rules;
pub mod tokens;
pub mod verdict;

use crate::model::*;
use anyhow::{Context, Result};
use facts::{Facts, ServerFacts};
use overrides::{Override, Overrides};
use rules::{RuleDef, RuleSet};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// What the classifier knows of the server a tool belongs to.
#[derive(Debug, Clone, Default)]
pub struct ServerContext {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The catalogue slug, when known (overrides may name the server by it).
    pub slug: String,
}

impl ServerContext {
    pub fn of(server: &Server) -> ServerContext {
        ServerContext {
            id: server.id.clone(),
            name: server.name.clone(),
            description: server.description.clone(),
            slug: server.slug.clone(),
        }
    }

    fn facts(&self) -> ServerFacts {
        let mut text = String::new();
        for part in [
            self.id.as_str(),
            self.name.as_str(),
            self.description.as_deref().unwrap_or(""),
        ] {
            text.push_str(tokens::truncate_at_char(part, 2048));
            text.push('\n');
        }
        ServerFacts {
            text: text.to_ascii_lowercase(),
        }
    }
}

/// A loaded rule set plus overrides.
#[derive(Debug, Clone)]
pub struct Classifier {
    rules: Arc<RuleSet>,
    overrides: Arc<Overrides>,
    use_annotations: bool,
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier::builtin()
    }
}

impl Classifier {
    /// The built-in rules, no overrides.
    pub fn builtin() -> Classifier {
        static BUILTIN: std::sync::OnceLock<Arc<RuleSet>> = std::sync::OnceLock::new();
        let rules = BUILTIN
            .get_or_init(|| {
                // The embedded rules are checked by the test suite.
                Arc::new(
                    RuleSet::compile(RuleSet::builtin_defs())
                        .expect("the built-in rules.yaml compiles (checked by the tests)"),
                )
            })
            .clone();
        Classifier {
            rules,
            overrides: Arc::new(Overrides::default()),
            use_annotations: true,
        }
    }

    /// Built-in rules merged with a user's rules YAML (`source` names it in errors).
    pub fn with_rules_yaml(source: &str, text: &str) -> Result<Classifier> {
        let user = RuleSet::parse(source, text)?;
        let defs = RuleSet::merge(RuleSet::builtin_defs(), user)
            .with_context(|| format!("merging {source}"))?;
        Self::from_defs(defs).with_context(|| format!("compiling {source}"))
    }

    /// Built-in rules merged with a user's rules file (`--rules FILE`).
    pub fn with_rules_file(path: &Path) -> Result<Classifier> {
        let text = crate::bounded::read_text(path, crate::catalogue::MAX_FILE_BYTES)
            .context("reading the rules file")?;
        crate::bounded::check_yaml_depth(&text, crate::bounded::MAX_YAML_DEPTH)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Self::with_rules_yaml(&path.display().to_string(), &text)
    }

    /// Exactly these rule definitions.
    pub fn from_defs(defs: Vec<RuleDef>) -> Result<Classifier> {
        Ok(Classifier {
            rules: Arc::new(RuleSet::compile(defs)?),
            ..Classifier::builtin()
        })
    }

    /// Adds human overrides.
    pub fn with_overrides(mut self, overrides: Overrides) -> Classifier {
        self.overrides = Arc::new(overrides);
        self
    }

    /// The one way a catalogue becomes a classifier, for every command and the site: the
    /// built-in rules, merged with `rules_file` when given (`--rules`), plus the catalogue's
    /// reviewed `overrides.yaml` when it exists.
    pub fn for_catalogue(catalogue_dir: &Path, rules_file: Option<&Path>) -> Result<Classifier> {
        let base = match rules_file {
            Some(path) => Classifier::with_rules_file(path)?,
            None => Classifier::builtin(),
        };
        base.with_catalogue_overrides(catalogue_dir)
            .with_context(|| format!("loading {}", catalogue_dir.join("overrides.yaml").display()))
    }

    /// Loads `<catalogue>/overrides.yaml` if it exists.
    pub fn with_catalogue_overrides(self, catalogue_dir: &Path) -> Result<Classifier> {
        let o = Overrides::load(&catalogue_dir.join("overrides.yaml"))?;
        Ok(self.with_overrides(o))
    }

    /// Withholds annotations: classify on name, description and schema alone (what
    /// `check --ignore-annotations` and the evaluation against authors' hints use).
    pub fn ignore_annotations(mut self, ignore: bool) -> Classifier {
        self.use_annotations = !ignore;
        self
    }

    /// The compiled rules (for listing and documentation).
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Classifies every tool of a server.
    pub fn classify_server(&self, server: &Server) -> Vec<Classification> {
        self.classify_tools(&ServerContext::of(server), &server.tools)
    }

    /// Classifies a tool list (duplicate names are a finding on each duplicate).
    pub fn classify_tools(&self, ctx: &ServerContext, tools: &[Tool]) -> Vec<Classification> {
        let sf = ctx.facts();
        let mut counts: HashMap<&str, usize> = HashMap::with_capacity(tools.len());
        for t in tools {
            *counts.entry(t.name.as_str()).or_default() += 1;
        }
        tools
            .iter()
            .map(|t| {
                let mut c = self.guarded(ctx, &sf, t);
                let n = counts.get(t.name.as_str()).copied().unwrap_or(1);
                if n > 1 {
                    c.findings.push(findings::duplicate_name(&t.name, n));
                }
                c
            })
            .collect()
    }

    /// Classifies one tool.
    pub fn classify_tool(&self, ctx: &ServerContext, tool: &Tool) -> Classification {
        self.guarded(ctx, &ctx.facts(), tool)
    }

    /// Classifies one tool so that a bug the tool's text triggers in the engine costs that
    /// tool, not the build, crawl or query that asked: the tool gets the most careful answer
    /// (execute, critical, deny, low confidence) and a finding that names the failure.
    fn guarded(&self, ctx: &ServerContext, sf: &ServerFacts, tool: &Tool) -> Classification {
        let run = std::panic::AssertUnwindSafe(|| self.classify_with(ctx, sf, tool));
        match std::panic::catch_unwind(run) {
            Ok(c) => c,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown error".to_string());
                let reason =
                    "the classifier failed on this definition; review it by hand".to_string();
                Classification {
                    name: tool.name.clone(),
                    access: Access::Execute,
                    effects: vec![],
                    class: Class::Execute,
                    risk: Risk::Critical,
                    policy: Policy {
                        action: Action::Deny,
                        rate_limit: None,
                        reason: reason.clone(),
                    },
                    confidence: Confidence::Low,
                    rationale: format!("Not classified: {reason}."),
                    evidence: vec![],
                    per_argument: Vec::new(),
                    findings: vec![Finding {
                        kind: "classifier_error".into(),
                        severity: Severity::Critical,
                        message: format!(
                            "the classifier failed on `{}` of `{}`: {what}",
                            tool.name, ctx.id
                        ),
                    }],
                }
            }
        }
    }

    fn classify_with(&self, ctx: &ServerContext, sf: &ServerFacts, tool: &Tool) -> Classification {
        let rules = &*self.rules;
        let facts = Facts::new(rules, tool, sf, self.use_annotations);
        let ev = evaluation::evaluate(rules, &facts);
        let mut decision = verdict::decide(rules, &ev, &facts);
        let mut findings = findings::tool_findings(tool);
        let found = verdict::contradictions(rules, &facts, &ev, &decision);
        let contradiction = found.iter().any(|f| f.severity >= Severity::Warning);
        findings.extend(found);

        let ov = if self.overrides.is_empty() {
            None
        } else {
            let keys = [ctx.id.as_str(), ctx.slug.as_str(), ctx.name.as_str()];
            self.overrides.find(&keys, &tool.name)
        };
        if ov.is_some() {
            decision.no_evidence = false;
        } else if decision.no_evidence {
            findings.push(findings::no_evidence(tool));
        }
        if let Some(o) = ov {
            if let Some(a) = o.access {
                decision.access = a;
            }
            if let Some(e) = &o.effects {
                let mut e = e.clone();
                e.sort();
                e.dedup();
                decision.effects = e;
            }
        }

        // Operations chosen by an argument: the tool can do the worst of them.
        let provisional = Class::derive(decision.access, &decision.effects);
        let per_argument = verdict::per_argument(rules, &facts, &ev, decision.access, provisional);
        let claim_stands =
            facts.annotation("readOnlyHint") == Some(true) && !decision.claim_overruled;
        if ov.is_none() && !claim_stands && !decision.read_only_stated {
            // SQL rows inform: the tool-level verdict of free SQL comes from its text.
            for a in per_argument.iter().filter(|a| a.kind != ArgumentKind::Sql) {
                decision.access = evaluation::more_access(decision.access, a.access);
                let implied = match a.class {
                    Class::Destructive => Some(Effect::Destructive),
                    Class::Financial => Some(Effect::Financial),
                    _ => None,
                };
                if let Some(e) = implied {
                    if !decision.effects.contains(&e) {
                        decision.effects.push(e);
                        decision.effects.sort();
                    }
                }
            }
        }
        let class = Class::derive(decision.access, &decision.effects);
        let (mut risk, mut reasons) = verdict::grade(&decision, &ev, &facts, &findings);
        let mut evidence = verdict::evidence(rules, &ev);
        let mut confidence = verdict::confidence(&decision, &facts, contradiction);
        let mut policy;
        let mut rationale;
        match ov {
            Some(o) => {
                if let Some(r) = o.risk {
                    risk = r;
                    reasons = vec![o.reason.clone()];
                }
                policy = verdict::policy_for(&decision, risk, &reasons, &findings);
                apply_override_policy(&mut policy, o);
                confidence = Confidence::High;
                evidence.insert(0, override_evidence(o));
                rationale = verdict::rationale(rules, &ev, &decision, class, risk, &reasons);
                rationale = format!("Overridden by a reviewer: {} {rationale}", o.reason.trim());
            }
            None => {
                policy = verdict::policy_for(&decision, risk, &reasons, &findings);
                rationale = verdict::rationale(rules, &ev, &decision, class, risk, &reasons);
            }
        }
        Classification {
            name: tool.name.clone(),
            access: decision.access,
            effects: decision.effects,
            class,
            risk,
            policy,
            confidence,
            rationale,
            evidence,
            findings,
            per_argument,
        }
    }
}

fn apply_override_policy(policy: &mut Policy, o: &Override) {
    if let Some(a) = o.action {
        policy.action = a;
        policy.rate_limit = None;
        policy.reason = o.reason.clone();
    }
    if let Some(rl) = o.rate_limit {
        policy.action = Action::RateLimit;
        policy.rate_limit = Some(rl);
        policy.reason = o.reason.clone();
    }
    if policy.action == Action::RateLimit && policy.rate_limit.is_none() {
        policy.rate_limit = Some(RateLimit {
            max: 20,
            window: 60,
        });
    }
}

fn override_evidence(o: &Override) -> Evidence {
    let mut signal = Vec::new();
    if let Some(a) = o.access {
        signal.push(format!("access:{a}"));
    }
    if let Some(e) = &o.effects {
        signal.push(format!(
            "effects:[{}]",
            e.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(",")
        ));
    }
    if let Some(r) = o.risk {
        signal.push(format!("risk:{r}"));
    }
    if let Some(a) = o.action {
        signal.push(format!("policy:{a}"));
    }
    Evidence {
        rule: "override".into(),
        signal: signal.join(" "),
        source: Source::Override,
        text: o.reason.clone(),
    }
}
