//! Reading a `tools/list` result as `check` accepts it: `{"tools":[…]}`, a bare array of
//! tools, or a JSON-RPC response whose `result` holds `tools`. Errors say what is wrong and
//! where (line and column for JSON syntax, the index of a tool without a name, …).

use crate::model::{json_kind, Tool, ToolJsonError};
use serde_json::Value;

/// Largest input read, in bytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Why an input is not a tool list. Every message starts with the input's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolListError {
    /// Over [`MAX_INPUT_BYTES`].
    TooLarge { input: String, bytes: usize },
    /// Nothing but blanks.
    Empty { input: String },
    /// Not JSON: where and why.
    Syntax {
        input: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but not one of the accepted shapes (or a JSON-RPC error answer).
    Shape { input: String, message: String },
    /// One entry of the list is not a tool (`path` is `tools`, `result.tools` or empty).
    Tool {
        input: String,
        path: &'static str,
        index: usize,
        error: ToolJsonError,
        /// ` (description starts “…”)`, to find the entry, or empty.
        hint: String,
    },
}

impl std::fmt::Display for ToolListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolListError::TooLarge { input, bytes } => write!(
                f,
                "{input}: input is {bytes} bytes, over the {MAX_INPUT_BYTES}-byte limit"
            ),
            ToolListError::Empty { input } => write!(
                f,
                "{input}: input is empty; expected a tools/list result as JSON"
            ),
            ToolListError::Syntax {
                input,
                line,
                column,
                message,
            } => write!(
                f,
                "{input}: line {line} column {column}: invalid JSON: {message}"
            ),
            ToolListError::Shape { input, message } => write!(f, "{input}: {message}"),
            ToolListError::Tool {
                input,
                path,
                index,
                error,
                hint,
            } => write!(f, "{input}: {path}[{index}]: {error}{hint}"),
        }
    }
}

impl std::error::Error for ToolListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ToolListError::Tool { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Parses a tool list; `source` (a file name or `<stdin>`) starts every error message.
pub fn parse_tool_list(source: &str, text: &str) -> Result<Vec<Tool>, ToolListError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ToolListError::TooLarge {
            input: source.to_string(),
            bytes: text.len(),
        });
    }
    if text.trim().is_empty() {
        return Err(ToolListError::Empty {
            input: source.to_string(),
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| ToolListError::Syntax {
        input: source.to_string(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()).to_string(),
    })?;
    let (tools, path) = locate_tools(source, &value)?;
    let mut out = Vec::with_capacity(tools.len());
    for (index, raw) in tools.iter().enumerate() {
        let tool = Tool::from_json(raw).map_err(|error| ToolListError::Tool {
            input: source.to_string(),
            path,
            index,
            error,
            hint: raw
                .get("description")
                .and_then(Value::as_str)
                .map(|d| {
                    format!(
                        " (description starts “{}”)",
                        crate::classify::tokens::truncate_at_char(d, 40)
                    )
                })
                .unwrap_or_default(),
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

/// The tools array and where it was, or what the value is instead (the message of a
/// [`ToolListError::Shape`]).
fn locate_tools<'a>(
    input: &str,
    v: &'a Value,
) -> Result<(&'a Vec<Value>, &'static str), ToolListError> {
    let shape = |message: String| ToolListError::Shape {
        input: input.to_string(),
        message,
    };
    match v {
        Value::Array(a) => Ok((a, "")),
        Value::Object(o) => {
            if let Some(t) = o.get("tools") {
                return t.as_array().map(|a| (a, "tools")).ok_or_else(|| {
                    shape(format!("`tools` is {}, expected an array", json_kind(t)))
                });
            }
            if let Some(err) = o.get("error") {
                let msg = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)");
                return Err(shape(format!(
                    "this is a JSON-RPC error response, not a tool list: {}",
                    crate::classify::tokens::truncate_at_char(msg, 200)
                )));
            }
            if let Some(result) = o.get("result") {
                return match result.get("tools") {
                    Some(Value::Array(a)) => Ok((a, "result.tools")),
                    Some(other) => Err(shape(format!(
                        "`result.tools` is {}, expected an array",
                        json_kind(other)
                    ))),
                    None => Err(shape(
                        "the JSON-RPC `result` has no `tools` (is this the response to tools/list?)"
                            .to_string(),
                    )),
                };
            }
            let keys: Vec<&str> = o.keys().take(8).map(String::as_str).collect();
            Err(shape(format!(
                "expected {{\"tools\":[…]}}, an array of tools, or a JSON-RPC response whose result holds tools; got an object with keys: {}",
                if keys.is_empty() { "(none)".to_string() } else { keys.join(", ") }
            )))
        }
        other => Err(shape(format!(
            "expected {{\"tools\":[…]}}, an array of tools, or a JSON-RPC response; got {}",
            json_kind(other)
        ))),
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
        let e = parse_tool_list("f.json", "{\n  \"tools\": [\n    {\"name\": }\n]}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.json: line 3 column"), "{e}");
        let e = parse_tool_list("f.json", r#"{"tools":[{"name":"a"},{"description":"b"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tools[1]") && e.contains("no `name`"), "{e}");
        let e = parse_tool_list(
            "f.json",
            r#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("JSON-RPC error") && e.contains("Method not found"),
            "{e}"
        );
        let e = parse_tool_list("f.json", r#"{"items":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("keys: items"), "{e}");
        assert_eq!(
            parse_tool_list("f.json", "  "),
            Err(ToolListError::Empty {
                input: "f.json".into()
            })
        );
        assert!(parse_tool_list("f.json", "42")
            .unwrap_err()
            .to_string()
            .contains("a number"));
        assert!(matches!(
            parse_tool_list("f.json", r#"[{"name":1}]"#),
            Err(ToolListError::Tool {
                index: 0,
                error: ToolJsonError::NameNotAString(_),
                ..
            })
        ));
    }
}
