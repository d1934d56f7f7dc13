//! SARIF 2.1.0 for GitHub code scanning: one run, a `rules` entry per result id and per
//! classifier rule (short and full description, help with the fix, `security-severity`), one
//! result per [`Item`] with its level, a logical location naming server and tool, a physical
//! location when a source file is known, stable `partialFingerprints`, and suppressed results
//! kept with a `suppressions` entry. What GitHub reads is listed in docs/ci.md.

use super::rules::{descriptor, fixed_ids};
use super::Item;
use crate::classify::rules::RuleSet;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// The schema URI written in `$schema` (the OASIS errata 01 schema).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The identity of a result across runs: server, tool and result id (not the line, so moving
/// code does not open a new alert).
pub fn fingerprint(item: &Item) -> String {
    let mut h = Sha256::new();
    for part in ["toolrisk/v1", &item.server, &item.tool, &item.rule_id] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

/// The SARIF log of these results. `rules` are the classifier's (listed for reference).
pub fn log(items: &[Item], rules: &RuleSet) -> Value {
    let mut ids: BTreeSet<String> = fixed_ids().into_iter().collect();
    ids.extend(items.iter().map(|i| i.rule_id.clone()));
    let mut ids: Vec<String> = ids.into_iter().collect();
    // The classifier's rules after toolrisk's own result ids.
    for r in &rules.rules {
        if !ids.contains(&r.id) {
            ids.push(r.id.clone());
        }
    }
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let descriptors: Vec<Value> = ids
        .iter()
        .map(|id| {
            let d = descriptor(id, rules);
            json!({
                "id": d.id,
                "name": d.name,
                "shortDescription": {"text": nonempty(&d.short, id)},
                "fullDescription": {"text": nonempty(&d.full, id)},
                "help": {"text": d.help, "markdown": d.help},
                "defaultConfiguration": {"level": d.level},
                "properties": {
                    "tags": ["security", "mcp"],
                    "precision": "medium",
                    "security-severity": d.security_severity,
                },
            })
        })
        .collect();

    let mut seen: HashMap<String, usize> = HashMap::new();
    let results: Vec<Value> = items
        .iter()
        .map(|it| {
            let fp = fingerprint(it);
            let n = seen.entry(fp.clone()).or_default();
            *n += 1;
            let mut location = Map::new();
            if let Some(l) = &it.location {
                location.insert(
                    "physicalLocation".into(),
                    json!({
                        "artifactLocation": {"uri": l.uri},
                        "region": {
                            "startLine": l.start_line,
                            "startColumn": l.start_column,
                            "endLine": l.end_line,
                            "endColumn": l.end_column.max(1),
                        }
                    }),
                );
            }
            location.insert(
                "logicalLocations".into(),
                json!([{
                    "name": it.tool,
                    "fullyQualifiedName": format!("{}/{}", it.server, it.tool),
                    "kind": "function",
                }]),
            );
            let mut r = json!({
                "ruleId": it.rule_id,
                "ruleIndex": index.get(it.rule_id.as_str()).copied().unwrap_or(0),
                "level": it.level.sarif(),
                "message": {"text": it.message},
                "locations": [Value::Object(location)],
                "partialFingerprints": {
                    "toolrisk/v1": fp,
                    "primaryLocationLineHash": format!("{}:{}", &fp[..16], n),
                },
                "properties": {"server": it.server, "tool": it.tool},
            });
            if let Some(reason) = &it.suppressed {
                r["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": reason,
                }]);
            }
            r
        })
        .collect();

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "toolrisk",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "invocations": [invocation()],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// The run's invocation: successful (results were produced), and the working directory
/// GitHub uses to turn absolute `file://` locations into repository paths.
fn invocation() -> Value {
    let mut v = json!({"executionSuccessful": true});
    if let Some(uri) = super::locate::working_directory_uri() {
        v["workingDirectory"] = json!({"uri": uri});
    }
    v
}

fn nonempty(s: &str, fallback: &str) -> String {
    if s.trim().is_empty() {
        fallback.to_string()
    } else {
        s.to_string()
    }
}
