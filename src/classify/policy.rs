//! Policy exports: the native policy file (DESIGN §5) and a Claude Code settings fragment,
//! built from classifications.

use crate::model::{Action, Classification};
use serde_json::{json, Map, Value};

/// The native rule for one tool: `{}` means allow.
pub fn native_rule(c: &Classification) -> Value {
    let mut rule = Map::new();
    match c.policy.action {
        Action::Allow => {}
        action => {
            rule.insert("action".into(), json!(action.as_str()));
        }
    }
    if let Some(rl) = c.policy.rate_limit {
        if c.policy.action == Action::RateLimit {
            rule.insert("action".into(), json!("allow"));
        }
        rule.insert(
            "rate_limit".into(),
            json!({"max": rl.max, "window": rl.window}),
        );
    }
    if c.policy.action != Action::Allow {
        rule.insert("reason".into(), json!(c.policy.reason));
    }
    Value::Object(rule)
}

/// The native policy file for a set of tools, default deny.
pub fn native_policy(classifications: &[Classification]) -> Value {
    let mut tools = Map::new();
    for c in classifications {
        tools.insert(c.name.clone(), native_rule(c));
    }
    json!({"version": "1", "default": "deny", "tools": Value::Object(tools)})
}

/// The name Claude Code gives a tool: `mcp__<server>__<tool>`.
pub fn claude_code_name(server_key: &str, tool: &str) -> String {
    format!("mcp__{server_key}__{tool}")
}

/// A Claude Code settings fragment: allow / ask / deny lists. Rate-limited tools are allowed
/// (Claude Code has no rate limits; the native policy carries them).
pub fn claude_code_settings(server_key: &str, classifications: &[Classification]) -> Value {
    let (mut allow, mut ask, mut deny) = (vec![], vec![], vec![]);
    for c in classifications {
        let name = claude_code_name(server_key, &c.name);
        match c.policy.action {
            Action::Allow | Action::RateLimit => allow.push(name),
            Action::RequireApproval => ask.push(name),
            Action::Deny => deny.push(name),
        }
    }
    json!({"permissions": {"allow": allow, "ask": ask, "deny": deny}})
}
