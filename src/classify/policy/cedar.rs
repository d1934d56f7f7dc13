//! Cedar policies in the shape ToolHive's authorizer evaluates: the principal is the client,
//! the action `Action::"call_tool"` and the resource `Tool::"<name>"`; tool arguments are in
//! the context as `arg_<name>`. ToolHive denies what no policy permits, and a `forbid` wins
//! over any `permit`.
//!
//! Names are written as Cedar string literals with every quote, backslash, control and
//! non-ASCII character escaped, so `Tool::"…"` names exactly one tool (`==` never globs).

use super::{read_only_values, EmitError, Emitted, ServerPolicy};
use crate::model::Action;
use std::fmt::Write;

/// A Cedar string literal (with its quotes) for any text.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

pub(super) fn emit(servers: &[ServerPolicy], out: &mut Emitted) -> Result<(), EmitError> {
    let mut text = String::from(
        "// toolrisk policy for ToolHive's Cedar authorizer: what no policy permits is denied.\n",
    );
    let (mut asks, mut limits) = (0usize, 0usize);
    for s in servers {
        let _ = writeln!(text, "\n// server {}", string_literal(s.key));
        for c in s.tools {
            let tool = string_literal(&c.name);
            let id = string_literal(&format!("{}/{}", s.key, c.name));
            let head =
                format!("(principal, action == Action::\"call_tool\", resource == Tool::{tool})");
            if let Some((param, values)) = read_only_values(c) {
                if c.policy.action != Action::Deny {
                    let set: Vec<String> = values.iter().map(|v| string_literal(v)).collect();
                    let attr = string_literal(&format!("arg_{param}"));
                    let _ = writeln!(
                        text,
                        "// read-only values of {} are permitted; other values are not\n@id({id})\npermit {head}\nwhen {{ context has {attr} && [{}].contains(context[{attr}]) }};",
                        string_literal(&param),
                        set.join(", ")
                    );
                    continue;
                }
            }
            match c.policy.action {
                Action::Allow => {
                    let _ = writeln!(text, "@id({id})\npermit {head};");
                }
                Action::Deny => {
                    let _ = writeln!(text, "@id({id})\nforbid {head};");
                }
                Action::RequireApproval => {
                    asks += 1;
                    let _ = writeln!(
                        text,
                        "// {tool}: needs approval; Cedar cannot ask, so it is not permitted"
                    );
                }
                Action::RateLimit => {
                    limits += 1;
                    let _ = writeln!(
                        text,
                        "// {tool}: rate-limited; Cedar has no rate limits, so it is not permitted"
                    );
                }
            }
        }
    }
    if asks > 0 {
        out.note(format!("{asks} tool(s) need approval: Cedar only permits or forbids, so they are not permitted (put a human-approval step in front to use them)"));
    }
    if limits > 0 {
        out.note(format!("{limits} rate-limited tool(s) are not permitted: Cedar has no rate limits; permit them only behind a gateway rate limit"));
    }
    if servers.len() > 1 {
        out.note("one section per server: each goes into that server's own ToolHive authorization config".to_string());
    }
    out.text = text;
    Ok(())
}
