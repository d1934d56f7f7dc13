//! Registry adapters: read the public MCP registries (official MCP Registry, Glama, Smithery,
//! PulseMCP, ToolHive, Docker) into crawl targets, with the tool definitions a registry
//! carries, what it says about the server (category, tags, environment) and provenance. A
//! malformed entry is reported and skipped; the rest land. Every adapter takes a base URL
//! (or, for the file-based ones, a path) so tests can point it at a local stand-in.
//!
//! Adding a registry: one file here with an `async fn discover(ctx) -> Result<Discovered>`,
//! and one variant of [`Registry`].

mod docker;
mod glama;
mod official;
mod pulsemcp;
mod smithery;
mod toolhive;

pub use docker::docker_tool;

use super::client::normalize_tool;
use super::http::{read_body, response_error, send_with_retry, status_error, Politeness};
use super::scheduler::{How, RegistryData, Target};
use super::Limits;
use crate::model::{EnvVar, Provenance, RegistryEntry, Remote, Tool};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use url::Url;

/// The registries we can read. Adding one: a variant here, its name, default base and
/// `discover` arm below, and its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    Official,
    Glama,
    Smithery,
    PulseMcp,
    ToolHive,
    Docker,
}

impl Registry {
    pub const ALL: &'static [Registry] = &[
        Registry::Official,
        Registry::Glama,
        Registry::Smithery,
        Registry::PulseMcp,
        Registry::ToolHive,
        Registry::Docker,
    ];

    /// The name on the command line and in `provenance[].source`.
    pub fn name(self) -> &'static str {
        match self {
            Registry::Official => "official",
            Registry::Glama => "glama",
            Registry::Smithery => "smithery",
            Registry::PulseMcp => "pulsemcp",
            Registry::ToolHive => "toolhive",
            Registry::Docker => "docker",
        }
    }

    /// Where the registry lives when no `--base-url` is given.
    pub fn default_base(self) -> &'static str {
        match self {
            Registry::Official => "https://registry.modelcontextprotocol.io",
            Registry::Glama => "https://glama.ai/api/mcp",
            Registry::Smithery => "https://api.smithery.ai",
            Registry::PulseMcp => "https://api.pulsemcp.com",
            Registry::ToolHive => "https://raw.githubusercontent.com/stacklok/toolhive-registry/main/pkg/catalog/toolhive/data/registry-upstream.json",
            Registry::Docker => "https://desktop.docker.com/mcp/catalog/v3/catalog.json",
        }
    }

    pub fn parse(name: &str) -> Result<Registry> {
        Registry::ALL
            .iter()
            .copied()
            .find(|r| r.name() == name)
            .ok_or_else(|| {
                anyhow!(
                    "unknown registry `{}` (expected one of: {})",
                    crate::text::truncate_at_char(name, 60),
                    REGISTRIES.join(", ")
                )
            })
    }
}

/// The registries' names, as `provenance[].source` writes them.
pub const REGISTRIES: &[&str] = &[
    "official", "glama", "smithery", "pulsemcp", "toolhive", "docker",
];

/// Whether a provenance source is a registry (its tools are a copy) rather than a live
/// `tools/list`.
pub fn is_registry_source(source: &str) -> bool {
    REGISTRIES.contains(&source)
}

/// Where each registry lives when no `--base-url` is given.
pub fn default_base(registry: &str) -> Option<&'static str> {
    Registry::parse(registry).ok().map(Registry::default_base)
}

/// Settings of one registry read.
pub struct Ctx {
    pub registry: Registry,
    /// Base URL, or a file / folder path for `toolhive` and `docker`.
    pub base: String,
    pub limits: Limits,
    pub polite: Politeness,
    /// Smithery API key (from `SMITHERY_API_KEY`).
    pub api_key: Option<String>,
    /// Official registry: only entries updated after this RFC 3339 time.
    pub updated_since: Option<String>,
    /// Time of this read, for provenance.
    pub fetched_at: String,
    http: reqwest::Client,
}

impl Ctx {
    pub fn new(
        registry: &str,
        base: Option<&str>,
        limits: &Limits,
        polite: Politeness,
    ) -> Result<Ctx> {
        let registry = Registry::parse(registry)?;
        let base = base
            .map(str::to_string)
            .unwrap_or_else(|| registry.default_base().to_string());
        Ok(Ctx {
            registry,
            base: base.trim_end_matches('/').to_string(),
            limits: limits.clone(),
            polite,
            api_key: None,
            updated_since: None,
            fetched_at: super::now_rfc3339(),
            http: super::http::client(limits)?,
        })
    }

    /// The registry's name.
    pub fn name(&self) -> &'static str {
        self.registry.name()
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

    /// Reads a document that is either a URL or a local file (bounded, regular files only).
    async fn get_doc(&self, loc: &str) -> Result<String> {
        if loc.starts_with("http://") || loc.starts_with("https://") {
            let url = Url::parse(loc).with_context(|| format!("bad URL `{loc}`"))?;
            return self.get_text(&url).await;
        }
        read_local(Path::new(loc), &self.limits)
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
            source: self.name().to_string(),
            fetched_at: self.fetched_at.clone(),
            protocol_version: None,
            location: Some(location),
            tools,
        }
    }

    /// A registry entry with the identity fields filled in.
    fn entry(&self, id: &str, location: &str) -> RegistryEntry {
        RegistryEntry {
            source: self.name().to_string(),
            id: id.to_string(),
            location: Some(location.to_string()),
            fetched_at: self.fetched_at.clone(),
            ..RegistryEntry::default()
        }
    }

    /// What the scheduler gets from a registry entry: provenance, tools and facts.
    fn data(
        &self,
        location: String,
        tools: Option<(Vec<Tool>, Option<String>)>,
        mut entry: RegistryEntry,
    ) -> RegistryData {
        entry.tool_definitions = tools.is_some();
        if let Some((t, _)) = &tools {
            let mut names: Vec<String> = t.iter().map(|t| t.name.clone()).collect();
            names.sort();
            names.dedup();
            entry.tool_names = names;
        }
        RegistryData {
            provenance: self.provenance(location, tools.is_some()),
            tools,
            entry: Some(entry),
        }
    }
}

/// Reads a local registry file: a regular file of at most the crawl's total-bytes limit, and
/// for YAML, not nested deeper than the shared limit.
pub fn read_local(path: &Path, limits: &Limits) -> Result<String> {
    let text = crate::bounded::read_text(path, limits.max_total_bytes as u64)?;
    Ok(text)
}

/// Parses YAML from a registry file after the depth check.
pub fn parse_yaml(path: &Path, text: &str) -> Result<Value> {
    crate::bounded::check_yaml_depth(text, crate::bounded::MAX_YAML_DEPTH)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    serde_yaml::from_str(text)
        .map_err(|e| anyhow!("{}: {}", path.display(), crate::catalogue::yaml_error(&e)))
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
    match ctx.registry {
        Registry::Official => official::discover(ctx).await,
        Registry::Glama => glama::discover(ctx).await,
        Registry::Smithery => smithery::discover(ctx).await,
        Registry::PulseMcp => pulsemcp::discover(ctx).await,
        Registry::ToolHive => toolhive::discover(ctx).await,
        Registry::Docker => docker::discover(ctx).await,
    }
}

// ---------------------------------------------------------------------------------------
// Pagination, shared by every paged registry

/// What a page handler says comes next.
pub(crate) enum Next {
    /// The last page.
    End,
    /// The next page: a URL on the same host as the first. `key` is what must not repeat
    /// (the cursor, offset or page number), for the report.
    Page { url: Url, key: String },
}

/// Walks a paged listing from `first`: fetches each page as JSON, hands it to `on_page`
/// (which adds targets and problems and says what comes next), and stops at the end, at the
/// page cap, on a repeated cursor, or on a next page on another host (each but the end
/// reported as a problem). A page that cannot be fetched or is not JSON is an error.
pub(crate) async fn paginate<F>(
    ctx: &Ctx,
    first: Url,
    out: &mut Discovered,
    mut on_page: F,
) -> Result<()>
where
    F: FnMut(&Value, &Url, &mut Discovered) -> Result<Next>,
{
    let what = ctx.name();
    let mut seen: HashSet<String> = HashSet::new();
    let mut url = first;
    let mut fetched = 0usize;
    loop {
        if fetched >= ctx.limits.max_pages {
            out.problems.push(format!(
                "{what}: stopped after {} pages",
                ctx.limits.max_pages
            ));
            return Ok(());
        }
        let page = ctx.get_json(&url).await?;
        fetched += 1;
        out.pages += 1;
        match on_page(&page, &url, out)? {
            Next::End => return Ok(()),
            Next::Page { url: next, key } => {
                if !seen.insert(key.clone()) {
                    out.problems.push(format!(
                        "{what}: the registry repeated the cursor {key:?}; stopped"
                    ));
                    return Ok(());
                }
                if next.host_str() != url.host_str() || next.port() != url.port() {
                    out.problems.push(format!(
                        "{what}: the next page points to another host ({next}); stopped"
                    ));
                    return Ok(());
                }
                url = next;
            }
        }
    }
}

/// The `servers` array of a page, or an error naming the URL.
fn servers_array<'a>(page: &'a Value, url: &Url) -> Result<&'a Vec<Value>> {
    page.get("servers")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("{url}: no `servers` array"))
}

// ---------------------------------------------------------------------------------------
// Shared conversions

/// A non-empty string field, cut to 4 KiB.
fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|x| !x.trim().is_empty())
        .map(|x| super::truncate_str(x, 4096).to_string())
}

/// A list of short strings (tags), cut to 64 entries of 200 bytes.
fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|x| !x.trim().is_empty())
        .take(64)
        .map(|x| super::truncate_str(x, 200).to_string())
        .collect()
}

/// Adds `var` to `env`, or merges it into the entry of the same name.
fn add_env(env: &mut Vec<EnvVar>, var: EnvVar) {
    if var.name.is_empty() || env.len() >= 256 {
        return;
    }
    if let Some(old) = env.iter_mut().find(|e| e.name == var.name) {
        old.required |= var.required;
        old.secret |= var.secret;
        if old.description.is_none() {
            old.description = var.description;
        }
    } else {
        env.push(var);
    }
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
