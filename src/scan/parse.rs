//! Reading a config file with a real parser of its syntax — serde_json for strict JSON,
//! jsonc-parser where the client allows comments, toml_edit for TOML — into server entries.
//! A broken file becomes one finding with its path and line; a broken entry becomes a finding
//! and the other entries are still read.

use super::{
    Client, ConfigFile, ConfiguredServer, Launch, Layout, SetupFinding, Syntax, ToolFilter,
};
use crate::model::Severity;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// Largest config file read (`~/.claude.json` keeps per-project history and grows large).
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;
/// Deepest nesting accepted before parsing.
pub const MAX_DEPTH: usize = 64;

/// The entries of one file, and the problems found in it.
#[derive(Debug, Default)]
pub struct Parsed {
    pub servers: Vec<ConfiguredServer>,
    pub findings: Vec<SetupFinding>,
}

fn finding(
    f: &ConfigFile,
    kind: &str,
    severity: Severity,
    line: Option<usize>,
    server: Option<&str>,
    message: String,
) -> SetupFinding {
    SetupFinding {
        kind: kind.into(),
        severity,
        file: f.path.clone(),
        line,
        client: Some(f.client),
        server: server.map(str::to_string),
        message,
    }
}

/// Reads and parses one config file.
pub fn read(f: &ConfigFile) -> Result<Parsed, Box<SetupFinding>> {
    let err = |line, message| {
        Box::new(finding(
            f,
            "config_error",
            Severity::Warning,
            line,
            None,
            message,
        ))
    };
    let text = crate::bounded::read_text(&f.path, MAX_CONFIG_BYTES).map_err(|e| {
        err(
            None,
            format!("cannot read: {}", strip_path(&e.to_string(), &f.path)),
        )
    })?;
    match f.syntax {
        Syntax::Toml => read_toml(f, &text),
        Syntax::Json | Syntax::Jsonc => {
            if let Some(line) = too_deep(&text) {
                return Err(err(
                    Some(line),
                    format!("nested deeper than {MAX_DEPTH} levels; refused"),
                ));
            }
            let value: Value = if f.syntax == Syntax::Json {
                serde_json::from_str(&text).map_err(|e| {
                    err(
                        Some(e.line()),
                        format!("invalid JSON: {}", without_position(&e.to_string())),
                    )
                })?
            } else {
                jsonc_parser::parse_to_serde_value::<Option<Value>>(&text, &jsonc_options())
                    .map_err(|e| {
                        err(
                            Some(e.line_display()),
                            format!("invalid JSON with comments: {}", e.kind()),
                        )
                    })?
                    .unwrap_or(Value::Null)
            };
            let lines = key_lines(&text);
            Ok(read_json(f, &value, &lines))
        }
    }
}

/// The error text of a bounded read names the path already; the finding carries it too.
fn strip_path(msg: &str, path: &Path) -> String {
    let p = format!("{}: ", path.display());
    msg.strip_prefix(&p).unwrap_or(msg).to_string()
}

fn without_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn jsonc_options() -> jsonc_parser::ParseOptions {
    jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        ..Default::default()
    }
}

/// The line of the first bracket nested past [`MAX_DEPTH`], if any (strings and comments
/// skipped), so that no parser recurses on hostile nesting.
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut line) = (0usize, 1usize);
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(line);
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Line numbers of byte offsets, by binary search over the line starts (one pass over the
/// text, whatever the number of lookups).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines(starts)
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset).max(1)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    Lines::new(text).line(offset)
}

/// Line of every object key down to a few levels, keyed by the path joined with `\u{1}`.
fn key_lines(text: &str) -> HashMap<String, usize> {
    use jsonc_parser::ast::Value as A;
    fn walk(v: &A, prefix: &str, depth: usize, lines: &Lines, out: &mut HashMap<String, usize>) {
        if depth > 6 {
            return;
        }
        if let A::Object(o) = v {
            for p in &o.properties {
                let name = p.name.clone().into_string();
                let key = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}\u{1}{name}")
                };
                out.insert(key.clone(), lines.line(p.range.start));
                walk(&p.value, &key, depth + 1, lines, out);
            }
        }
    }
    let mut out = HashMap::new();
    let collect = jsonc_parser::CollectOptions {
        comments: jsonc_parser::CommentCollectionStrategy::Off,
        tokens: false,
    };
    if let Ok(r) = jsonc_parser::parse_to_ast(text, &collect, &jsonc_options()) {
        if let Some(v) = &r.value {
            walk(v, "", 0, &Lines::new(text), &mut out);
        }
    }
    out
}

fn known_keys(client: Client) -> &'static [&'static str] {
    match client {
        Client::ClaudeDesktop => &[
            "command", "args", "env", "type", "url", "headers", "cwd", "disabled",
        ],
        Client::ClaudeCode => &[
            "command",
            "args",
            "env",
            "type",
            "url",
            "headers",
            "headersHelper",
            "oauth",
            "timeout",
            "cwd",
        ],
        Client::Cursor => &[
            "command", "args", "env", "envFile", "type", "url", "headers", "auth", "disabled",
            "cwd",
        ],
        Client::Vscode => &[
            "command",
            "args",
            "env",
            "envFile",
            "type",
            "url",
            "headers",
            "cwd",
            "dev",
            "sandbox",
            "sandboxEnabled",
            "gallery",
            "version",
        ],
        Client::Windsurf => &[
            "command",
            "args",
            "env",
            "serverUrl",
            "url",
            "headers",
            "disabled",
            "disabledTools",
            "alwaysAllow",
            "type",
        ],
        Client::GeminiCli => &[
            "command",
            "args",
            "env",
            "cwd",
            "url",
            "httpUrl",
            "headers",
            "timeout",
            "trust",
            "description",
            "includeTools",
            "excludeTools",
            "extensionName",
            "oauth",
            "authProviderType",
            "targetAudience",
            "targetServiceAccount",
            "type",
        ],
        Client::Codex => &[
            "command",
            "args",
            "env",
            "env_vars",
            "cwd",
            "url",
            "bearer_token",
            "bearer_token_env_var",
            "http_headers",
            "env_http_headers",
            "enabled",
            "required",
            "startup_timeout_sec",
            "startup_timeout_ms",
            "tool_timeout_sec",
            "enabled_tools",
            "disabled_tools",
            "default_tools_approval_mode",
            "tools",
            "scopes",
            "oauth_resource",
            "oauth",
            "transport",
        ],
    }
}

fn read_json(f: &ConfigFile, root: &Value, lines: &HashMap<String, usize>) -> Parsed {
    let mut out = Parsed::default();
    let Some(top) = root.as_object() else {
        out.findings.push(finding(
            f,
            "config_error",
            Severity::Warning,
            Some(1),
            None,
            format!(
                "expected a JSON object at the top, got {}",
                crate::model::json_kind(root)
            ),
        ));
        return out;
    };
    let servers_key = match f.layout {
        Layout::VscodeServers => "servers",
        _ => "mcpServers",
    };
    let project_of_file = (f.client == Client::ClaudeCode && f.scope == "project")
        .then(|| project_key(&f.path))
        .flatten();
    read_server_map(
        f,
        top.get(servers_key),
        servers_key,
        project_of_file,
        lines,
        &mut out,
    );
    if f.layout == Layout::ClaudeJson {
        if let Some(projects) = top.get("projects").and_then(Value::as_object) {
            for (p, v) in projects {
                let prefix = format!("projects\u{1}{p}\u{1}mcpServers");
                read_server_map(
                    f,
                    v.get("mcpServers"),
                    &prefix,
                    Some(p.clone()),
                    lines,
                    &mut out,
                );
            }
        }
    }
    out
}

/// The project folder a project-scope file belongs to, as Claude Code keys it (absolute).
fn project_key(path: &Path) -> Option<String> {
    let dir = path.parent()?;
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    Some(dir.to_string_lossy().into_owned())
}

fn read_server_map(
    f: &ConfigFile,
    map: Option<&Value>,
    prefix: &str,
    project: Option<String>,
    lines: &HashMap<String, usize>,
    out: &mut Parsed,
) {
    let Some(map) = map else { return };
    let Some(map) = map.as_object() else {
        out.findings.push(finding(
            f,
            "config_error",
            Severity::Warning,
            lines.get(prefix).copied(),
            None,
            format!(
                "`{}` must be an object of servers, got {}",
                prefix.replace('\u{1}', "."),
                crate::model::json_kind(map)
            ),
        ));
        return;
    };
    for (name, entry) in map {
        let key = format!("{prefix}\u{1}{name}");
        let line = lines.get(&key).copied();
        match json_entry(f, name, entry, &key, lines, out) {
            Ok((launch, disabled, filter)) => out.servers.push(ConfiguredServer {
                client: f.client,
                file: f.path.clone(),
                line,
                name: name.clone(),
                project: project.clone(),
                launch,
                disabled,
                filter,
            }),
            Err(e) => out.findings.push(finding(
                f,
                "config_error",
                Severity::Warning,
                line,
                Some(name),
                e.to_string(),
            )),
        }
    }
}

/// Why a configured server entry cannot be read (the `config_error` finding says it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// `what` (a key path) has the wrong type: it must `must` ("be an array", "hold
    /// strings", …); `found` is the JSON kind it has, when the format tells.
    WrongType {
        what: String,
        must: &'static str,
        found: Option<&'static str>,
    },
    /// The entry itself is not an object (its JSON kind).
    NotAnObject(&'static str),
    /// Neither `command` nor `url`: `who` (the client) cannot start or reach the server.
    NoCommandOrUrl { who: &'static str },
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryError::WrongType { what, must, found } => {
                write!(f, "`{what}` must {must}")?;
                match found {
                    Some(k) => write!(f, ", got {k}"),
                    None => Ok(()),
                }
            }
            EntryError::NotAnObject(k) => write!(f, "a server entry must be an object, got {k}"),
            EntryError::NoCommandOrUrl { who } => {
                write!(
                    f,
                    "neither `command` nor `url`: {who} cannot start or reach it"
                )
            }
        }
    }
}

impl std::error::Error for EntryError {}

fn wrong(what: impl Into<String>, must: &'static str, found: Option<&Value>) -> EntryError {
    EntryError::WrongType {
        what: what.into(),
        must,
        found: found.map(crate::model::json_kind),
    }
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, EntryError> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                other => Err(wrong(what, "hold strings", Some(other))),
            })
            .collect(),
        other => Err(wrong(what, "be an array", Some(other))),
    }
}

fn string_map(v: &Value, what: &str) -> Result<Vec<(String, String)>, EntryError> {
    let m = v
        .as_object()
        .ok_or_else(|| wrong(what, "be an object", Some(v)))?;
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            Value::Number(n) => Ok((k.clone(), n.to_string())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            other => Err(wrong(format!("{what}.{k}"), "be a string", Some(other))),
        })
        .collect()
}

type Entry = (Launch, bool, ToolFilter);

fn json_entry(
    f: &ConfigFile,
    name: &str,
    entry: &Value,
    key: &str,
    lines: &HashMap<String, usize>,
    out: &mut Parsed,
) -> Result<Entry, EntryError> {
    let obj: &Map<String, Value> = entry
        .as_object()
        .ok_or_else(|| EntryError::NotAnObject(crate::model::json_kind(entry)))?;
    let known = known_keys(f.client);
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            out.findings.push(finding(
                f,
                "unknown_key",
                Severity::Info,
                lines.get(&format!("{key}\u{1}{k}")).copied(),
                Some(name),
                format!(
                    "unknown key `{}` (not in {}'s documented server fields)",
                    crate::classify::report::clean(k, 80),
                    f.client
                ),
            ));
        }
    }
    let text = |k: &str| -> Result<Option<String>, EntryError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong(k, "be a string", Some(other))),
        }
    };
    let url = match text("url")? {
        Some(u) => Some(u),
        None => match text("serverUrl")? {
            Some(u) => Some(u),
            None => text("httpUrl")?,
        },
    };
    let launch = match (text("command")?, url) {
        (Some(command), _) => Launch::Stdio {
            command,
            args: obj
                .get("args")
                .map(|a| strings(a, "args"))
                .transpose()?
                .unwrap_or_default(),
            env: obj
                .get("env")
                .map(|e| string_map(e, "env"))
                .transpose()?
                .unwrap_or_default(),
        },
        (None, Some(url)) => Launch::Remote {
            url,
            headers: obj
                .get("headers")
                .map(|h| string_map(h, "headers"))
                .transpose()?
                .unwrap_or_default(),
        },
        (None, None) => return Err(EntryError::NoCommandOrUrl { who: "the client" }),
    };
    let disabled = obj
        .get("disabled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut filter = ToolFilter::default();
    if let Some(v) = obj.get("includeTools") {
        filter.include = Some(strings(v, "includeTools")?);
    }
    for k in ["excludeTools", "disabledTools"] {
        if let Some(v) = obj.get(k) {
            filter.exclude.extend(strings(v, k)?);
        }
    }
    Ok((launch, disabled, filter))
}

fn read_toml(f: &ConfigFile, text: &str) -> Result<Parsed, Box<SetupFinding>> {
    let doc = toml_edit::Document::parse(text.to_string()).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        let msg = e.message().to_string();
        Box::new(finding(
            f,
            "config_error",
            Severity::Warning,
            line,
            None,
            format!("invalid TOML: {msg}"),
        ))
    })?;
    let mut out = Parsed::default();
    let Some(servers) = doc.as_table().get("mcp_servers") else {
        return Ok(out);
    };
    let Some(servers) = servers.as_table_like() else {
        out.findings.push(finding(
            f,
            "config_error",
            Severity::Warning,
            servers.span().map(|s| line_of(text, s.start)),
            None,
            "`mcp_servers` must be a table".into(),
        ));
        return Ok(out);
    };
    let lines = Lines::new(text);
    for (name, item) in servers.iter() {
        let line = servers
            .get_key_value(name)
            .and_then(|(k, _)| k.span())
            .or_else(|| item.span())
            .map(|s| lines.line(s.start));
        match toml_entry(f, name, item, line, &mut out) {
            Ok((launch, disabled, filter)) => out.servers.push(ConfiguredServer {
                client: f.client,
                file: f.path.clone(),
                line,
                name: name.to_string(),
                project: None,
                launch,
                disabled,
                filter,
            }),
            Err(e) => out.findings.push(finding(
                f,
                "config_error",
                Severity::Warning,
                line,
                Some(name),
                e.to_string(),
            )),
        }
    }
    Ok(out)
}

fn toml_entry(
    f: &ConfigFile,
    name: &str,
    item: &toml_edit::Item,
    line: Option<usize>,
    out: &mut Parsed,
) -> Result<Entry, EntryError> {
    let t = item
        .as_table_like()
        .ok_or_else(|| wrong(format!("mcp_servers.{name}"), "be a table", None))?;
    let known = known_keys(f.client);
    for (k, _) in t.iter() {
        if !known.contains(&k) {
            out.findings.push(finding(
                f,
                "unknown_key",
                Severity::Info,
                line,
                Some(name),
                format!(
                    "unknown key `{}` (not in Codex's documented server fields)",
                    crate::classify::report::clean(k, 80)
                ),
            ));
        }
    }
    let text = |k: &str| -> Result<Option<String>, EntryError> {
        match t.get(k) {
            None => Ok(None),
            Some(i) => i
                .as_str()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| wrong(k, "be a string", None)),
        }
    };
    let list = |k: &str| -> Result<Option<Vec<String>>, EntryError> {
        match t.get(k) {
            None => Ok(None),
            Some(i) => {
                let a = i.as_array().ok_or_else(|| wrong(k, "be an array", None))?;
                a.iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| wrong(k, "hold strings", None))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
        }
    };
    let map = |k: &str| -> Result<Vec<(String, String)>, EntryError> {
        match t.get(k) {
            None => Ok(vec![]),
            Some(i) => {
                let m = i
                    .as_table_like()
                    .ok_or_else(|| wrong(k, "be a table", None))?;
                m.iter()
                    .map(|(key, v)| {
                        v.as_str()
                            .map(|s| (key.to_string(), s.to_string()))
                            .ok_or_else(|| wrong(format!("{k}.{key}"), "be a string", None))
                    })
                    .collect()
            }
        }
    };
    let launch = match (text("command")?, text("url")?) {
        (Some(command), _) => Launch::Stdio {
            command,
            args: list("args")?.unwrap_or_default(),
            env: map("env")?,
        },
        (None, Some(url)) => {
            let mut headers = map("http_headers")?;
            if let Some(token) = text("bearer_token")? {
                headers.push(("bearer_token".into(), token));
            }
            Launch::Remote { url, headers }
        }
        (None, None) => return Err(EntryError::NoCommandOrUrl { who: "Codex" }),
    };
    let disabled = t.get("enabled").and_then(|i| i.as_bool()) == Some(false);
    let filter = ToolFilter {
        include: list("enabled_tools")?,
        exclude: list("disabled_tools")?.unwrap_or_default(),
    };
    Ok((launch, disabled, filter))
}
