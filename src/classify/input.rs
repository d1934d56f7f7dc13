//! Reading a `tools/list` result as `check` accepts it: `{"tools":[…]}`, a bare array of
//! tools, or a JSON-RPC response whose `result` holds `tools`. Errors say what is wrong and
//! where (line and column for JSON syntax, the index of a tool without a name, …).

use crate::model::{json_kind, Tool};
use serde_json::Value;

/// Largest input read, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Parses a tool list; `source` (a file name or `<stdin>`) starts every error message.
pub fn parse_tool_list(source: &str, text: &str) -> Result<Vec<Tool>, String> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "{source}: input is {} bytes, over the {MAX_INPUT_BYTES}-byte limit",
            text.len()
        ));
    }
    if text.trim().is_empty() {
        return Err(format!(
            "{source}: input is empty; expected a tools/list result as JSON"
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{source}: line {} column {}: invalid JSON: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        )
    })?;
    let (tools, path) = locate_tools(source, &value)?;
    let mut out = Vec::with_capacity(tools.len());
    for (i, raw) in tools.iter().enumerate() {
        let tool = Tool::from_json(raw).map_err(|e| {
            let hint = raw
                .get("description")
                .and_then(Value::as_str)
                .map(|d| {
                    format!(
                        " (description starts “{}”)",
                        crate::classify::tokens::truncate_at_char(d, 40)
                    )
                })
                .unwrap_or_default();
            format!("{source}: {path}[{i}]: {e}{hint}")
        })?;
        out.push(tool);
    }
    Ok(out)
}

fn strip_position(msg: &str) -> &str {
    // serde_json appends " at line L column C", which the message already leads with.
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

fn locate_tools<'a>(source: &str, v: &'a Value) -> Result<(&'a Vec<Value>, &'static str), String> {
    match v {
        Value::Array(a) => Ok((a, "")),
        Value::Object(o) => {
            if let Some(t) = o.get("tools") {
                return t
                    .as_array()
                    .map(|a| (a, "tools"))
                    .ok_or_else(|| format!("{source}: `tools` is {}, expected an array", json_kind(t)));
            }
            if let Some(err) = o.get("error") {
                let msg = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)");
                return Err(format!(
                    "{source}: this is a JSON-RPC error response, not a tool list: {}",
                    crate::classify::tokens::truncate_at_char(msg, 200)
                ));
            }
            if let Some(result) = o.get("result") {
                return match result.get("tools") {
                    Some(Value::Array(a)) => Ok((a, "result.tools")),
                    Some(other) => Err(format!(
                        "{source}: `result.tools` is {}, expected an array",
                        json_kind(other)
                    )),
                    None => Err(format!(
                        "{source}: the JSON-RPC `result` has no `tools` (is this the response to tools/list?)"
                    )),
                };
            }
            let keys: Vec<&str> = o.keys().take(8).map(String::as_str).collect();
            Err(format!(
                "{source}: expected {{\"tools\":[…]}}, an array of tools, or a JSON-RPC response whose result holds tools; got an object with keys: {}",
                if keys.is_empty() { "(none)".to_string() } else { keys.join(", ") }
            ))
        }
        other => Err(format!(
            "{source}: expected {{\"tools\":[…]}}, an array of tools, or a JSON-RPC response; got {}",
            json_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_three_shapes() {
        let t = r#"{"name":"a","inputSchema":{"type":"object"}}"#;
        assert_eq!(parse_tool_list("x", &format!("[{t}]")).unwrap().len(), 1);
        assert_eq!(
            parse_tool_list("x", &format!(r#"{{"tools":[{t},{t}]}}"#))
                .unwrap()
                .len(),
            2
        );
        let rpc = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"tools":[{t}]}}}}"#);
        assert_eq!(parse_tool_list("x", &rpc).unwrap().len(), 1);
    }

    #[test]
    fn errors_say_where() {
        let e = parse_tool_list("f.json", "{\n  \"tools\": [\n    {\"name\": }\n]}").unwrap_err();
        assert!(e.starts_with("f.json: line 3 column"), "{e}");
        let e = parse_tool_list("f.json", r#"{"tools":[{"name":"a"},{"description":"b"}]}"#)
            .unwrap_err();
        assert!(e.contains("tools[1]") && e.contains("no `name`"), "{e}");
        let e = parse_tool_list(
            "f.json",
            r#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"}}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("JSON-RPC error") && e.contains("Method not found"),
            "{e}"
        );
        let e = parse_tool_list("f.json", r#"{"items":[]}"#).unwrap_err();
        assert!(e.contains("keys: items"), "{e}");
        assert!(parse_tool_list("f.json", "  ")
            .unwrap_err()
            .contains("empty"));
        assert!(parse_tool_list("f.json", "42")
            .unwrap_err()
            .contains("a number"));
    }
}
