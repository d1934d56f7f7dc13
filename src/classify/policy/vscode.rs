//! VS Code `settings.json`: `chat.tools.eligibleForAutoApproval`, an object from a tool's full
//! reference name to `false` ("always ask, never auto-approve"). An MCP tool's full reference
//! name is `<server>/<tool>` (the server as named in mcp.json). Keys are looked up exactly, so
//! any name is written as itself. VS Code has no file-level deny: denied tools are asked for.

use super::{
    decision, json_text, per_argument_note, rate_limit_note, Decision, EmitError, Emitted,
    ServerPolicy,
};
use serde_json::{json, Map, Value};

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let mut m = Map::new();
    let mut denied = 0usize;
    for s in servers {
        for c in s.tools {
            let d = decision(c);
            if d == Decision::Deny {
                denied += 1;
            }
            if d != Decision::Allow {
                m.insert(format!("{}/{}", s.key, c.name), Value::Bool(false));
            }
        }
    }
    if denied > 0 {
        out.note(format!(
            "{denied} tool(s) to deny: VS Code settings cannot deny a tool, so they always ask; untick them in the chat tools picker"
        ));
    }
    out.note(
        "allowed tools are not listed: VS Code still asks until you approve them once".to_string(),
    );
    rate_limit_note(out, servers, "VS Code");
    per_argument_note(out, servers, "VS Code");
    out.text = json_text(&json!({ "chat.tools.eligibleForAutoApproval": Value::Object(m) }))?;
    Ok(())
}
