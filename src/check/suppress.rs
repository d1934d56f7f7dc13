//! `toolrisk.toml`: a project's check settings and suppressions, each with a reason.
//!
//! ```toml
//! fail-on = "high"            # optional; `--fail-on` wins
//!
//! [[suppress]]
//! tool = "run_command"        # a tool name, or "*" for every tool
//! id = "risk"                 # a result id: risk, risk/<class>, finding/<kind>, lock/<change>,
//!                             # or a prefix of one (risk, finding, lock)
//! reason = "Runs only inside the CI container; the gateway requires approval."
//! ```
//!
//! Unknown keys are errors; an entry without a reason is an error naming the entry.

use crate::model::Risk;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::Path;

/// Largest toolrisk.toml read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    fail_on: Option<String>,
    #[serde(default)]
    suppress: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    tool: Option<String>,
    id: Option<String>,
    reason: Option<String>,
}

/// One suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub tool: String,
    pub id: String,
    pub reason: String,
}

/// A loaded toolrisk.toml (or none: the default is empty).
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub fail_on: Option<Risk>,
    pub entries: Vec<Entry>,
    /// Where it came from, for messages.
    pub source: String,
}

impl Suppressions {
    /// Parses toolrisk.toml text; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Suppressions> {
        let raw: RawFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
        let fail_on = match &raw.fail_on {
            Some(s) => Some(
                s.parse::<Risk>()
                    .map_err(|e| anyhow::anyhow!("{source}: fail-on: {e}"))?,
            ),
            None => None,
        };
        let mut entries = Vec::new();
        for (i, e) in raw.suppress.into_iter().enumerate() {
            let name = format!(
                "{source}: suppress[{i}]{}",
                match (&e.tool, &e.id) {
                    (Some(t), Some(id)) => format!(" (tool `{t}`, id `{id}`)"),
                    (Some(t), None) => format!(" (tool `{t}`)"),
                    (None, Some(id)) => format!(" (id `{id}`)"),
                    (None, None) => String::new(),
                }
            );
            let Some(tool) = e.tool.filter(|t| !t.trim().is_empty()) else {
                bail!("{name}: `tool` is missing (a tool name, or \"*\" for every tool)");
            };
            let Some(id) = e.id.filter(|t| !t.trim().is_empty()) else {
                bail!(
                    "{name}: `id` is missing (risk, risk/<class>, finding/<kind> or lock/<change>)"
                );
            };
            let prefix = id.split('/').next().unwrap_or_default();
            if !matches!(prefix, "risk" | "finding" | "lock") {
                bail!("{name}: unknown id `{id}`: expected risk, risk/<class>, finding/<kind> or lock/<change>");
            }
            let Some(reason) = e.reason.filter(|r| !r.trim().is_empty()) else {
                bail!("{name}: `reason` is missing: every suppression needs a reason");
            };
            entries.push(Entry { tool, id, reason });
        }
        Ok(Suppressions {
            fail_on,
            entries,
            source: source.to_string(),
        })
    }

    /// Reads a toolrisk.toml through `bounded`.
    pub fn load(path: &Path) -> Result<Suppressions> {
        let text = crate::bounded::read_text(path, MAX_CONFIG_BYTES)
            .with_context(|| "reading the check settings".to_string())?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The reason of the first entry that covers this tool's result, if any.
    pub fn reason_for(&self, tool: &str, rule_id: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.covers(tool, rule_id))
            .map(|e| e.reason.as_str())
    }

    /// Entries that covered none of these results (`tool`, `rule_id`) pairs: stale ones.
    pub fn unused<'a>(&'a self, used: &[(&str, &str)]) -> Vec<(usize, &'a Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !used.iter().any(|(t, r)| e.covers(t, r)))
            .collect()
    }
}

impl Entry {
    /// `id` equal to the result id, or its prefix up to a `/`; `tool` equal or `*`.
    pub fn covers(&self, tool: &str, rule_id: &str) -> bool {
        (self.tool == "*" || self.tool == tool)
            && (self.id == rule_id
                || rule_id
                    .strip_prefix(self.id.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_by_id_or_prefix() {
        let s = Suppressions::parse(
            "t.toml",
            "fail-on = \"high\"\n[[suppress]]\ntool = \"run\"\nid = \"risk\"\nreason = \"sandboxed\"\n[[suppress]]\ntool = \"*\"\nid = \"finding/schema_missing_type\"\nreason = \"legacy\"\n",
        )
        .unwrap();
        assert_eq!(s.fail_on, Some(Risk::High));
        assert_eq!(s.reason_for("run", "risk/execute"), Some("sandboxed"));
        assert_eq!(s.reason_for("other", "risk/execute"), None);
        assert_eq!(
            s.reason_for("x", "finding/schema_missing_type"),
            Some("legacy")
        );
        assert_eq!(s.reason_for("run", "riskier/x"), None);
    }

    #[test]
    fn missing_reason_names_the_entry() {
        let e = Suppressions::parse(
            "toolrisk.toml",
            "[[suppress]]\ntool = \"a\"\nid = \"risk\"\nreason = \"ok\"\n[[suppress]]\ntool = \"delete_all\"\nid = \"risk\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("suppress[1] (tool `delete_all`, id `risk`)")
                && e.contains("`reason` is missing"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_and_ids_are_errors() {
        let e = Suppressions::parse("t.toml", "fail_on = \"high\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fail_on"), "{e}");
        let e = Suppressions::parse(
            "t.toml",
            "[[suppress]]\ntool = \"a\"\nid = \"risk\"\nreason = \"r\"\nexpires = 1\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("expires"), "{e}");
        let e = Suppressions::parse(
            "t.toml",
            "[[suppress]]\ntool = \"a\"\nid = \"verb.delete\"\nreason = \"r\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown id `verb.delete`"), "{e}");
        let e = Suppressions::parse("t.toml", "fail-on = \"severe\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("fail-on"), "{e}");
    }
}
