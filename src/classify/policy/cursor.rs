//! Cursor `~/.cursor/permissions.json`: `mcpAllowlist`, entries `server:tool` that run without
//! approval (`*` is a wildcard). Cursor has no file-level deny or ask for MCP tools: a tool
//! left out of the allowlist asks for approval, which is the strictest rule the file holds.

use super::{
    decision, json_text, per_argument_note, rate_limit_note, Decision, EmitError, Emitted,
    ServerPolicy,
};
use serde_json::json;

fn literal(name: &str) -> bool {
    !name.is_empty() && !name.contains(['*', ':', '?']) && !name.chars().any(char::is_control)
}

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let mut allow = vec![];
    let mut denied = 0usize;
    for s in servers {
        if !literal(s.key) {
            out.note(format!(
                "server `{}`: the name cannot be written exactly in an allowlist entry; none of its tools are allowed (each call asks)",
                crate::classify::report::clean(s.key, 80)
            ));
            continue;
        }
        for c in s.tools {
            let d = decision(c);
            if !literal(&c.name) {
                out.unsafe_name(
                    s.key,
                    &c.name,
                    "left out of the allowlist, so each call asks",
                );
                continue;
            }
            match d {
                Decision::Allow => allow.push(format!("{}:{}", s.key, c.name)),
                Decision::Deny => denied += 1,
                Decision::Ask => {}
            }
        }
    }
    if denied > 0 {
        out.note(format!(
            "{denied} tool(s) to deny: Cursor cannot deny a tool from a file, so they are left to ask; switch them off in Cursor's MCP settings"
        ));
    }
    rate_limit_note(out, servers, "Cursor");
    per_argument_note(out, servers, "Cursor");
    out.note("when mcpAllowlist is set it replaces Cursor's in-app allowlist; --write merges it with the entries already in the file".to_string());
    out.text = json_text(&json!({ "mcpAllowlist": allow }))?;
    Ok(())
}
