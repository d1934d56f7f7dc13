//! Policy exports (DESIGN §5): the native policy file, and the same verdicts in the files real
//! clients and gateways read — Claude Code settings, Cursor's permissions.json, Codex's
//! config.toml, VS Code settings, Gemini CLI settings, Cedar for ToolHive, and an MCP
//! annotations overlay. One entry point, [`emit`] / [`emit_setup`], per [`Target`].
//!
//! Tool names come from servers and are hostile: every target quotes or escapes a name so it
//! matches only itself (issue 15.3). Where a target has no way to write a name exactly (a
//! `*` in a Claude Code rule is a wildcard), the tool is denied there by the strictest rule the
//! target can express, and a note says so.

mod annotations;
mod cedar;
mod claude_code;
mod codex;
mod cursor;
mod gemini;
mod native;
mod vscode;
pub mod write;

use crate::model::{Action, Classification};
use serde_json::Value;
use std::fmt;

pub use claude_code::{claude_code_name, claude_code_settings};
pub use native::{native_policy, native_rule};

/// A policy format toolrisk emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Target {
    /// toolrisk's own policy file: `{"version":"1","default":"deny","tools":{…}}`.
    Native,
    /// Claude Code `settings.json`: `permissions.allow` / `ask` / `deny`.
    ClaudeCode,
    /// Cursor `~/.cursor/permissions.json`: `mcpAllowlist`.
    Cursor,
    /// Codex `config.toml`: per-server `enabled_tools` / `disabled_tools` and approval modes.
    Codex,
    /// VS Code `settings.json`: `chat.tools.eligibleForAutoApproval`.
    Vscode,
    /// Gemini CLI `settings.json`: per-server `includeTools` / `excludeTools`.
    GeminiCli,
    /// Cedar policies for ToolHive's authorizer: `permit` / `forbid` on `call_tool`.
    Cedar,
    /// An overlay of corrected MCP annotations (`readOnlyHint`, …) per tool.
    Annotations,
}

impl Target {
    /// Every target, in a stable order.
    pub fn all() -> &'static [Target] {
        &[
            Target::Native,
            Target::ClaudeCode,
            Target::Cursor,
            Target::Codex,
            Target::Vscode,
            Target::GeminiCli,
            Target::Cedar,
            Target::Annotations,
        ]
    }

    /// The name on the command line and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Native => "native",
            Target::ClaudeCode => "claude-code",
            Target::Cursor => "cursor",
            Target::Codex => "codex",
            Target::Vscode => "vscode",
            Target::GeminiCli => "gemini-cli",
            Target::Cedar => "cedar",
            Target::Annotations => "annotations",
        }
    }

    /// Display name.
    pub fn title(self) -> &'static str {
        match self {
            Target::Native => "toolrisk native policy",
            Target::ClaudeCode => "Claude Code",
            Target::Cursor => "Cursor",
            Target::Codex => "Codex",
            Target::Vscode => "VS Code",
            Target::GeminiCli => "Gemini CLI",
            Target::Cedar => "Cedar (ToolHive)",
            Target::Annotations => "MCP annotations overlay",
        }
    }

    /// The file the output belongs in, for people.
    pub fn destination(self) -> &'static str {
        match self {
            Target::Native => "your gateway's policy file",
            Target::ClaudeCode => "~/.claude/settings.json or <project>/.claude/settings.json",
            Target::Cursor => "~/.cursor/permissions.json",
            Target::Codex => "~/.codex/config.toml",
            Target::Vscode => "VS Code user settings.json or <project>/.vscode/settings.json",
            Target::GeminiCli => "~/.gemini/settings.json or <project>/.gemini/settings.json",
            Target::Cedar => "the Cedar policies of ToolHive's authorization config",
            Target::Annotations => "your annotation-injecting proxy's overlay file",
        }
    }

    /// File extension of the output.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Codex => "toml",
            Target::Cedar => "cedar",
            _ => "json",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Target {
    type Err = crate::model::UnknownLabel;
    fn from_str(s: &str) -> Result<Target, Self::Err> {
        Target::all()
            .iter()
            .copied()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| crate::model::UnknownLabel {
                kind: "policy format",
                given: s.to_string(),
                expected: Target::all()
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// One server's verdicts, under the name the user's own config gives it.
#[derive(Debug, Clone, Copy)]
pub struct ServerPolicy<'a> {
    pub key: &'a str,
    pub tools: &'a [Classification],
}

/// An emitted policy: the file text, and what the target could not express.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emitted {
    /// The text, in the target's own format, ending in a newline.
    pub text: String,
    /// What the target cannot express and what was emitted instead; one line each.
    pub notes: Vec<String>,
    /// Tools whose names cannot be written exactly in this target: `(server, tool, what was
    /// done)`. Each one is also in `notes`.
    pub unsafe_names: Vec<(String, String)>,
}

impl Emitted {
    fn note(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !self.notes.contains(&s) {
            self.notes.push(s);
        }
    }

    fn unsafe_name(&mut self, server: &str, tool: &str, what: &str) {
        self.unsafe_names
            .push((server.to_string(), tool.to_string()));
        self.notes.push(format!(
            "server `{}`, tool `{}`: the name cannot be written exactly in this format; {what}",
            crate::classify::report::clean(server, 80),
            crate::classify::report::clean(tool, 80)
        ));
    }
}

/// Why a policy could not be emitted.
#[derive(Debug)]
pub enum EmitError {
    /// Two servers with the same key.
    DuplicateServer(String),
    /// A format's own serialiser failed.
    Serialise(String),
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::DuplicateServer(k) => write!(f, "server name `{k}` given twice"),
            EmitError::Serialise(e) => write!(f, "serialising the policy: {e}"),
        }
    }
}

impl std::error::Error for EmitError {}

/// The policy for one server in `target`'s format, the server named `server_key`.
pub fn emit(
    target: Target,
    server_key: &str,
    classifications: &[Classification],
) -> Result<Emitted, EmitError> {
    emit_setup(
        target,
        &[ServerPolicy {
            key: server_key,
            tools: classifications,
        }],
    )
}

/// The policy for a whole setup (several servers of one client) in `target`'s format.
pub fn emit_setup(target: Target, servers: &[ServerPolicy]) -> Result<Emitted, EmitError> {
    let mut seen = std::collections::BTreeSet::new();
    for s in servers {
        if !seen.insert(s.key) {
            return Err(EmitError::DuplicateServer(s.key.to_string()));
        }
    }
    let mut out = Emitted::default();
    match target {
        Target::Native => native::emit(servers, &mut out)?,
        Target::ClaudeCode => claude_code::emit(servers, &mut out)?,
        Target::Cursor => cursor::emit(servers, &mut out)?,
        Target::Codex => codex::emit(servers, &mut out)?,
        Target::Vscode => vscode::emit(servers, &mut out)?,
        Target::GeminiCli => gemini::emit(servers, &mut out)?,
        Target::Cedar => cedar::emit(servers, &mut out)?,
        Target::Annotations => annotations::emit(servers, &mut out)?,
    }
    Ok(out)
}

/// The three-way decision most client formats can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    Ask,
    Deny,
}

/// The decision for a tool in a format without rate limits: a rate limit becomes ask (a
/// person approves each call), as DESIGN §5 says — the stricter rule it can express.
fn decision(c: &Classification) -> Decision {
    match c.policy.action {
        Action::Allow => Decision::Allow,
        Action::RateLimit | Action::RequireApproval => Decision::Ask,
        Action::Deny => Decision::Deny,
    }
}

fn rate_limit_note(out: &mut Emitted, servers: &[ServerPolicy], format: &str) {
    let n = servers
        .iter()
        .flat_map(|s| s.tools.iter())
        .filter(|c| c.policy.action == Action::RateLimit)
        .count();
    if n > 0 {
        out.note(format!(
            "{n} rate-limited tool(s) become ask: {format} has no rate limits, so each call needs approval (the native and Cedar-behind-a-gateway policies keep the limit)"
        ));
    }
}

fn per_argument_note(out: &mut Emitted, servers: &[ServerPolicy], format: &str) {
    let n = servers
        .iter()
        .flat_map(|s| s.tools.iter())
        .filter(|c| read_only_values(c).is_some())
        .count();
    if n > 0 {
        out.note(format!(
            "{n} tool(s) have read-only operations chosen by an argument; {format} cannot look at arguments, so the tool's worst case applies (the native and Cedar policies allow the read-only values)"
        ));
    }
}

fn json_text(v: &Value) -> Result<String, EmitError> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| EmitError::Serialise(e.to_string()))
}

/// The values of the operation argument that only read, per parameter (first parameter wins
/// when a tool has several). Only exact values (an enum's, or the choices a description
/// lists) are allowed by value; SQL text never is, whatever its first word.
fn read_only_values(c: &Classification) -> Option<(String, Vec<String>)> {
    let exact = |a: &&crate::model::ArgumentClass| a.kind != crate::model::ArgumentKind::Sql;
    let first = c.per_argument.iter().find(exact)?;
    let values: Vec<String> = c
        .per_argument
        .iter()
        .filter(exact)
        .filter(|a| a.param == first.param && a.access == crate::model::Access::Read)
        .filter(|a| a.class == crate::model::Class::Read)
        .map(|a| a.value.clone())
        .collect();
    if values.is_empty() {
        None
    } else {
        Some((first.param.clone(), values))
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::model::*;

    /// A hand-built classification for emitter tests.
    pub fn cls(name: &str, action: Action) -> Classification {
        Classification {
            name: name.to_string(),
            access: Access::Read,
            effects: vec![],
            class: Class::Read,
            risk: Risk::Low,
            policy: Policy {
                action,
                rate_limit: (action == Action::RateLimit).then_some(RateLimit {
                    max: 10,
                    window: 60,
                }),
                reason: format!("{name} because"),
            },
            confidence: Confidence::High,
            rationale: String::new(),
            evidence: vec![],
            findings: vec![],
            per_argument: vec![],
        }
    }
}
