//! The official MCP Registry (v0.1 API): cursor-paged `server.json` entries. The
//! `server.json` reading here is shared with ToolHive's upstream format, which embeds the
//! same shape.

use super::{how_from, paginate, registry_tools, s, servers_array, Ctx, Discovered, Next};
use crate::crawl::scheduler::Target;
use crate::model::{EnvVar, Package, RegistryEntry, Remote, Server, Tool};
use anyhow::Result;
use serde_json::Value;

pub(super) async fn discover(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered::default();
    let query = |cursor: Option<&str>| {
        let mut q = vec![
            ("limit", "100".to_string()),
            ("version", "latest".to_string()),
        ];
        if let Some(since) = &ctx.updated_since {
            q.push(("updated_since", since.clone()));
        }
        if let Some(c) = cursor {
            q.push(("cursor", c.to_string()));
        }
        ctx.url("/v0.1/servers", &q)
    };
    let first = query(None)?;
    paginate(ctx, first, &mut out, |page, url, out| {
        for (i, entry) in servers_array(page, url)?.iter().enumerate() {
            let what = format!("official {url} entry #{}", i + 1);
            let Some(sv) = entry.get("server").filter(|v| v.is_object()) else {
                out.problems
                    .push(format!("{what}: no `server` object; skipped"));
                continue;
            };
            let meta = entry
                .pointer("/_meta/io.modelcontextprotocol.registry~1official")
                .cloned()
                .unwrap_or(Value::Null);
            if s(&meta, "status").as_deref() == Some("deleted") {
                out.deleted += 1;
                continue;
            }
            match from_server_json(sv) {
                Ok(mut t) => {
                    let tools = publisher_tools(sv, ctx, &t.server.id, &mut out.problems);
                    let mut e = ctx.entry(&t.server.id, url.as_str());
                    fill_entry(&mut e, sv);
                    t.registry_tools = Some(ctx.data(url.to_string(), tools, e));
                    out.targets.push(t);
                }
                Err(e) => out.problems.push(format!("{what}: {e}; skipped")),
            }
        }
        let next = page
            .pointer("/metadata/nextCursor")
            .or_else(|| page.pointer("/metadata/next_cursor"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        Ok(match next {
            None => Next::End,
            Some(c) => Next::Page {
                url: query(Some(c))?,
                key: c.to_string(),
            },
        })
    })
    .await?;
    Ok(out)
}

/// A `server.json` without a `name` (the one field a target cannot do without).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MissingName;

impl std::fmt::Display for MissingName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no `name`")
    }
}

impl std::error::Error for MissingName {}

/// A target from a `server.json` (official registry, ToolHive upstream).
pub(super) fn from_server_json(sv: &Value) -> Result<Target, MissingName> {
    let name = s(sv, "name").ok_or(MissingName)?;
    let packages_raw: Vec<Value> = sv
        .get("packages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let packages: Vec<Package> = packages_raw
        .iter()
        .filter_map(|p| {
            Some(Package {
                registry: s(p, "registryType")?,
                identifier: s(p, "identifier")?,
                version: s(p, "version"),
                transport: p
                    .pointer("/transport/type")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        })
        .collect();
    let remotes: Vec<Remote> = sv
        .get("remotes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(Remote {
                kind: s(r, "type")?,
                url: s(r, "url")?,
            })
        })
        .collect();
    let how = how_from(&packages_raw, &remotes);
    let server = Server {
        id: name.clone(),
        name: s(sv, "title").unwrap_or_else(|| name.clone()),
        description: s(sv, "description"),
        version: s(sv, "version"),
        repository: repository(sv),
        homepage: s(sv, "websiteUrl"),
        packages,
        remotes,
        ..Server::default()
    };
    Ok(Target {
        slug_base: name.rsplit('/').next().unwrap_or(&name).to_string(),
        server,
        how,
        registry_tools: None,
    })
}

/// `repository.url`, with `repository.subfolder` appended as a `/tree/HEAD/<dir>` path so
/// that servers of one monorepo keep apart.
fn repository(sv: &Value) -> Option<String> {
    let url = sv.pointer("/repository/url").and_then(Value::as_str)?;
    let url = crate::text::truncate_at_char(url.trim(), 1000).trim_end_matches('/');
    if url.is_empty() {
        return None;
    }
    match sv
        .pointer("/repository/subfolder")
        .and_then(Value::as_str)
        .map(|d| d.trim_matches('/'))
        .filter(|d| !d.is_empty())
    {
        Some(dir) => Some(format!("{url}/tree/HEAD/{dir}")),
        None => Some(url.to_string()),
    }
}

/// Version, repository and the environment variables of a `server.json`'s packages.
pub(super) fn fill_entry(e: &mut RegistryEntry, sv: &Value) {
    e.version = s(sv, "version");
    e.repository = repository(sv);
    for p in sv
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for v in p
            .get("environmentVariables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = s(v, "name") else { continue };
            let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
            super::add_env(
                &mut e.env,
                EnvVar {
                    name: crate::text::truncate_at_char(&name, 200).to_string(),
                    description: s(v, "description")
                        .map(|d| crate::text::truncate_at_char(&d, 500).to_string()),
                    required: flag("isRequired"),
                    secret: flag("isSecret"),
                },
            );
        }
    }
}

/// Tool definitions a publisher put under `_meta` (ToolHive's convention:
/// `publisher-provided.<publisher>.<package or URL>.tool_definitions`).
pub(super) fn publisher_tools(
    sv: &Value,
    ctx: &Ctx,
    entry: &str,
    problems: &mut Vec<String>,
) -> Option<(Vec<Tool>, Option<String>)> {
    let mut all = Vec::new();
    for item in publisher_items(sv) {
        if let Some(defs) = item.get("tool_definitions").and_then(Value::as_array) {
            all.extend(defs.iter().cloned());
        }
    }
    if all.is_empty() {
        return None;
    }
    Some(registry_tools(&all, entry, &ctx.limits, problems))
}

/// Every `publisher-provided.<publisher>.<item>` object.
pub(super) fn publisher_items(sv: &Value) -> impl Iterator<Item = &Value> {
    sv.pointer("/_meta/io.modelcontextprotocol.registry~1publisher-provided")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(Value::as_object)
        .flat_map(|m| m.values())
        .filter(|v| v.is_object())
}
