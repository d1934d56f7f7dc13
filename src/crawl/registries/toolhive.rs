//! ToolHive: one file or URL, either the upstream registry (`data.servers`: `server.json`
//! entries, with tool definitions, tool names and tags under
//! `_meta["io.modelcontextprotocol.registry/publisher-provided"][<publisher>][<package or
//! URL>]`) or the legacy format (`servers` / `remote_servers` maps with tool names only).

use super::official::{fill_entry, from_server_json, publisher_items, publisher_tools};
use super::{add_env, s, strings, Ctx, Discovered};
use crate::crawl::scheduler::{How, Target};
use crate::model::{EnvVar, Package, Remote, Server};
use anyhow::{bail, Context, Result};
use serde_json::Value;

pub(super) async fn discover(ctx: &Ctx) -> Result<Discovered> {
    let text = ctx.get_doc(&ctx.base).await?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", ctx.base))?;
    let mut out = Discovered {
        pages: 1,
        ..Discovered::default()
    };
    if let Some(list) = doc.pointer("/data/servers").and_then(Value::as_array) {
        for (i, sv) in list.iter().enumerate() {
            match from_server_json(sv) {
                Ok(mut t) => {
                    let tools = publisher_tools(sv, ctx, &t.server.id, &mut out.problems);
                    let mut e = ctx.entry(&t.server.id, &ctx.base);
                    fill_entry(&mut e, sv);
                    let mut names = Vec::new();
                    for item in publisher_items(sv) {
                        for tag in strings(item.get("tags")) {
                            if !e.tags.contains(&tag) {
                                e.tags.push(tag);
                            }
                        }
                        names.extend(strings(item.get("tools")));
                        if e.category.is_none() {
                            e.category = s(item, "category");
                        }
                    }
                    names.sort();
                    names.dedup();
                    let mut data = ctx.data(ctx.base.clone(), tools, e);
                    if let Some(entry) = data.entry.as_mut().filter(|e| e.tool_names.is_empty()) {
                        // Names without definitions: kept as what the registry says, but
                        // the tools stay unknown.
                        entry.tool_names = names;
                    }
                    t.registry_tools = Some(data);
                    out.targets.push(t);
                }
                Err(e) => out.problems.push(format!(
                    "toolhive {} entry #{}: {e}; skipped",
                    ctx.base,
                    i + 1
                )),
            }
        }
        return Ok(out);
    }
    // Legacy: `servers` and `remote_servers` maps with tool names only.
    let mut any = false;
    for key in ["servers", "remote_servers"] {
        let Some(map) = doc.get(key).and_then(Value::as_object) else {
            continue;
        };
        any = true;
        for (name, e) in map {
            if !e.is_object() {
                out.problems
                    .push(format!("toolhive {key}.{name}: not an object; skipped"));
                continue;
            }
            let remotes: Vec<Remote> = s(e, "url")
                .map(|u| Remote {
                    kind: s(e, "transport").unwrap_or_else(|| "streamable-http".into()),
                    url: u,
                })
                .into_iter()
                .collect();
            let id = format!("toolhive:{name}");
            let mut entry = ctx.entry(&id, &ctx.base);
            entry.repository = s(e, "repository_url");
            entry.tags = strings(e.get("tags"));
            entry.tool_names = strings(e.get("tools"));
            entry.tool_names.sort();
            entry.tool_names.dedup();
            for v in e
                .get("env_vars")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = s(v, "name") {
                    add_env(
                        &mut entry.env,
                        EnvVar {
                            name: n,
                            description: s(v, "description"),
                            required: v.get("required").and_then(Value::as_bool).unwrap_or(false),
                            secret: v.get("secret").and_then(Value::as_bool).unwrap_or(false),
                        },
                    );
                }
            }
            out.targets.push(Target {
                slug_base: name.clone(),
                how: remotes
                    .first()
                    .map(|r| How::Url(r.url.clone()))
                    .unwrap_or(How::None),
                server: Server {
                    id,
                    name: name.clone(),
                    description: s(e, "description"),
                    repository: entry.repository.clone(),
                    packages: s(e, "image")
                        .map(|i| Package {
                            registry: "oci".into(),
                            identifier: i,
                            version: None,
                            transport: s(e, "transport"),
                        })
                        .into_iter()
                        .collect(),
                    remotes,
                    ..Server::default()
                },
                registry_tools: Some(ctx.data(ctx.base.clone(), None, entry)),
            });
        }
    }
    if !any {
        bail!(
            "{}: neither a ToolHive upstream registry (`data.servers`) nor a legacy one (`servers`)",
            ctx.base
        );
    }
    Ok(out)
}
