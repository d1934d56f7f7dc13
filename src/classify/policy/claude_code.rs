//! Claude Code `settings.json` permissions (`permissions.allow` / `ask` / `deny`), with MCP
//! tools written `mcp__<server>__<tool>` and the server named as in the user's own config.
//!
//! In a rule, `*` in the tool part is a wildcard (`mcp__github__get_*`) and parentheses
//! start a specifier, so a tool name is written as-is only when it is made of ASCII letters,
//! digits, `_` and `-`. Any other name is denied with a pattern that replaces each other
//! character by `*`: it matches the tool (and perhaps a few others: stricter, never looser).

use super::{
    decision, json_text, per_argument_note, rate_limit_note, Decision, EmitError, Emitted,
    ServerPolicy,
};
use crate::model::Classification;
use serde_json::{json, Value};

/// The name Claude Code gives a tool: `mcp__<server>__<tool>`.
pub fn claude_code_name(server_key: &str, tool: &str) -> String {
    format!("mcp__{server_key}__{tool}")
}

/// Whether Claude Code reads `name` literally in a permission rule.
pub(super) fn literal_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The server part as Claude Code writes it: characters outside `[A-Za-z0-9_-]` become `_`.
fn server_part(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn wildcard_pattern(name: &str) -> String {
    let p: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '*'
            }
        })
        .collect();
    if p.is_empty() {
        "*".into()
    } else {
        p
    }
}

struct Lists {
    allow: Vec<String>,
    ask: Vec<String>,
    deny: Vec<String>,
}

fn lists(servers: &[ServerPolicy], out: Option<&mut Emitted>) -> Lists {
    let mut l = Lists {
        allow: vec![],
        ask: vec![],
        deny: vec![],
    };
    let mut notes: Vec<(String, String)> = vec![];
    for s in servers {
        let server = server_part(s.key);
        for c in s.tools {
            if !literal_name(&c.name) {
                let rule = claude_code_name(&server, &wildcard_pattern(&c.name));
                if !l.deny.contains(&rule) {
                    l.deny.push(rule);
                }
                notes.push((s.key.to_string(), c.name.clone()));
                continue;
            }
            let rule = claude_code_name(&server, &c.name);
            match decision(c) {
                Decision::Allow => l.allow.push(rule),
                Decision::Ask => l.ask.push(rule),
                Decision::Deny => l.deny.push(rule),
            }
        }
    }
    if let Some(out) = out {
        for s in servers {
            if server_part(s.key) != s.key {
                out.note(format!(
                    "server `{}` is written `{}`: Claude Code keeps only letters, digits, `_` and `-` in rule names",
                    crate::classify::report::clean(s.key, 80),
                    server_part(s.key)
                ));
            }
        }
        for (server, tool) in notes {
            out.unsafe_name(
                &server,
                &tool,
                "denied with a wildcard pattern that matches it (and may match other tools of the server)",
            );
        }
    }
    l
}

/// A Claude Code settings fragment: allow / ask / deny lists. Rate-limited tools are asked
/// for (Claude Code has no rate limits); names that would be patterns are denied.
pub fn claude_code_settings(server_key: &str, classifications: &[Classification]) -> Value {
    let l = lists(
        &[ServerPolicy {
            key: server_key,
            tools: classifications,
        }],
        None,
    );
    json!({"permissions": {"allow": l.allow, "ask": l.ask, "deny": l.deny}})
}

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let l = lists(servers, Some(out));
    rate_limit_note(out, servers, "Claude Code");
    per_argument_note(out, servers, "Claude Code");
    out.note(
        "tools not listed (added to a server later) get Claude Code's default: it asks".to_string(),
    );
    out.text =
        json_text(&json!({"permissions": {"allow": l.allow, "ask": l.ask, "deny": l.deny}}))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::policy::testing::cls;
    use crate::model::Action;

    #[test]
    fn tool_named_star_is_denied_not_allowed() {
        let v = claude_code_settings(
            "srv",
            &[cls("*", Action::Allow), cls("get_*", Action::Allow)],
        );
        assert_eq!(v["permissions"]["allow"], json!([]));
        assert_eq!(
            v["permissions"]["deny"],
            json!(["mcp__srv__*", "mcp__srv__get_*"])
        );
    }
}
