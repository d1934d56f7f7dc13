//! `--write`: merging an emitted policy into the file its target reads, keeping everything
//! else of the file byte for byte (comments too: JSON with comments is edited through a
//! concrete syntax tree, TOML through `toml_edit`), with a backup beside it, atomically.

use super::{Emitted, ServerPolicy, Target};
use jsonc_parser::cst::{CstInputValue, CstObject, CstRootNode};
use serde_json::Value;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a merge or write failed.
#[derive(Debug)]
pub enum WriteError {
    /// The existing file does not parse; it is left alone.
    Parse { path: PathBuf, message: String },
    /// The existing file has a shape the merge cannot keep (e.g. `permissions` not an object).
    Shape { path: PathBuf, message: String },
    /// A server the policy names is not configured in the file (Codex, Gemini CLI).
    MissingServer { path: PathBuf, server: String },
    /// Reading or writing failed.
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file could not be read safely (a FIFO, too large, …).
    Read(crate::bounded::ReadError),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Parse { path, message } => {
                write!(f, "{}: {message}; not changed", path.display())
            }
            WriteError::Shape { path, message } => {
                write!(f, "{}: {message}; not changed", path.display())
            }
            WriteError::MissingServer { path, server } => write!(
                f,
                "{}: no server `{}` is configured there; not changed",
                path.display(),
                crate::classify::report::clean(server, 80)
            ),
            WriteError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            WriteError::Read(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WriteError {}

/// Largest settings file `--write` reads.
pub const MAX_SETTINGS_BYTES: u64 = 16 * 1024 * 1024;

/// What a write did.
#[derive(Debug)]
pub struct Written {
    pub path: PathBuf,
    /// The backup of the file as it was, when there was one.
    pub backup: Option<PathBuf>,
    /// Unified diff from the old text to the new.
    pub diff: String,
}

/// The new text of `path` (`existing` is its current text, `None` when it does not exist)
/// with the policy merged in.
pub fn merge(
    target: Target,
    path: &Path,
    existing: Option<&str>,
    emitted: &Emitted,
    servers: &[ServerPolicy],
) -> Result<String, WriteError> {
    match target {
        Target::Native | Target::Cedar | Target::Annotations => Ok(emitted.text.clone()),
        Target::Codex => merge_codex(path, existing.unwrap_or(""), emitted, servers),
        _ => {
            let policy: Value =
                serde_json::from_str(&emitted.text).map_err(|e| WriteError::Parse {
                    path: path.to_path_buf(),
                    message: format!("emitted policy: {e}"),
                })?;
            merge_json(target, path, existing.unwrap_or("{}\n"), &policy, servers)
        }
    }
}

fn shape(path: &Path, message: impl Into<String>) -> WriteError {
    WriteError::Shape {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn cst_value(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(cst_value).collect()),
        Value::Object(m) => {
            CstInputValue::Object(m.iter().map(|(k, v)| (k.clone(), cst_value(v))).collect())
        }
    }
}

fn obj_child(path: &Path, parent: &CstObject, key: &str) -> Result<CstObject, WriteError> {
    match parent.get(key) {
        None => Ok(parent.object_value_or_set(key)),
        Some(prop) => prop
            .value()
            .and_then(|v| v.as_object())
            .ok_or_else(|| shape(path, format!("`{key}` is not an object"))),
    }
}

/// Sets `key` in `obj` to `value`, replacing what was there.
fn set(obj: &CstObject, key: &str, value: &Value) {
    match obj.get(key) {
        Some(prop) => prop.set_value(cst_value(value)),
        None => {
            obj.append(key, cst_value(value));
        }
    }
}

fn string_array(path: &Path, obj: &CstObject, key: &str) -> Result<Vec<String>, WriteError> {
    match obj.get(key).and_then(|p| p.value()) {
        None => Ok(vec![]),
        Some(v) => {
            let arr = v
                .as_array()
                .ok_or_else(|| shape(path, format!("`{key}` is not an array")))?;
            Ok(arr
                .elements()
                .iter()
                .filter_map(|e| e.to_serde_value())
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect())
        }
    }
}

/// Removes the string elements of `obj[key]` that are in `drop`, then appends `add` (those
/// not already present). Other elements keep their place and their comments.
fn edit_array(
    path: &Path,
    obj: &CstObject,
    key: &str,
    drop: &[String],
    add: &[String],
) -> Result<(), WriteError> {
    let present = string_array(path, obj, key)?;
    if obj.get(key).is_none() {
        if add.is_empty() {
            return Ok(());
        }
        obj.append(key, CstInputValue::Array(vec![]));
    }
    let arr = obj
        .get(key)
        .and_then(|p| p.value())
        .and_then(|v| v.as_array())
        .ok_or_else(|| shape(path, format!("`{key}` is not an array")))?;
    for e in arr.elements() {
        if let Some(Value::String(s)) = e.to_serde_value() {
            if drop.contains(&s) && !add.contains(&s) {
                e.remove();
            }
        }
    }
    for a in add {
        if !present.contains(a) {
            arr.append(CstInputValue::String(a.clone()));
        }
    }
    Ok(())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn merge_json(
    target: Target,
    path: &Path,
    existing: &str,
    policy: &Value,
    servers: &[ServerPolicy],
) -> Result<String, WriteError> {
    let opts = jsonc_parser::ParseOptions::default();
    let root = CstRootNode::parse(existing, &opts).map_err(|e| WriteError::Parse {
        path: path.to_path_buf(),
        message: format!(
            "line {}, column {}: {}",
            e.line_display(),
            e.column_display(),
            e.kind()
        ),
    })?;
    let top = match root.value() {
        None => root.object_value_or_set(),
        Some(v) => v
            .as_object()
            .ok_or_else(|| shape(path, "the file is not a JSON object"))?,
    };
    match target {
        Target::ClaudeCode => {
            let perms = obj_child(path, &top, "permissions")?;
            let lists = ["allow", "ask", "deny"];
            let ours: Vec<String> = lists
                .iter()
                .flat_map(|l| strings(&policy["permissions"][*l]))
                .collect();
            for l in lists {
                edit_array(path, &perms, l, &ours, &strings(&policy["permissions"][l]))?;
            }
        }
        Target::Cursor => {
            let allow = strings(&policy["mcpAllowlist"]);
            // Entries for tools this policy does not allow are taken out.
            let not_allowed: Vec<String> = servers
                .iter()
                .flat_map(|s| s.tools.iter().map(move |c| format!("{}:{}", s.key, c.name)))
                .filter(|e| !allow.contains(e))
                .collect();
            edit_array(path, &top, "mcpAllowlist", &not_allowed, &allow)?;
        }
        Target::Vscode => {
            let key = "chat.tools.eligibleForAutoApproval";
            let obj = obj_child(path, &top, key)?;
            if let Some(m) = policy[key].as_object() {
                for (k, v) in m {
                    set(&obj, k, v);
                }
            }
        }
        Target::GeminiCli => {
            let mcp = top
                .get("mcpServers")
                .and_then(|p| p.value())
                .and_then(|v| v.as_object());
            let Some(mcp) = mcp else {
                if let Some(s) = servers.first() {
                    return Err(WriteError::MissingServer {
                        path: path.to_path_buf(),
                        server: s.key.to_string(),
                    });
                }
                return Ok(existing.to_string());
            };
            if let Some(m) = policy["mcpServers"].as_object() {
                for (name, entry) in m {
                    let Some(server) = mcp
                        .get(name)
                        .and_then(|p| p.value())
                        .and_then(|v| v.as_object())
                    else {
                        return Err(WriteError::MissingServer {
                            path: path.to_path_buf(),
                            server: name.clone(),
                        });
                    };
                    if let Some(fields) = entry.as_object() {
                        for (k, v) in fields {
                            set(&server, k, v);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    Ok(root.to_string())
}

fn merge_codex(
    path: &Path,
    existing: &str,
    emitted: &Emitted,
    servers: &[ServerPolicy],
) -> Result<String, WriteError> {
    let parse = |text: &str, what: &str| {
        text.parse::<toml_edit::DocumentMut>()
            .map_err(|e| WriteError::Parse {
                path: path.to_path_buf(),
                message: format!("{what}: {}", e.to_string().trim()),
            })
    };
    let mut doc = parse(existing, "TOML")?;
    let policy = parse(&emitted.text, "emitted policy")?;
    let Some(ours) = policy.get("mcp_servers").and_then(|i| i.as_table()) else {
        return Ok(existing.to_string());
    };
    for s in servers {
        let Some(table) = doc
            .get_mut("mcp_servers")
            .and_then(|i| i.as_table_like_mut())
            .and_then(|t| t.get_mut(s.key))
            .and_then(|i| i.as_table_like_mut())
        else {
            return Err(WriteError::MissingServer {
                path: path.to_path_buf(),
                server: s.key.to_string(),
            });
        };
        let Some(src) = ours.get(s.key).and_then(|i| i.as_table()) else {
            continue;
        };
        for (k, item) in src.iter() {
            if k == "tools" {
                continue;
            }
            if let Some(v) = item.as_value() {
                table.insert(k, toml_edit::Item::Value(v.clone()));
            }
        }
        if let Some(tools) = src.get("tools").and_then(|i| i.as_table()) {
            if table.get("tools").is_none() {
                let mut t = toml_edit::Table::new();
                t.set_implicit(true);
                table.insert("tools", toml_edit::Item::Table(t));
            }
            let Some(dest) = table.get_mut("tools").and_then(|i| i.as_table_like_mut()) else {
                return Err(shape(
                    path,
                    format!("`mcp_servers.{}.tools` is not a table", s.key),
                ));
            };
            for (tool, item) in tools.iter() {
                let Some(mode) = item.as_table().and_then(|t| t.get("approval_mode")) else {
                    continue;
                };
                if dest.get(tool).is_none() {
                    dest.insert(tool, toml_edit::Item::Table(toml_edit::Table::new()));
                }
                if let Some(t) = dest.get_mut(tool).and_then(|i| i.as_table_like_mut()) {
                    t.insert("approval_mode", mode.clone());
                }
            }
        }
    }
    Ok(doc.to_string())
}

/// A unified diff of two texts, headed with the file name.
pub fn diff(path: &Path, before: &str, after: &str) -> String {
    let name = path.display().to_string();
    similar::udiff::unified_diff(
        similar::Algorithm::Myers,
        before,
        after,
        3,
        Some((&format!("a/{name}"), &format!("b/{name}"))),
    )
}

/// Merges the policy into `path` and writes it: a backup of the old file beside it
/// (`<name>.toolrisk-<time>.bak`), then the new text through a temporary file renamed over the
/// old one (same permissions). Nothing is written when the text does not change.
pub fn write(
    target: Target,
    path: &Path,
    emitted: &Emitted,
    servers: &[ServerPolicy],
) -> Result<Written, WriteError> {
    let existing = match crate::bounded::read_text(path, MAX_SETTINGS_BYTES) {
        Ok(t) => Some(t),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(WriteError::Read(e)),
    };
    let after = merge(target, path, existing.as_deref(), emitted, servers)?;
    let before = existing.clone().unwrap_or_default();
    let diff = diff(path, &before, &after);
    if existing.as_deref() == Some(after.as_str()) {
        return Ok(Written {
            path: path.to_path_buf(),
            backup: None,
            diff,
        });
    }
    let io = |error| WriteError::Io {
        path: path.to_path_buf(),
        error,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "settings".into());
    let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
    let mut backup = None;
    if let Some(old) = &existing {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]"
            ))
            .unwrap_or_default();
        let mut candidate = dir.join(format!("{name}.toolrisk-{stamp}.bak"));
        let mut n = 1;
        while candidate.exists() {
            candidate = dir.join(format!("{name}.toolrisk-{stamp}-{n}.bak"));
            n += 1;
        }
        write_new(&candidate, old.as_bytes(), mode.clone()).map_err(|error| WriteError::Io {
            path: candidate.clone(),
            error,
        })?;
        backup = Some(candidate);
    }
    let tmp = dir.join(format!(".{name}.toolrisk-{}.tmp", std::process::id()));
    let result = write_new(&tmp, after.as_bytes(), mode).and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(Written {
        path: path.to_path_buf(),
        backup,
        diff,
    })
}

/// Creates `path` (failing if it exists, so a planted symlink is not followed) with `bytes`.
fn write_new(path: &Path, bytes: &[u8], mode: Option<std::fs::Permissions>) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path).or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Ok(())
        } else {
            Err(e)
        }
    });
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    if let Some(m) = mode {
        f.set_permissions(m)?;
    }
    f.sync_all()
}
