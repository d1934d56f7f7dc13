//! Registry adapters: read the public MCP registries (official MCP Registry, Glama, Smithery,
//! PulseMCP, ToolHive, Docker) into crawl targets, with the tool definitions a registry
//! carries and their provenance. A malformed entry is reported and skipped; the rest land.
//! Every adapter takes a base URL (or, for the file-based ones, a path) so tests can point
//! it at a local stand-in.

use super::client::normalize_tool;
use super::http::{read_body, response_error, send_with_retry, status_error, Politeness};
use super::scheduler::{How, RegistryData, Target};
use super::Limits;
use crate::model::{Package, Provenance, Remote, Server, Tool};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use url::Url;

/// The registries we can read.
pub const REGISTRIES: &[&str] = &[
    "official", "glama", "smithery", "pulsemcp", "toolhive", "docker",
];

/// Where each registry lives when no `--base-url` is given.
pub fn default_base(registry: &str) -> Option<&'static str> {
    Some(match registry {
        "official" => "https://registry.modelcontextprotocol.io",
        "glama" => "https://glama.ai/api/mcp",
        "smithery" => "https://api.smithery.ai",
        "pulsemcp" => "https://api.pulsemcp.com",
        "toolhive" => "https://raw.githubusercontent.com/stacklok/toolhive-registry/main/pkg/catalog/toolhive/data/registry-upstream.json",
        "docker" => "https://desktop.docker.com/mcp/catalog/v3/catalog.json",
        _ => return None,
    })
}

/// Settings of one registry read.
pub struct Ctx {
    pub registry: String,
    /// Base URL, or a file / folder path for `toolhive` and `docker`.
    pub base: String,
    pub limits: Limits,
    pub polite: Politeness,
    /// Smithery API key (from `SMITHERY_API_KEY`).
    pub api_key: Option<String>,
    /// Official registry: only entries updated after this RFC 3339 time.
    pub updated_since: Option<String>,
    http: reqwest::Client,
}

impl Ctx {
    pub fn new(
        registry: &str,
        base: Option<&str>,
        limits: &Limits,
        polite: Politeness,
    ) -> Result<Ctx> {
        if !REGISTRIES.contains(&registry) {
            bail!(
                "unknown registry `{registry}` (expected one of: {})",
                REGISTRIES.join(", ")
            );
        }
        let base = base
            .map(str::to_string)
            .or_else(|| default_base(registry).map(str::to_string))
            .unwrap_or_default();
        Ok(Ctx {
            registry: registry.to_string(),
            base: base.trim_end_matches('/').to_string(),
            limits: limits.clone(),
            polite,
            api_key: None,
            updated_since: None,
            http: super::http::client(limits).map_err(|e| anyhow!(e))?,
        })
    }

    async fn get_json(&self, url: &Url) -> Result<Value> {
        let key = self.api_key.clone();
        let resp = send_with_retry(
            || {
                let mut rb = self
                    .http
                    .get(url.clone())
                    .timeout(self.limits.request_timeout)
                    .header("accept", "application/json");
                if let Some(k) = &key {
                    rb = rb.bearer_auth(k);
                }
                rb
            },
            &self.limits,
            &self.polite,
            url,
        )
        .await
        .map_err(|e| anyhow!(e.message))?;
        let status = resp.status();
        if !status.is_success() {
            bail!("{}", response_error(&resp, url));
        }
        let body = read_body(resp, self.limits.max_total_bytes)
            .await
            .map_err(|e| anyhow!(e.message))?;
        serde_json::from_slice(&body).with_context(|| format!("{url}: the body is not JSON"))
    }

    /// Reads a document that is either a URL or a local file.
    async fn get_doc(&self, loc: &str) -> Result<String> {
        if loc.starts_with("http://") || loc.starts_with("https://") {
            let url = Url::parse(loc).with_context(|| format!("bad URL `{loc}`"))?;
            let v = self.get_text(&url).await?;
            return Ok(v);
        }
        let meta = std::fs::metadata(loc).with_context(|| format!("reading {loc}"))?;
        if meta.len() as usize > self.limits.max_total_bytes {
            bail!("{loc}: over the {} byte limit", self.limits.max_total_bytes);
        }
        std::fs::read_to_string(loc).with_context(|| format!("reading {loc}"))
    }

    async fn get_text(&self, url: &Url) -> Result<String> {
        let resp = send_with_retry(
            || {
                self.http
                    .get(url.clone())
                    .timeout(self.limits.request_timeout)
            },
            &self.limits,
            &self.polite,
            url,
        )
        .await
        .map_err(|e| anyhow!(e.message))?;
        if !resp.status().is_success() {
            bail!("{}", status_error(resp.status(), url, None));
        }
        let body = read_body(resp, self.limits.max_total_bytes)
            .await
            .map_err(|e| anyhow!(e.message))?;
        String::from_utf8(body).map_err(|_| anyhow!("{url}: the body is not UTF-8"))
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url> {
        let mut u = Url::parse(&format!("{}{path}", self.base))
            .with_context(|| format!("bad --base-url `{}`", self.base))?;
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        if u.query() == Some("") {
            u.set_query(None);
        }
        Ok(u)
    }

    fn provenance(&self, location: String, tools: bool) -> Provenance {
        Provenance {
            source: self.registry.clone(),
            fetched_at: super::now_rfc3339(),
            protocol_version: None,
            location: Some(location),
            tools,
        }
    }
}

/// What a registry read produced.
#[derive(Debug, Default)]
pub struct Discovered {
    pub targets: Vec<Target>,
    /// Malformed entries and other problems, each naming the entry.
    pub problems: Vec<String>,
    /// Entries the registry marks deleted (official registry), skipped.
    pub deleted: usize,
    /// Pages read.
    pub pages: usize,
}

/// Reads a registry.
pub async fn discover(ctx: &Ctx) -> Result<Discovered> {
    match ctx.registry.as_str() {
        "official" => official(ctx).await,
        "glama" => glama(ctx).await,
        "smithery" => smithery(ctx).await,
        "pulsemcp" => pulsemcp(ctx).await,
        "toolhive" => toolhive(ctx).await,
        "docker" => docker(ctx).await,
        other => bail!("unknown registry `{other}`"),
    }
}

// ---------------------------------------------------------------------------------------
// Shared conversions

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|x| !x.trim().is_empty())
        .map(|x| super::truncate_str(x, 4096).to_string())
}

/// Tools from a registry's list, normalised; malformed ones become problems naming the
/// entry.
fn registry_tools(
    list: &[Value],
    entry: &str,
    limits: &Limits,
    problems: &mut Vec<String>,
) -> (Vec<Tool>, Option<String>) {
    let mut tools = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        if tools.len() >= limits.max_tools {
            bad.push(format!("more than {} tools", limits.max_tools));
            break;
        }
        match Tool::from_json(raw) {
            Ok(t) => tools.push(normalize_tool(t, limits)),
            Err(e) => bad.push(format!("tool #{}: {e}", i + 1)),
        }
    }
    for b in &bad {
        problems.push(format!("{entry}: {b}"));
    }
    let partial = (!bad.is_empty()).then(|| bad.join("; "));
    (tools, partial)
}

/// How to reach a server from its packages and remotes: a remote URL without templates
/// first, else an npm / PyPI stdio package launched with dummy values for required env.
fn how_from(packages: &[Value], remotes: &[Remote]) -> How {
    if let Some(r) = remotes.iter().find(|r| !r.url.contains('{')) {
        return How::Url(r.url.clone());
    }
    for p in packages {
        let reg = s(p, "registryType").unwrap_or_default();
        let Some(id) = s(p, "identifier") else {
            continue;
        };
        let transport = p
            .pointer("/transport/type")
            .and_then(Value::as_str)
            .unwrap_or("stdio");
        if transport != "stdio" {
            continue;
        }
        let ver = s(p, "version");
        let argv = match reg.as_str() {
            "npm" => vec![
                "npx".to_string(),
                "-y".into(),
                match &ver {
                    Some(v) => format!("{id}@{v}"),
                    None => id.clone(),
                },
            ],
            "pypi" => vec![
                "uvx".to_string(),
                match &ver {
                    Some(v) => format!("{id}=={v}"),
                    None => id.clone(),
                },
            ],
            _ => continue,
        };
        let mut env = BTreeMap::new();
        for e in p
            .get("environmentVariables")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = s(e, "name") {
                let value = s(e, "default").unwrap_or_else(|| "dummy".into());
                if e.get("isRequired")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
                    || e.get("default").is_some()
                {
                    env.insert(name, value);
                }
            }
        }
        return How::Launch {
            argv,
            env,
            pass_env: Vec::new(),
            files: BTreeMap::new(),
        };
    }
    How::None
}

/// A target from an official-registry `server.json` (also used by ToolHive's upstream
/// format, which embeds the same shape).
fn from_server_json(sv: &Value, id_prefix: &str) -> Result<(Target, Vec<Value>), String> {
    let name = s(sv, "name").ok_or("no `name`")?;
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
        id: format!("{id_prefix}{name}"),
        name: s(sv, "title").unwrap_or_else(|| name.clone()),
        description: s(sv, "description"),
        version: s(sv, "version"),
        repository: sv
            .pointer("/repository/url")
            .and_then(Value::as_str)
            .map(str::to_string),
        homepage: s(sv, "websiteUrl"),
        packages,
        remotes,
        ..Server::default()
    };
    Ok((
        Target {
            slug_base: name.rsplit('/').next().unwrap_or(&name).to_string(),
            server,
            how,
            registry_tools: None,
        },
        packages_raw,
    ))
}

/// Follows an opaque cursor; stops on a repeated one or at the page cap.
struct Pager {
    seen: HashSet<String>,
    pages: usize,
    max: usize,
}

impl Pager {
    fn new(max: usize) -> Pager {
        Pager {
            seen: HashSet::new(),
            pages: 0,
            max,
        }
    }
    /// Registers a page; false when the cap is reached.
    fn page(&mut self) -> bool {
        self.pages += 1;
        self.pages <= self.max
    }
    /// Accepts the next cursor; false at the end or on a repeat (with a problem).
    fn next(&mut self, c: Option<&str>, problems: &mut Vec<String>, what: &str) -> bool {
        match c.filter(|c| !c.is_empty()) {
            None => false,
            Some(c) => {
                if self.seen.insert(c.to_string()) {
                    true
                } else {
                    problems.push(format!(
                        "{what}: the registry repeated the cursor {c:?}; stopped"
                    ));
                    false
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Official MCP Registry (v0.1)

async fn official(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered::default();
    let mut pager = Pager::new(ctx.limits.max_pages);
    let mut cursor: Option<String> = None;
    loop {
        if !pager.page() {
            out.problems.push(format!(
                "official: stopped after {} pages",
                ctx.limits.max_pages
            ));
            break;
        }
        let mut q = vec![
            ("limit", "100".to_string()),
            ("version", "latest".to_string()),
        ];
        if let Some(since) = &ctx.updated_since {
            q.push(("updated_since", since.clone()));
        }
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let url = ctx.url("/v0.1/servers", &q)?;
        let page = ctx.get_json(&url).await?;
        out.pages += 1;
        let list = page
            .get("servers")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("{url}: no `servers` array"))?;
        for (i, entry) in list.iter().enumerate() {
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
            match from_server_json(sv, "") {
                Ok((mut t, _)) => {
                    let tools = publisher_tools(sv, ctx, &t.server.id, &mut out.problems);
                    t.registry_tools = Some(RegistryData {
                        provenance: ctx.provenance(url.to_string(), tools.is_some()),
                        tools,
                    });
                    out.targets.push(t);
                }
                Err(e) => out.problems.push(format!("{what}: {e}; skipped")),
            }
        }
        let next = page
            .pointer("/metadata/nextCursor")
            .or_else(|| page.pointer("/metadata/next_cursor"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if !pager.next(next.as_deref(), &mut out.problems, "official") {
            break;
        }
        cursor = next;
    }
    Ok(out)
}

/// Tool definitions a publisher put under `_meta` (ToolHive's convention:
/// `publisher-provided.<publisher>.<package or URL>.tool_definitions`).
fn publisher_tools(
    sv: &Value,
    ctx: &Ctx,
    entry: &str,
    problems: &mut Vec<String>,
) -> Option<(Vec<Tool>, Option<String>)> {
    let pp = sv.pointer("/_meta/io.modelcontextprotocol.registry~1publisher-provided")?;
    let mut all = Vec::new();
    for publisher in pp.as_object()?.values() {
        for item in publisher.as_object().into_iter().flat_map(|m| m.values()) {
            if let Some(defs) = item.get("tool_definitions").and_then(Value::as_array) {
                all.extend(defs.iter().cloned());
            }
        }
    }
    if all.is_empty() {
        return None;
    }
    Some(registry_tools(&all, entry, &ctx.limits, problems))
}

// ---------------------------------------------------------------------------------------
// Glama

async fn glama(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered::default();
    let mut pager = Pager::new(ctx.limits.max_pages);
    let mut after: Option<String> = None;
    loop {
        if !pager.page() {
            out.problems.push(format!(
                "glama: stopped after {} pages",
                ctx.limits.max_pages
            ));
            break;
        }
        let mut q = vec![("first", "100".to_string())];
        if let Some(a) = &after {
            q.push(("after", a.clone()));
        }
        let url = ctx.url("/v1/servers", &q)?;
        let page = ctx.get_json(&url).await?;
        out.pages += 1;
        let list = page
            .get("servers")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("{url}: no `servers` array"))?;
        for (i, e) in list.iter().enumerate() {
            let what = format!("glama {url} entry #{}", i + 1);
            let (Some(ns), Some(slug)) = (s(e, "namespace"), s(e, "slug")) else {
                out.problems
                    .push(format!("{what}: no `namespace`/`slug`; skipped"));
                continue;
            };
            let id = format!("glama:{ns}/{slug}");
            let tools = match e.get("tools") {
                Some(Value::Array(a)) if !a.is_empty() => {
                    Some(registry_tools(a, &id, &ctx.limits, &mut out.problems))
                }
                Some(Value::Array(_)) | None | Some(Value::Null) => None,
                Some(other) => {
                    out.problems.push(format!(
                        "{what}: `tools` is {}, not a list; tools skipped",
                        crate::model::json_kind(other)
                    ));
                    None
                }
            };
            out.targets.push(Target {
                slug_base: format!("{ns}-{slug}"),
                server: Server {
                    id,
                    name: s(e, "name").unwrap_or_else(|| slug.clone()),
                    description: s(e, "description"),
                    repository: e
                        .pointer("/repository/url")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    homepage: s(e, "url"),
                    ..Server::default()
                },
                how: How::None,
                registry_tools: Some(RegistryData {
                    provenance: ctx.provenance(url.to_string(), tools.is_some()),
                    tools,
                }),
            });
        }
        let has_next = page
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let end = page.pointer("/pageInfo/endCursor").and_then(Value::as_str);
        if !has_next || !pager.next(end, &mut out.problems, "glama") {
            break;
        }
        after = end.map(str::to_string);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Smithery (API key required)

async fn smithery(ctx: &Ctx) -> Result<Discovered> {
    if ctx.api_key.is_none() {
        bail!("Smithery needs an API key: set SMITHERY_API_KEY (https://smithery.ai/account/api-keys)");
    }
    let mut out = Discovered::default();
    let mut page_no = 1u64;
    let mut names = Vec::new();
    loop {
        if page_no as usize > ctx.limits.max_pages {
            out.problems.push(format!(
                "smithery: stopped after {} pages",
                ctx.limits.max_pages
            ));
            break;
        }
        let url = ctx.url(
            "/servers",
            &[
                ("page", page_no.to_string()),
                ("pageSize", "100".to_string()),
            ],
        )?;
        let page = ctx.get_json(&url).await?;
        out.pages += 1;
        let list = page
            .get("servers")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("{url}: no `servers` array"))?;
        for (i, e) in list.iter().enumerate() {
            match s(e, "qualifiedName") {
                Some(q) => names.push(q),
                None => out.problems.push(format!(
                    "smithery {url} entry #{}: no `qualifiedName`; skipped",
                    i + 1
                )),
            }
        }
        let total = page
            .pointer("/pagination/totalPages")
            .and_then(Value::as_u64)
            .unwrap_or(page_no);
        if page_no >= total || list.is_empty() {
            break;
        }
        page_no += 1;
    }
    for q in names {
        let mut url = ctx.url("/servers", &[])?;
        {
            // The qualified name is one path segment (`/` encoded as %2F).
            let Ok(mut segs) = url.path_segments_mut() else {
                bail!("bad --base-url `{}`", ctx.base)
            };
            segs.push(&q);
        }
        let d = match ctx.get_json(&url).await {
            Ok(d) => d,
            Err(e) => {
                out.problems.push(format!("smithery {q}: {e:#}; skipped"));
                continue;
            }
        };
        let id = format!("smithery:{q}");
        let tools = match d.get("tools") {
            Some(Value::Array(a)) if !a.is_empty() => {
                Some(registry_tools(a, &id, &ctx.limits, &mut out.problems))
            }
            _ => None,
        };
        let remote = d
            .get("connections")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| s(c, "type").as_deref() == Some("http"))
            .and_then(|c| s(c, "deploymentUrl"))
            .or_else(|| s(&d, "deploymentUrl"));
        let remotes: Vec<Remote> = remote
            .into_iter()
            .map(|u| Remote {
                kind: "streamable-http".into(),
                url: u,
            })
            .collect();
        out.targets.push(Target {
            slug_base: q.trim_start_matches('@').to_string(),
            how: remotes
                .first()
                .map(|r| How::Url(r.url.clone()))
                .unwrap_or(How::None),
            server: Server {
                id,
                name: s(&d, "displayName").unwrap_or_else(|| q.clone()),
                description: s(&d, "description"),
                homepage: s(&d, "homepage"),
                remotes,
                ..Server::default()
            },
            registry_tools: Some(RegistryData {
                provenance: ctx.provenance(url.to_string(), tools.is_some()),
                tools,
            }),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// PulseMCP (no tool definitions)

async fn pulsemcp(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered::default();
    let mut url = ctx.url(
        "/v0beta/servers",
        &[
            ("count_per_page", "5000".to_string()),
            ("offset", "0".to_string()),
        ],
    )?;
    let mut pager = Pager::new(ctx.limits.max_pages);
    loop {
        if !pager.page() {
            out.problems.push(format!(
                "pulsemcp: stopped after {} pages",
                ctx.limits.max_pages
            ));
            break;
        }
        let page = ctx.get_json(&url).await?;
        out.pages += 1;
        let list = page
            .get("servers")
            .and_then(Value::as_array)
            .ok_or_else(|| anyhow!("{url}: no `servers` array"))?;
        for (i, e) in list.iter().enumerate() {
            let Some(name) = s(e, "name") else {
                out.problems.push(format!(
                    "pulsemcp {url} entry #{}: no `name`; skipped",
                    i + 1
                ));
                continue;
            };
            let package = match (s(e, "package_registry"), s(e, "package_name")) {
                (Some(r), Some(n)) => Some(Package {
                    registry: r,
                    identifier: n,
                    version: None,
                    transport: None,
                }),
                _ => None,
            };
            let remotes: Vec<Remote> = e
                .get("remotes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some(Remote {
                        kind: s(r, "transport").unwrap_or_else(|| "streamable-http".into()),
                        url: s(r, "url_direct")?,
                    })
                })
                .collect();
            let id = match &package {
                Some(p) => format!("{}:{}", p.registry, p.identifier),
                None => format!("pulsemcp:{name}"),
            };
            out.targets.push(Target {
                slug_base: package
                    .as_ref()
                    .map(|p| p.identifier.clone())
                    .unwrap_or_else(|| name.clone()),
                how: remotes
                    .first()
                    .map(|r| How::Url(r.url.clone()))
                    .unwrap_or(How::None),
                server: Server {
                    id,
                    name,
                    description: s(e, "short_description"),
                    repository: s(e, "source_code_url"),
                    homepage: s(e, "external_url").or_else(|| s(e, "url")),
                    packages: package.into_iter().collect(),
                    remotes,
                    ..Server::default()
                },
                registry_tools: Some(RegistryData {
                    provenance: ctx.provenance(url.to_string(), false),
                    tools: None,
                }),
            });
        }
        // `next` is an absolute URL: follow it only on the same host.
        let next = page
            .get("next")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let Some(next) = next else { break };
        if !pager.next(Some(next), &mut out.problems, "pulsemcp") {
            break;
        }
        let n = url
            .join(next)
            .with_context(|| format!("pulsemcp: bad `next` URL {next:?}"))?;
        if n.host_str() != url.host_str() {
            out.problems.push(format!(
                "pulsemcp: `next` points to another host ({n}); stopped"
            ));
            break;
        }
        url = n;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// ToolHive (a file or URL; upstream format with tool definitions, or legacy with names)

async fn toolhive(ctx: &Ctx) -> Result<Discovered> {
    let text = ctx.get_doc(&ctx.base).await?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", ctx.base))?;
    let mut out = Discovered {
        pages: 1,
        ..Discovered::default()
    };
    if let Some(list) = doc.pointer("/data/servers").and_then(Value::as_array) {
        for (i, sv) in list.iter().enumerate() {
            match from_server_json(sv, "") {
                Ok((mut t, _)) => {
                    let tools = publisher_tools(sv, ctx, &t.server.id, &mut out.problems);
                    t.registry_tools = Some(RegistryData {
                        provenance: ctx.provenance(ctx.base.clone(), tools.is_some()),
                        tools,
                    });
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
            out.targets.push(Target {
                slug_base: name.clone(),
                how: remotes
                    .first()
                    .map(|r| How::Url(r.url.clone()))
                    .unwrap_or(How::None),
                server: Server {
                    id: format!("toolhive:{name}"),
                    name: name.clone(),
                    description: s(e, "description"),
                    repository: s(e, "repository_url"),
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
                registry_tools: Some(RegistryData {
                    provenance: ctx.provenance(ctx.base.clone(), false),
                    tools: None,
                }),
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

// ---------------------------------------------------------------------------------------
// Docker MCP Catalog (a checkout of docker/mcp-registry, or its catalog file)

async fn docker(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered {
        pages: 1,
        ..Discovered::default()
    };
    let base = ctx.base.clone();
    let dir = Path::new(&base).join("servers");
    if !base.starts_with("http") && dir.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        entries.sort();
        for p in entries {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let yaml = p.join("server.yaml");
            let text = match std::fs::read_to_string(&yaml) {
                Ok(t) => t,
                Err(e) => {
                    out.problems
                        .push(format!("docker {}: {e}; skipped", yaml.display()));
                    continue;
                }
            };
            let v: Value = match serde_yaml::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    out.problems.push(format!(
                        "docker {}: {}; skipped",
                        yaml.display(),
                        crate::catalogue::yaml_error(&e)
                    ));
                    continue;
                }
            };
            let tools_path = p.join("tools.json");
            let tools = if tools_path.is_file() {
                match std::fs::read_to_string(&tools_path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
                {
                    Ok(Value::Array(a)) if !a.is_empty() => {
                        let conv: Vec<Value> = a.iter().map(docker_tool).collect();
                        Some(registry_tools(&conv, &name, &ctx.limits, &mut out.problems))
                    }
                    Ok(_) => None,
                    Err(e) => {
                        out.problems
                            .push(format!("docker {}: {e}", tools_path.display()));
                        None
                    }
                }
            } else {
                None
            };
            out.targets.push(docker_target(
                &name,
                &v,
                tools,
                ctx,
                yaml.display().to_string(),
            ));
        }
        return Ok(out);
    }
    let text = ctx.get_doc(&base).await?;
    let doc: Value = if base.ends_with(".yaml") || base.ends_with(".yml") {
        serde_yaml::from_str(&text)
            .map_err(|e| anyhow!("{base}: {}", crate::catalogue::yaml_error(&e)))?
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
        out.targets
            .push(docker_target(name, tile, tools, ctx, base.clone()));
    }
    Ok(out)
}

fn docker_target(
    name: &str,
    v: &Value,
    tools: Option<(Vec<Tool>, Option<String>)>,
    ctx: &Ctx,
    location: String,
) -> Target {
    let remote_url = v
        .pointer("/remote/url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let remotes: Vec<Remote> = remote_url
        .iter()
        .map(|u| Remote {
            kind: v
                .pointer("/remote/transport_type")
                .and_then(Value::as_str)
                .unwrap_or("streamable-http")
                .to_string(),
            url: u.clone(),
        })
        .collect();
    Target {
        slug_base: format!("docker-{name}"),
        how: remotes
            .first()
            .map(|r| How::Url(r.url.clone()))
            .unwrap_or(How::None),
        server: Server {
            id: format!("docker:{name}"),
            name: v
                .pointer("/about/title")
                .or_else(|| v.get("title"))
                .and_then(Value::as_str)
                .unwrap_or(name)
                .to_string(),
            description: v
                .pointer("/about/description")
                .or_else(|| v.get("description"))
                .and_then(Value::as_str)
                .map(str::to_string),
            repository: v
                .pointer("/source/project")
                .or_else(|| v.get("upstream"))
                .and_then(Value::as_str)
                .map(str::to_string),
            packages: v
                .get("image")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
                .map(|i| Package {
                    registry: "oci".into(),
                    identifier: i.to_string(),
                    version: None,
                    transport: Some("stdio".into()),
                })
                .into_iter()
                .collect(),
            remotes,
            ..Server::default()
        },
        registry_tools: Some(RegistryData {
            provenance: ctx.provenance(location, tools.is_some()),
            tools,
        }),
    }
}

/// Converts a Docker `tools.json` entry (`arguments: [{name, type, desc, items, optional}]`)
/// to an MCP tool with a JSON Schema `inputSchema`; other fields are kept as they are.
pub fn docker_tool(t: &Value) -> Value {
    let Some(obj) = t.as_object() else {
        return t.clone();
    };
    let mut out = Map::new();
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
    for (k, v) in obj {
        match k.as_str() {
            "arguments" | "parameters" | "container" => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
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
}
