//! Attack patterns that abuse MCP tools (`data/attacks.yaml`, embedded), and which of them
//! apply to a classified tool.

use crate::model::{Access, Classification, Effect};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

const BUILTIN: &str = include_str!("../../data/attacks.yaml");

/// When a pattern applies to a tool.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppliesTo {
    /// Applies to every tool: the definition itself is the attack surface.
    pub all: bool,
    /// Applies when the tool's access is one of these.
    pub access: Vec<Access>,
    /// Applies when the tool has any of these effects.
    pub effects: Vec<Effect>,
}

/// One attack pattern.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attack {
    /// URL-safe id (`/attacks/<id>/`).
    pub id: String,
    pub title: String,
    pub summary: String,
    /// The gateway rule or habit that blunts it.
    pub defence: String,
    pub applies_to: AppliesTo,
    #[serde(default)]
    pub references: Vec<String>,
}

impl Attack {
    pub fn applies(&self, c: &Classification) -> bool {
        self.applies_to(c.access, |e| c.effects.contains(&e))
    }

    /// `applies`, from an access and a test for each effect.
    pub fn applies_to(&self, access: Access, has: impl Fn(Effect) -> bool) -> bool {
        let a = &self.applies_to;
        a.all || a.access.contains(&access) || a.effects.iter().any(|e| has(*e))
    }
}

/// The built-in patterns.
pub fn builtin() -> Result<Vec<Attack>> {
    let list: Vec<Attack> =
        serde_yaml::from_str(BUILTIN).context("data/attacks.yaml (built in) is invalid")?;
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_patterns_load_with_unique_slug_ids() {
        let list = builtin().unwrap();
        assert!(list.len() >= 10);
        let mut ids: Vec<&str> = list.iter().map(|a| a.id.as_str()).collect();
        for id in &ids {
            assert_eq!(crate::slug::slugify(id), *id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), list.len());
        assert!(list
            .iter()
            .all(|a| a.references.iter().all(|r| r.starts_with("https://"))));
    }
}
