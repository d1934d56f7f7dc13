//! Printing a scan: a table for people, JSON, and SARIF 2.1.0 for code-scanning tools. Every
//! string from a config or a server is escaped for the terminal; no secret value is ever part
//! of a report (the report types do not hold them).

use super::{Report, SetupFinding};
use crate::classify::report::clean;
use crate::model::{Action, Severity};
use serde_json::json;
use std::fmt::Write;

fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        format!("{s} ")
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

fn location(f: &SetupFinding) -> String {
    match f.line {
        Some(l) => format!("{}:{l}", clean(&f.file.display().to_string(), 200)),
        None => clean(&f.file.display().to_string(), 200),
    }
}

/// The report as text.
pub fn table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Config files ({})", r.files.len());
    for f in &r.files {
        let status = match f.status {
            "read" => format!("{} server(s)", f.servers),
            other => other.to_string(),
        };
        let _ = writeln!(
            out,
            "  {}{}{}{}",
            pad(f.client.as_str(), 15),
            pad(f.scope, 9),
            pad(&clean(&f.path.display().to_string(), 200), 48),
            status
        );
    }
    let _ = writeln!(out, "\nServers ({})", r.servers.len());
    if !r.servers.is_empty() {
        let _ = writeln!(
            out,
            "  {}{}{}{}TOOLS",
            pad("CLIENT", 15),
            pad("NAME", 20),
            pad("RUNS", 46),
            pad("CATALOGUE", 28)
        );
    }
    for s in &r.servers {
        let cat = match &s.catalogue {
            Some(m) => format!("{} (by {})", clean(&m.slug, 60), m.by),
            None => "-".into(),
        };
        let tools = if s.tools_from == "unknown" {
            "unknown".to_string()
        } else {
            let count = |a: Action| s.tools.iter().filter(|c| c.policy.action == a).count();
            format!(
                "{} ({} allow, {} limit, {} ask, {} deny){}",
                s.tools.len(),
                count(Action::Allow),
                count(Action::RateLimit),
                count(Action::RequireApproval),
                count(Action::Deny),
                if s.tools_from == "catalogue" {
                    String::new()
                } else {
                    format!(" [{}]", s.tools_from)
                }
            )
        };
        let name = if s.disabled {
            format!("{} (off)", clean(&s.name, 40))
        } else {
            clean(&s.name, 40)
        };
        let _ = writeln!(
            out,
            "  {}{}{}{}{}",
            pad(s.client.as_str(), 15),
            pad(&name, 20),
            pad(&clean(&s.identity, 44), 46),
            pad(&cat, 28),
            tools
        );
    }
    let _ = writeln!(out, "\nFindings ({})", r.findings.len());
    let mut sorted: Vec<&SetupFinding> = r.findings.iter().collect();
    sorted.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.kind.cmp(&b.kind)));
    for f in sorted {
        let who = match (&f.client, &f.server) {
            (Some(c), Some(s)) => format!("{c}/{}", clean(s, 60)),
            (Some(c), None) => c.to_string(),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}{}{} {}\n      {}",
            pad(f.severity.as_str(), 9),
            pad(&f.kind, 19),
            location(f),
            who,
            clean(&f.message, 1000)
        );
    }
    out
}

/// The report as JSON.
pub fn json(r: &Report) -> serde_json::Result<String> {
    serde_json::to_string_pretty(r).map(|s| s + "\n")
}

/// The findings as a SARIF 2.1.0 log.
pub fn sarif(r: &Report) -> serde_json::Result<String> {
    let mut kinds: Vec<&str> = r.findings.iter().map(|f| f.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    let rules: Vec<serde_json::Value> = kinds
        .iter()
        .map(|k| json!({"id": k, "shortDescription": {"text": k.replace('_', " ")}}))
        .collect();
    let results: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Critical => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            let mut region = serde_json::Map::new();
            if let Some(l) = f.line {
                region.insert("startLine".into(), json!(l));
            }
            let mut loc = json!({"artifactLocation": {"uri": f.file.display().to_string()}});
            if !region.is_empty() {
                loc["region"] = serde_json::Value::Object(region);
            }
            let text = match &f.server {
                Some(s) => format!("{}: {}", s, f.message),
                None => f.message.clone(),
            };
            json!({
                "ruleId": f.kind,
                "level": level,
                "message": {"text": text},
                "locations": [{"physicalLocation": loc}],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "toolrisk",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&log).map(|s| s + "\n")
}
