//! toolrisk's own policy file (DESIGN §5). Read by no client: it is the reference form the
//! other formats are derived from, and what a gateway author maps into their own rules.

use super::{json_text, read_only_values, EmitError, Emitted, ServerPolicy};
use crate::model::{Action, Classification};
use serde_json::{json, Map, Value};

/// The native rule for one tool: `{}` means allow. A tool whose operation is chosen by an
/// argument gets `"arguments": {"param": …, "allow": [read-only values]}`: those values are
/// allowed, every other value takes `action` (at least `require_approval`).
pub fn native_rule(c: &Classification) -> Value {
    let mut rule = Map::new();
    let mut action = c.policy.action;
    let by_argument = read_only_values(c);
    if by_argument.is_some() && matches!(action, Action::Allow | Action::RateLimit) {
        action = Action::RequireApproval;
    }
    match action {
        Action::Allow => {}
        Action::RateLimit => {
            rule.insert("action".into(), json!("allow"));
        }
        action => {
            rule.insert("action".into(), json!(action.as_str()));
        }
    }
    if let Some(rl) = c.policy.rate_limit {
        rule.insert(
            "rate_limit".into(),
            json!({"max": rl.max, "window": rl.window}),
        );
    }
    if action != Action::Allow {
        rule.insert("reason".into(), json!(c.policy.reason));
    }
    if let Some((param, values)) = by_argument {
        rule.insert("arguments".into(), json!({"param": param, "allow": values}));
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

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let v = if let [one] = servers {
        native_policy(one.tools)
    } else {
        let mut all = Map::new();
        for s in servers {
            all.insert(s.key.to_string(), native_policy(s.tools));
        }
        json!({"version": "1", "default": "deny", "servers": Value::Object(all)})
    };
    out.text = json_text(&v)?;
    Ok(())
}
