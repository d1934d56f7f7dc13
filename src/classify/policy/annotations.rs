//! An overlay of the MCP tool annotations toolrisk infers, for proxies that inject corrected
//! hints: clients' plan and auto-approve modes key off `readOnlyHint` and `destructiveHint`.
//! `idempotentHint` is written only where it is known (a read-only tool is idempotent).

use super::{json_text, EmitError, Emitted, ServerPolicy};
use crate::model::{Access, Classification, Effect};
use serde_json::{json, Map, Value};

/// The inferred hints for one tool.
pub fn hints(c: &Classification) -> Value {
    let read_only = c.access == Access::Read
        && !c.effects.iter().any(|e| {
            matches!(
                e,
                Effect::Destructive | Effect::Financial | Effect::Send | Effect::Admin
            )
        });
    let mut m = Map::new();
    m.insert("readOnlyHint".into(), json!(read_only));
    if !read_only {
        m.insert(
            "destructiveHint".into(),
            json!(c.effects.contains(&Effect::Destructive)),
        );
    }
    m.insert(
        "openWorldHint".into(),
        json!(c
            .effects
            .iter()
            .any(|e| matches!(e, Effect::Network | Effect::Send | Effect::UntrustedInput))),
    );
    if read_only {
        m.insert("idempotentHint".into(), json!(true));
    }
    Value::Object(m)
}

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let mut all = Map::new();
    for s in servers {
        let mut tools = Map::new();
        for c in s.tools {
            tools.insert(c.name.clone(), hints(c));
        }
        all.insert(s.key.to_string(), Value::Object(tools));
    }
    out.note(
        "hints only: a client decides what to do with them; a policy is what enforces".to_string(),
    );
    out.text = json_text(&json!({"version": "1", "servers": Value::Object(all)}))?;
    Ok(())
}
