//! Human overrides (`catalogue/overrides.yaml`): a reviewer's verdict on one tool, with the
//! reason. Overrides win over every rule and show in the evidence as `source: override`.

use crate::model::{Access, Action, Effect, RateLimit, Risk};
use anyhow::{bail, Result};
use serde::Deserialize;
use std::path::Path;

/// The overrides file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridesFile {
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// One reviewer's verdict. Unset fields keep the rules' answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Server id, slug or name; `*` for every server.
    pub server: String,
    /// The tool's exact name.
    pub tool: String,
    /// Why: shown on the tool's page and in `show`. Required.
    pub reason: String,
    #[serde(default)]
    pub access: Option<Access>,
    /// Replaces the effects.
    #[serde(default)]
    pub effects: Option<Vec<Effect>>,
    #[serde(default)]
    pub risk: Option<Risk>,
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
}

/// Loaded overrides.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub list: Vec<Override>,
}

impl Overrides {
    /// Parses overrides YAML; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Overrides> {
        if text.trim().is_empty() {
            return Ok(Overrides::default());
        }
        let file: OverridesFile = serde_yaml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{source}: {}",
                crate::catalogue::yaml_error(&e).trim_end_matches('.')
            )
        })?;
        for (i, o) in file.overrides.iter().enumerate() {
            if o.reason.trim().is_empty() {
                bail!(
                    "{source}: override {} ({}/{}) has an empty `reason`: say why the rules are wrong",
                    i + 1,
                    o.server,
                    o.tool
                );
            }
            if o.rate_limit.is_some() && o.action.is_some_and(|a| a != Action::RateLimit) {
                bail!(
                    "{source}: override {} ({}/{}) sets `rate_limit` with action `{}`; use action rate_limit",
                    i + 1,
                    o.server,
                    o.tool,
                    o.action.map(|a| a.as_str()).unwrap_or_default()
                );
            }
        }
        Ok(Overrides {
            list: file.overrides,
        })
    }

    /// Loads a file; a missing file means no overrides.
    pub fn load(path: &Path) -> Result<Overrides> {
        // Bounded: a FIFO, a device or a huge file is refused, never read whole.
        match crate::bounded::read_text(path, crate::catalogue::MAX_FILE_BYTES) {
            Ok(text) => {
                let source = path.display().to_string();
                crate::bounded::check_yaml_depth(&text, crate::bounded::MAX_YAML_DEPTH)
                    .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
                Self::parse(&source, &text)
            }
            Err(e) if e.is_not_found() => Ok(Overrides::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// The override for a tool of a server known by any of `keys` (id, slug, name).
    pub fn find(&self, keys: &[&str], tool: &str) -> Option<&Override> {
        self.list
            .iter()
            .find(|o| o.tool == tool && (o.server == "*" || keys.contains(&o.server.as_str())))
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
