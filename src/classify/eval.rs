//! The labelled evaluation set (tests/fixtures/eval/*.json) and its scoring: how often the
//! classifier agrees with a person's judgement of access, class and risk.

use crate::classify::{Classifier, ServerContext};
use crate::model::{Access, Class, Classification, Risk, Tool};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;

/// One labelled tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub server: String,
    pub expect: Expected,
    /// Why the label is what it is, in one line.
    pub reason: String,
    /// The tool definition, as `tools/list` gives it.
    pub tool: serde_json::Value,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub access: Access,
    pub class: Class,
    pub risk: Risk,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[allow(dead_code)]
    source: String,
    cases: Vec<Case>,
}

/// Loads every `*.json` case file of a folder, in name order.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let file: CaseFile =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
        out.extend(file.cases);
    }
    Ok(out)
}

/// Agreement counts over a case set.
#[derive(Debug, Default)]
pub struct Score {
    pub cases: usize,
    pub access: usize,
    pub read_vs_not: usize,
    pub class: usize,
    pub risk: usize,
    pub risk_within_one: usize,
    /// Disagreements, one line each.
    pub misses: Vec<String>,
}

impl Score {
    pub fn rate(&self, n: usize) -> f64 {
        n as f64 / self.cases.max(1) as f64
    }

    pub fn summary(&self) -> String {
        format!(
            "{} cases: access {:.3}, read-vs-not {:.3}, class {:.3}, risk exact {:.3}, risk within one level {:.3}",
            self.cases,
            self.rate(self.access),
            self.rate(self.read_vs_not),
            self.rate(self.class),
            self.rate(self.risk),
            self.rate(self.risk_within_one)
        )
    }
}

fn risk_index(r: Risk) -> i32 {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) as i32
}

/// Classifies every case and counts agreement.
pub fn score(classifier: &Classifier, cases: &[Case]) -> Result<Score> {
    let mut s = Score::default();
    for case in cases {
        let tool = Tool::from_json(&case.tool)
            .map_err(|e| anyhow::anyhow!("case {} of {}: {e}", s.cases, case.server))?;
        let ctx = ServerContext {
            id: case.server.clone(),
            name: case.server.clone(),
            ..ServerContext::default()
        };
        let c: Classification = classifier.classify_tool(&ctx, &tool);
        let e = case.expect;
        s.cases += 1;
        let access_ok = c.access == e.access;
        let rvn_ok = (c.access == Access::Read) == (e.access == Access::Read);
        let class_ok = c.class == e.class;
        let risk_ok = c.risk == e.risk;
        let near = (risk_index(c.risk) - risk_index(e.risk)).abs() <= 1;
        s.access += access_ok as usize;
        s.read_vs_not += rvn_ok as usize;
        s.class += class_ok as usize;
        s.risk += risk_ok as usize;
        s.risk_within_one += near as usize;
        if !(access_ok && class_ok && near) {
            s.misses.push(format!(
                "{}/{}: expected {}/{}/{}, got {}/{}/{} ({})",
                case.server,
                tool.name,
                e.access,
                e.class,
                e.risk,
                c.access,
                c.class,
                c.risk,
                case.reason
            ));
        }
    }
    Ok(s)
}

// ------------------------------------------------------------------ authors' hints

/// Which half of a server split a server falls in: a fixed function of its id (the first
/// byte of its SHA-256), so the held-out servers are the same on every machine and run, and
/// nobody picks them. About a third of servers are held out.
pub fn held_out(server_id: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(server_id.as_bytes())[0] % 3 == 0
}

/// One tool with its author's hints, to compare with the classifier's verdict made with the
/// hints withheld.
#[derive(Debug, Clone)]
pub struct HintCase {
    pub server: String,
    pub tool: Tool,
}

/// Agreement with authors' hints: pooled over tools and as a mean over servers (a few big
/// servers dominate the pooled figure).
#[derive(Debug, Default, Clone)]
pub struct HintScore {
    pub servers: usize,
    /// Tools with a `readOnlyHint`, and how many the classifier agrees with.
    pub read_only_n: usize,
    pub read_only_agree: usize,
    /// Tools with `destructiveHint: true` (and not `readOnlyHint: true`), and how many are
    /// classed non-read.
    pub destructive_n: usize,
    pub destructive_ok: usize,
    /// Mean over servers of each server's agreement (servers with no such tool left out).
    pub read_only_server_mean: f64,
    pub destructive_server_mean: f64,
    /// With the hints given: tools marked `readOnlyHint: true` the classifier still classes
    /// non-read (it overrode the author).
    pub overrides_n: usize,
    pub overrides: usize,
    /// Disagreements, one line each.
    pub misses: Vec<String>,
}

fn ratio(a: usize, n: usize) -> f64 {
    a as f64 / n.max(1) as f64
}

impl HintScore {
    pub fn summary(&self) -> String {
        format!(
            "{} servers, {} tools with readOnlyHint: agreement pooled {:.4} / per-server mean {:.4}; \
             destructiveHint:true classed non-read {}/{} = {:.4} / per-server mean {:.4}; \
             readOnlyHint:true overridden with hints given {}/{} = {:.4}",
            self.servers,
            self.read_only_n,
            ratio(self.read_only_agree, self.read_only_n),
            self.read_only_server_mean,
            self.destructive_ok,
            self.destructive_n,
            ratio(self.destructive_ok, self.destructive_n),
            self.destructive_server_mean,
            self.overrides,
            self.overrides_n,
            ratio(self.overrides, self.overrides_n),
        )
    }

    pub fn read_only_rate(&self) -> f64 {
        ratio(self.read_only_agree, self.read_only_n)
    }

    pub fn destructive_rate(&self) -> f64 {
        ratio(self.destructive_ok, self.destructive_n)
    }
}

/// Classifies every case twice (hints withheld, then given) and compares with the hints.
pub fn score_hints(classifier: &Classifier, cases: &[HintCase]) -> HintScore {
    use std::collections::BTreeMap;
    let blind = classifier.clone().ignore_annotations(true);
    let seeing = classifier.clone().ignore_annotations(false);
    let mut s = HintScore::default();
    // server → (ro n, ro agree, de n, de ok)
    let mut per: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for case in cases {
        let ctx = ServerContext {
            id: case.server.clone(),
            name: case.server.clone(),
            ..ServerContext::default()
        };
        let ro = case.tool.hint("readOnlyHint");
        let de = case.tool.hint("destructiveHint") == Some(true) && ro != Some(true);
        if ro.is_none() && !de {
            continue;
        }
        let c = blind.classify_tool(&ctx, &case.tool);
        let read = c.access == Access::Read;
        let e = per.entry(case.server.as_str()).or_default();
        if let Some(ro) = ro {
            s.read_only_n += 1;
            e[0] += 1;
            if ro == read {
                s.read_only_agree += 1;
                e[1] += 1;
            } else {
                s.misses.push(format!(
                    "{}/{}: readOnlyHint={ro}, got {} [{}] {}",
                    case.server,
                    case.tool.name,
                    c.access,
                    c.evidence
                        .iter()
                        .map(|e| e.rule.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    crate::classify::tokens::truncate_at_char(
                        &case
                            .tool
                            .description
                            .clone()
                            .unwrap_or_default()
                            .replace('\n', " "),
                        140
                    )
                ));
            }
        }
        if de {
            s.destructive_n += 1;
            e[2] += 1;
            if !read {
                s.destructive_ok += 1;
                e[3] += 1;
            } else {
                s.misses.push(format!(
                    "{}/{}: destructiveHint=true, classed read",
                    case.server, case.tool.name
                ));
            }
        }
        if ro == Some(true) {
            s.overrides_n += 1;
            if seeing.classify_tool(&ctx, &case.tool).access != Access::Read {
                s.overrides += 1;
            }
        }
    }
    s.servers = per.len();
    let mean = |n: usize, a: usize| {
        let rates: Vec<f64> = per
            .values()
            .filter(|v| v[n] > 0)
            .map(|v| ratio(v[a], v[n]))
            .collect();
        rates.iter().sum::<f64>() / rates.len().max(1) as f64
    };
    s.read_only_server_mean = mean(0, 1);
    s.destructive_server_mean = mean(2, 3);
    s
}
