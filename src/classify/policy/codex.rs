//! Codex `config.toml`: under `[mcp_servers.<name>]`, `enabled_tools` (an allow-list: tools
//! added later stay off), `disabled_tools`, `default_tools_approval_mode = "prompt"`, and per
//! tool `[mcp_servers.<name>.tools.<tool>] approval_mode` — `"approve"` runs without asking,
//! `"prompt"` asks. TOML quotes any key, so every name is written exactly.

use super::{
    decision, per_argument_note, rate_limit_note, Decision, EmitError, Emitted, ServerPolicy,
};
use toml_edit::{value, Array, DocumentMut, Item, Table};

/// The `[mcp_servers.<key>]` table for one server's verdicts.
pub(crate) fn server_table(s: &ServerPolicy) -> Table {
    let mut enabled = Array::new();
    let mut disabled = Array::new();
    let mut tools = Table::new();
    tools.set_implicit(true);
    for c in s.tools {
        let mode = match decision(c) {
            Decision::Deny => {
                disabled.push(c.name.as_str());
                continue;
            }
            Decision::Allow => "approve",
            Decision::Ask => "prompt",
        };
        enabled.push(c.name.as_str());
        let mut t = Table::new();
        t.insert("approval_mode", value(mode));
        tools.insert(&c.name, Item::Table(t));
    }
    let mut server = Table::new();
    server.insert("enabled_tools", value(enabled));
    server.insert("disabled_tools", value(disabled));
    server.insert("default_tools_approval_mode", value("prompt"));
    if !tools.is_empty() {
        server.insert("tools", Item::Table(tools));
    }
    server
}

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let mut doc = DocumentMut::new();
    let mut all = Table::new();
    all.set_implicit(true);
    for s in servers {
        all.insert(s.key, Item::Table(server_table(s)));
    }
    doc.insert("mcp_servers", Item::Table(all));
    rate_limit_note(out, servers, "Codex");
    per_argument_note(out, servers, "Codex");
    out.note("merge into the existing [mcp_servers.<name>] tables of ~/.codex/config.toml (scan --write does, keeping comments)".to_string());
    out.text = doc.to_string();
    Ok(())
}
