//! `toolrisk.lock`: pinned tool definitions of one server. YAML, tools sorted by name, object
//! keys sorted, so a reviewed change is a readable diff. Per tool: the `sha256:` hash of the
//! whole definition (the crawler's `definition_hash`), the class, risk and policy it had, and
//! the definition itself (so a later check can say what changed, word by word).
//!
//! `check --baseline` and `scan` compare a server against it with [`diff`]:
//!
//! ```no_run
//! # use toolrisk::check::lock::{self, Lock};
//! # fn f(server: &toolrisk::model::Server, classifier: &toolrisk::classify::Classifier) -> anyhow::Result<()> {
//! let locked = Lock::load(std::path::Path::new("toolrisk.lock"))?;
//! let now = Lock::from_tools(&server.name, &server.tools, &classifier.classify_server(server));
//! for change in lock::diff(&locked, &now) {
//!     println!("{}", change.render());
//! }
//! # Ok(()) }
//! ```

use super::diff::{json_paths, words, PathChange};
use crate::classify::report::clean;
use crate::model::{Classification, Risk, Tool};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Largest lock file read.
pub const MAX_LOCK_BYTES: u64 = 64 * 1024 * 1024;
/// The format version written.
pub const VERSION: u32 = 1;

/// A lock file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    /// The server's name, as given to `check --server` / derived from the command.
    #[serde(default)]
    pub server: String,
    /// By tool name.
    pub tools: BTreeMap<String, LockedTool>,
}

/// One pinned tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedTool {
    /// `sha256:` of the canonical JSON of the definition.
    pub hash: String,
    pub class: String,
    pub risk: String,
    pub policy: String,
    /// The definition as the server sent it (keys sorted).
    pub definition: Value,
}

impl Lock {
    /// The lock of a tool list and its classifications (same order). A duplicated name keeps
    /// its first definition.
    pub fn from_tools(server: &str, tools: &[Tool], results: &[Classification]) -> Lock {
        let mut map = BTreeMap::new();
        for (t, c) in tools.iter().zip(results) {
            map.entry(t.name.clone()).or_insert_with(|| LockedTool {
                hash: t.definition_hash(),
                class: super::class_label(c),
                risk: c.risk.as_str().to_string(),
                policy: c.policy.action.as_str().to_string(),
                definition: sorted(&t.to_json()),
            });
        }
        Lock {
            version: VERSION,
            server: server.to_string(),
            tools: map,
        }
    }

    /// The YAML text, with a header saying what the file is.
    pub fn to_yaml(&self) -> Result<String> {
        let body = serde_yaml::to_string(self).context("writing the lock as YAML")?;
        Ok(format!(
            "# toolrisk.lock: the tool definitions of {} as reviewed, pinned by `toolrisk lock`.\n# `toolrisk check --baseline` fails when they change. Regenerate after reviewing a change.\n{body}",
            if self.server.is_empty() {
                "this server".to_string()
            } else {
                format!("`{}`", clean(&self.server, 200))
            }
        ))
    }

    /// Parses lock text; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Lock> {
        crate::bounded::check_yaml_depth(text, 256)
            .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        let lock: Lock = serde_yaml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{source}: {}", crate::catalogue::yaml_error(&e)))?;
        if lock.version != VERSION {
            bail!("{source}: lock version {} is not supported (this toolrisk writes version {VERSION})", lock.version);
        }
        for (name, t) in &lock.tools {
            if t.risk.parse::<Risk>().is_err() {
                bail!(
                    "{source}: tool `{}`: unknown risk `{}`",
                    clean(name, 100),
                    clean(&t.risk, 40)
                );
            }
        }
        Ok(lock)
    }

    /// Reads a lock file through `bounded`.
    pub fn load(path: &Path) -> Result<Lock> {
        let text =
            crate::bounded::read_text(path, MAX_LOCK_BYTES).context("reading the lock file")?;
        Self::parse(&path.display().to_string(), &text)
    }
}

/// Object keys sorted at every level (the lock stays stable whatever order a server sends).
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// What kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    /// The definition hash differs.
    Changed,
    /// Same definition, higher risk.
    RiskRose,
    /// Same definition, risk not higher, class or policy differ (reported, not failing).
    Reclassified,
}

impl ChangeKind {
    pub fn rule_id(self) -> &'static str {
        match self {
            ChangeKind::Added => "lock/added",
            ChangeKind::Removed => "lock/removed",
            ChangeKind::Changed => "lock/changed",
            ChangeKind::RiskRose => "lock/risk_rose",
            ChangeKind::Reclassified => "lock/reclassified",
        }
    }

    /// Fails `check --baseline`.
    pub fn fails(self) -> bool {
        !matches!(self, ChangeKind::Reclassified)
    }
}

/// One tool's change against the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub tool: String,
    pub kind: ChangeKind,
    /// Word diff of the description, when it changed.
    pub description: Option<String>,
    /// Changed paths outside the description: `inputSchema…`, `outputSchema…`,
    /// `annotations…`, `title`, other fields.
    pub paths: Vec<PathChange>,
    pub hash: (Option<String>, Option<String>),
    pub risk: (Option<String>, Option<String>),
    pub class: (Option<String>, Option<String>),
    pub policy: (Option<String>, Option<String>),
}

impl Change {
    /// Several lines of plain text (escaped): what changed.
    pub fn render(&self) -> String {
        let name = clean(&self.tool, 200);
        let mut out = match self.kind {
            ChangeKind::Added => format!(
                "tool `{name}` was added since the lock ({} risk, {})",
                opt(&self.risk.1),
                opt(&self.class.1)
            ),
            ChangeKind::Removed => format!("tool `{name}` was removed since the lock"),
            ChangeKind::Changed => format!(
                "tool `{name}`: definition changed since the lock ({} → {})",
                short_hash(&self.hash.0),
                short_hash(&self.hash.1)
            ),
            ChangeKind::RiskRose => format!(
                "tool `{name}`: risk rose from {} to {} (the definition is unchanged)",
                opt(&self.risk.0),
                opt(&self.risk.1)
            ),
            ChangeKind::Reclassified => {
                format!("tool `{name}`: classification changed (the definition is unchanged)")
            }
        };
        if let Some(d) = &self.description {
            out.push_str(&format!("\n  description: {d}"));
        }
        for p in &self.paths {
            out.push_str(&format!("\n  {}", p.render()));
        }
        if matches!(self.kind, ChangeKind::Changed | ChangeKind::Reclassified) {
            for (what, (a, b)) in [
                ("risk", &self.risk),
                ("class", &self.class),
                ("policy", &self.policy),
            ] {
                if a != b {
                    out.push_str(&format!("\n  {what}: {} → {}", opt(a), opt(b)));
                }
            }
        }
        out
    }
}

fn opt(s: &Option<String>) -> String {
    s.as_deref()
        .map(|s| clean(s, 60))
        .unwrap_or_else(|| "-".into())
}

fn short_hash(s: &Option<String>) -> String {
    let s = s.as_deref().unwrap_or("-");
    crate::text::truncate_at_char(s, 19).to_string()
}

/// The changes from `old` (the lock) to `new` (the server now), sorted by tool name.
pub fn diff(old: &Lock, new: &Lock) -> Vec<Change> {
    let mut names: Vec<&String> = old.tools.keys().chain(new.tools.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (a, b) = (old.tools.get(name), new.tools.get(name));
        let pair =
            |f: fn(&LockedTool) -> &String| (a.map(|t| f(t).clone()), b.map(|t| f(t).clone()));
        let mut ch = Change {
            tool: name.clone(),
            kind: ChangeKind::Changed,
            description: None,
            paths: Vec::new(),
            hash: pair(|t| &t.hash),
            risk: pair(|t| &t.risk),
            class: pair(|t| &t.class),
            policy: pair(|t| &t.policy),
        };
        match (a, b) {
            (None, Some(_)) => ch.kind = ChangeKind::Added,
            (Some(_), None) => ch.kind = ChangeKind::Removed,
            (Some(a), Some(b)) => {
                if a.hash != b.hash || a.definition != b.definition {
                    let (da, db) = (
                        a.definition.get("description"),
                        b.definition.get("description"),
                    );
                    if da != db {
                        ch.description = Some(words(
                            da.and_then(Value::as_str).unwrap_or(""),
                            db.and_then(Value::as_str).unwrap_or(""),
                        ));
                    }
                    let strip = |v: &Value| {
                        let mut v = v.clone();
                        if let Some(m) = v.as_object_mut() {
                            m.remove("description");
                        }
                        v
                    };
                    json_paths(
                        "",
                        Some(&strip(&a.definition)),
                        Some(&strip(&b.definition)),
                        &mut ch.paths,
                    );
                } else if rank(&b.risk) > rank(&a.risk) {
                    ch.kind = ChangeKind::RiskRose;
                } else if !a.class.eq_ignore_ascii_case(&b.class)
                    || a.policy != b.policy
                    || a.risk != b.risk
                {
                    ch.kind = ChangeKind::Reclassified;
                } else {
                    continue;
                }
            }
            (None, None) => continue,
        }
        out.push(ch);
    }
    out
}

fn rank(r: &str) -> Option<Risk> {
    r.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{Classifier, ServerContext};
    use serde_json::json;

    fn lock_of(tools: &[Value]) -> Lock {
        let tools: Vec<Tool> = tools.iter().map(|t| Tool::from_json(t).unwrap()).collect();
        let ctx = ServerContext::default();
        let results = Classifier::builtin().classify_tools(&ctx, &tools);
        Lock::from_tools("demo", &tools, &results)
    }

    #[test]
    fn yaml_round_trips_and_is_sorted() {
        let l = lock_of(&[
            json!({"name":"b_tool","inputSchema":{"type":"object","properties":{"z":{"type":"string"},"a":{"type":"string"}}}}),
            json!({"name":"a_tool","description":"Get the time.\nSecond line."}),
        ]);
        let y = l.to_yaml().unwrap();
        assert!(
            y.find("a_tool:").unwrap() < y.find("b_tool:").unwrap(),
            "{y}"
        );
        let back = Lock::parse("t.lock", &y).unwrap();
        assert_eq!(back, l);
        assert!(diff(&back, &l).is_empty());
    }

    #[test]
    fn unknown_keys_and_versions_are_refused() {
        let e = Lock::parse("t.lock", "version: 1\ntools: {}\nextra: 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.lock") && e.contains("extra"), "{e}");
        let e = Lock::parse("t.lock", "version: 9\ntools: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("lock version 9"), "{e}");
    }
}
