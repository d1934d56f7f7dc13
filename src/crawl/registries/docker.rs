//! The Docker MCP Catalog: a checkout of `docker/mcp-registry` (a `servers/` folder with one
//! `server.yaml` per server, and a `tools.json` beside some), or its published catalog file
//! (a `registry` map). `server.yaml` gives the image or remote, category, tags, source
//! repository, and the secrets and environment the server needs; `tools.json` gives tool
//! definitions in Docker's shape (`arguments[]`), converted to JSON Schema. `poci` servers
//! define their tools in `server.yaml` itself (`tools[].parameters`, a JSON Schema).

use super::{add_env, parse_yaml, read_local, registry_tools, strings, Ctx, Discovered};
use crate::crawl::scheduler::{How, Target};
use crate::model::{EnvVar, Package, RegistryEntry, Remote, Server, Tool};
use anyhow::{anyhow, Context, Result};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Most server folders read from one checkout.
const MAX_SERVERS: usize = 100_000;

pub(super) async fn discover(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered {
        pages: 1,
        ..Discovered::default()
    };
    let base = ctx.base.clone();
    let dir = Path::new(&base).join("servers");
    if !base.starts_with("http") && dir.is_dir() {
        checkout(ctx, &dir, &mut out)?;
        return Ok(out);
    }
    let text = ctx.get_doc(&base).await?;
    let doc: Value = if base.ends_with(".yaml") || base.ends_with(".yml") {
        parse_yaml(Path::new(&base), &text)?
    } else {
        serde_json::from_str(&text).with_context(|| format!("{base}: not JSON"))?
    };
    let reg = doc
        .get("registry")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("{base}: no `registry` map (expected a Docker MCP catalog file)"))?;
    for (name, tile) in reg {
        if !tile.is_object() {
            out.problems
                .push(format!("docker {name}: not an object; skipped"));
            continue;
        }
        // The published catalog lists tool names only; full definitions when present.
        let tools = tile
            .get("tools")
            .and_then(Value::as_array)
            .filter(|a| {
                a.iter()
                    .any(|t| t.get("description").is_some() || t.get("arguments").is_some())
            })
            .map(|a| {
                let conv: Vec<Value> = a.iter().map(docker_tool).collect();
                registry_tools(&conv, name, &ctx.limits, &mut out.problems)
            });
        let mut names = Vec::new();
        if tools.is_none() {
            for t in tile
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = t.get("name").and_then(Value::as_str).or_else(|| t.as_str()) {
                    names.push(crate::text::truncate_at_char(n, 200).to_string());
                }
            }
        }
        let mut t = docker_target(name, tile, tools, ctx, base.clone());
        if let Some(e) = t.registry_tools.as_mut().and_then(|d| d.entry.as_mut()) {
            if e.tool_names.is_empty() {
                names.sort();
                names.dedup();
                e.tool_names = names;
            }
        }
        out.targets.push(t);
    }
    Ok(out)
}

/// Reads `servers/<name>/server.yaml` (+ `tools.json`) of a checkout, in name order. A folder
/// whose files cannot be read or parsed is reported and skipped.
fn checkout(ctx: &Ctx, dir: &Path, out: &mut Discovered) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .take(MAX_SERVERS)
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let yaml = p.join("server.yaml");
        let v = match read_local(&yaml, &ctx.limits).and_then(|t| parse_yaml(&yaml, &t)) {
            Ok(v) if v.is_object() => v,
            Ok(_) => {
                out.problems
                    .push(format!("docker {}: not a mapping; skipped", yaml.display()));
                continue;
            }
            Err(e) => {
                out.problems.push(format!("docker {e:#}; skipped"));
                continue;
            }
        };
        let tools_path = p.join("tools.json");
        let mut tools = None;
        if tools_path.exists() {
            match read_local(&tools_path, &ctx.limits).and_then(|t| {
                serde_json::from_str::<Value>(&t)
                    .map_err(|e| anyhow!("{}: not JSON: {e}", tools_path.display()))
            }) {
                Ok(Value::Array(a)) if !a.is_empty() => {
                    let conv: Vec<Value> = a.iter().map(docker_tool).collect();
                    tools = Some(registry_tools(&conv, &name, &ctx.limits, &mut out.problems));
                }
                // An empty list is what the registry writes when it does not know the tools.
                Ok(Value::Array(_)) => {}
                Ok(other) => out.problems.push(format!(
                    "docker {}: {}, not a list; tools skipped",
                    tools_path.display(),
                    crate::model::json_kind(&other)
                )),
                Err(e) => out.problems.push(format!("docker {e:#}; tools skipped")),
            }
        }
        if tools.is_none() {
            // `poci` servers define their tools in server.yaml.
            if let Some(a) = v
                .get("tools")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
            {
                let conv: Vec<Value> = a.iter().map(docker_tool).collect();
                tools = Some(registry_tools(&conv, &name, &ctx.limits, &mut out.problems));
            }
        }
        out.targets.push(docker_target(
            &name,
            &v,
            tools,
            ctx,
            yaml.display().to_string(),
        ));
    }
    Ok(())
}

fn text_at<'a>(v: &'a Value, pointers: &[&str]) -> Option<&'a str> {
    pointers
        .iter()
        .find_map(|p| v.pointer(p).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn docker_target(
    name: &str,
    v: &Value,
    tools: Option<(Vec<Tool>, Option<String>)>,
    ctx: &Ctx,
    location: String,
) -> Target {
    let cut = |s: &str, n: usize| crate::text::truncate_at_char(s, n).to_string();
    let remote_url = text_at(v, &["/remote/url"]).map(|u| cut(u, 2000));
    let remotes: Vec<Remote> = remote_url
        .iter()
        .map(|u| Remote {
            kind: text_at(v, &["/remote/transport_type"])
                .unwrap_or("streamable-http")
                .to_string(),
            url: u.clone(),
        })
        .collect();
    let repository = text_at(v, &["/source/project", "/upstream"]).map(|project| {
        let project = cut(project, 1000);
        let project = project.trim_end_matches('/');
        match text_at(v, &["/source/directory"]).map(|d| d.trim_matches('/')) {
            Some(d) if !d.is_empty() && d != "." => format!("{project}/tree/HEAD/{}", cut(d, 500)),
            _ => project.to_string(),
        }
    });
    let id = format!("docker:{name}");
    let mut entry = ctx.entry(&id, &location);
    entry.category = text_at(v, &["/meta/category"]).map(|c| cut(c, 200));
    entry.tags = strings(v.pointer("/meta/tags"));
    entry.repository = repository.clone();
    docker_env(v, &mut entry);
    Target {
        slug_base: format!("docker-{name}"),
        how: remotes
            .first()
            .map(|r| How::Url(r.url.clone()))
            .unwrap_or(How::None),
        server: Server {
            id,
            name: text_at(v, &["/about/title", "/title"])
                .map(|t| cut(t, 400))
                .unwrap_or_else(|| name.to_string()),
            description: text_at(v, &["/about/description", "/description"]).map(|d| cut(d, 4096)),
            repository,
            packages: text_at(v, &["/image"])
                .map(|i| Package {
                    registry: "oci".into(),
                    identifier: cut(i, 500),
                    version: None,
                    transport: Some("stdio".into()),
                })
                .into_iter()
                .collect(),
            remotes,
            ..Server::default()
        },
        registry_tools: Some(ctx.data(location, tools, entry)),
    }
}

/// `config.secrets[]` (each a secret, required unless `required: false`) and `config.env[]`
/// (required when marked so, or when its value comes from a required parameter).
fn docker_env(v: &Value, entry: &mut RegistryEntry) {
    let s = |e: &Value, k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .filter(|x| !x.trim().is_empty())
            .map(|x| crate::text::truncate_at_char(x, 500).to_string())
    };
    for sec in v
        .pointer("/config/secrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(env) = s(sec, "env").or_else(|| s(sec, "name")) else {
            continue;
        };
        add_env(
            &mut entry.env,
            EnvVar {
                name: env,
                description: s(sec, "description"),
                required: sec.get("required").and_then(Value::as_bool) != Some(false),
                secret: true,
            },
        );
    }
    let required_params: Vec<&str> = v
        .pointer("/config/parameters/required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for e in v
        .pointer("/config/env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = s(e, "name").or_else(|| s(e, "env")) else {
            continue;
        };
        let from_required = s(e, "value").is_some_and(|val| {
            required_params
                .iter()
                .any(|p| val.contains(&format!(".{p}}}}}")))
        });
        add_env(
            &mut entry.env,
            EnvVar {
                name,
                description: s(e, "description"),
                required: e.get("required").and_then(Value::as_bool) == Some(true) || from_required,
                secret: false,
            },
        );
    }
}

/// Converts a Docker tool (`tools.json`: `arguments: [{name, type, desc, items, optional}]`;
/// `server.yaml` of a `poci` server: `parameters`, a JSON Schema) to an MCP tool with an
/// `inputSchema`; other fields are kept as they are.
pub fn docker_tool(t: &Value) -> Value {
    let Some(obj) = t.as_object() else {
        return t.clone();
    };
    let mut out = Map::new();
    for (k, v) in obj {
        match k.as_str() {
            "arguments" | "parameters" | "container" => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if obj.get("arguments").is_none() && !obj.contains_key("inputSchema") {
        if let Some(p) = obj.get("parameters").filter(|p| p.is_object()) {
            out.insert("inputSchema".into(), p.clone());
            return Value::Object(out);
        }
    }
    if obj.contains_key("inputSchema") {
        return Value::Object(out);
    }
    let mut props = Map::new();
    let mut required = Vec::new();
    for a in obj
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = a.get("name").and_then(Value::as_str) else {
            continue;
        };
        let mut p = Map::new();
        p.insert(
            "type".into(),
            a.get("type").cloned().unwrap_or_else(|| json!("string")),
        );
        if let Some(d) = a.get("desc").or_else(|| a.get("description")) {
            p.insert("description".into(), d.clone());
        }
        if let Some(items) = a.get("items") {
            p.insert("items".into(), items.clone());
        }
        props.insert(name.to_string(), Value::Object(p));
        if !a.get("optional").and_then(Value::as_bool).unwrap_or(false) {
            required.push(json!(name));
        }
    }
    let mut schema = Map::new();
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    out.insert("inputSchema".into(), Value::Object(schema));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_arguments_become_json_schema() {
        let t = json!({"name": "create_build", "description": "d", "annotations": {"readOnlyHint": false},
            "arguments": [{"name": "branch", "type": "string", "desc": "The branch"},
                          {"name": "env", "type": "array", "items": {"type": "object"}, "desc": "E", "optional": true}]});
        let m = docker_tool(&t);
        assert_eq!(
            m["inputSchema"],
            json!({"type": "object", "properties": {
                "branch": {"type": "string", "description": "The branch"},
                "env": {"type": "array", "description": "E", "items": {"type": "object"}}},
                "required": ["branch"]})
        );
        assert_eq!(m["annotations"]["readOnlyHint"], json!(false));
        assert!(m.get("arguments").is_none());
    }

    #[test]
    fn poci_parameters_are_the_input_schema() {
        let t = json!({"name": "curl", "description": "Run curl.",
            "parameters": {"type": "object", "properties": {"args": {"type": "array"}}, "required": ["args"]},
            "container": {"image": "alpine/curl"}});
        let m = docker_tool(&t);
        assert_eq!(m["inputSchema"]["required"], json!(["args"]));
        assert!(m.get("container").is_none() && m.get("parameters").is_none());
    }

    #[test]
    fn secrets_and_env_from_server_yaml() {
        let v: Value = serde_yaml::from_str(
            "config:\n  secrets:\n    - {name: a.key, env: A_KEY}\n    - {name: a.opt, env: A_OPT, required: false}\n  env:\n    - {name: A_URL, value: '{{a.url}}'}\n    - {name: A_MODE, value: '{{a.mode}}'}\n  parameters:\n    type: object\n    required: [url]\n",
        )
        .unwrap();
        let mut e = RegistryEntry::default();
        docker_env(&v, &mut e);
        let got: Vec<(&str, bool, bool)> = e
            .env
            .iter()
            .map(|v| (v.name.as_str(), v.required, v.secret))
            .collect();
        assert_eq!(
            got,
            [
                ("A_KEY", true, true),
                ("A_OPT", false, true),
                ("A_URL", true, false),
                ("A_MODE", false, false)
            ]
        );
    }
}
