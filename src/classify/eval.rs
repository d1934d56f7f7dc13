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
