//! Gemini CLI `settings.json`: per server under `mcpServers.<name>`, `includeTools` (an
//! allow-list: tools added later stay off) and `excludeTools` (wins over include). Gemini CLI
//! asks before every call of a server without `"trust": true`, so "ask" and "allow" are both
//! included and `trust` is set to false.

use super::{
    decision, json_text, per_argument_note, rate_limit_note, Decision, EmitError, Emitted,
    ServerPolicy,
};
use serde_json::{json, Map, Value};

fn literal(name: &str) -> bool {
    !name.is_empty() && !name.contains(['(', ')']) && !name.chars().any(char::is_control)
}

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let mut all = Map::new();
    let mut allowed = 0usize;
    for s in servers {
        let (mut include, mut exclude) = (vec![], vec![]);
        for c in s.tools {
            if !literal(&c.name) {
                out.unsafe_name(
                    s.key,
                    &c.name,
                    "left out of includeTools, so it is not offered",
                );
                continue;
            }
            match decision(c) {
                Decision::Deny => exclude.push(c.name.clone()),
                Decision::Allow => {
                    allowed += 1;
                    include.push(c.name.clone())
                }
                Decision::Ask => include.push(c.name.clone()),
            }
        }
        all.insert(
            s.key.to_string(),
            json!({"includeTools": include, "excludeTools": exclude, "trust": false}),
        );
    }
    if allowed > 0 {
        out.note(format!("{allowed} tool(s) could run without asking, but Gemini CLI trusts per server, not per tool: with trust false every call asks"));
    }
    rate_limit_note(out, servers, "Gemini CLI");
    per_argument_note(out, servers, "Gemini CLI");
    out.text = json_text(&json!({ "mcpServers": Value::Object(all) }))?;
    Ok(())
}
