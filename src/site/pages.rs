//! Renders every page of the site from the `Site` summary: server and tool pages in parallel,
//! one server at a time (re-read from its file), then listings, attacks, changes, feeds,
//! sitemaps and the JSON API.

use super::cache::Cache;
use super::markdown::{self, escape_attr, reveal};
use super::output::Output;
use super::templates::Templates;
use super::{Parsed, Site, ToolEntry};
use crate::catalogue::load_server;
use crate::classify::policy::{claude_code_settings, native_policy};
use crate::classify::Classifier;
use crate::model::{Access, Action, Class, Classification, Effect, Risk, Server, Source, Tool};
use anyhow::{anyhow, Context as _, Result};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// Items per listing page.
pub const PER_PAGE: usize = 100;
/// Sibling and similar tools shown on a tool page.
const MAX_SIBLINGS: usize = 30;
const MAX_SIMILAR: usize = 10;
/// Parameters shown on a tool page.
const MAX_PARAMS: usize = 100;
/// Bytes of a crawled string shown in a table cell or snippet.
const MAX_CELL: usize = 600;
/// Bytes of the raw definition shown on a tool page.
const MAX_DEFINITION: usize = 64 * 1024;
/// URLs per sitemap file (the protocol's limit).
pub const SITEMAP_MAX: usize = 50_000;

/// Renders all pages; returns how many HTML pages were produced. Server page groups and
/// listing pages whose inputs have the same digest as in `old` are not rendered again.
/// `parsed` holds, by server index, the records the summary kept in memory; the others are
/// read again from their files.
pub fn render_all(
    site: &Site,
    parsed: Vec<Option<Box<Parsed>>>,
    classifier: &Classifier,
    tpl: &Templates,
    out: &Output,
    old: &Cache,
    new: &mut Cache,
) -> Result<u64> {
    let mut last = std::time::Instant::now();
    let pages = AtomicU64::new(0);
    let sigs = tool_signatures(site);
    let heads = group_heads(site, &sigs);
    super::timing("  tool signatures", &mut last);
    let parts: Vec<(String, Vec<u64>)> = site
        .servers
        .par_iter()
        .zip(parsed.into_par_iter())
        .enumerate()
        .map(|(i, (s, p))| -> Result<(String, Vec<u64>)> {
            let now = server_digests(site, &sigs, &heads, i);
            // Its own digest unchanged and its pages there: only the tool pages whose similar
            // tools changed are rendered again (none, usually). Otherwise all of them.
            let only: Option<Vec<usize>> = match old.servers.get(&s.slug) {
                Some(b)
                    if b.len() == now.len()
                        && b[0] == now[0]
                        && out
                            .resolve(&format!("servers/{}/index.html", s.slug))?
                            .is_file() =>
                {
                    Some(
                        (1..now.len())
                            .filter(|&k| b[k] != now[k])
                            .map(|k| k - 1)
                            .collect(),
                    )
                }
                _ => None,
            };
            if only.as_ref().is_some_and(Vec::is_empty) {
                // Its files are listed in the manifest under its slug, not one by one.
                pages.fetch_add(1 + s.tool_count as u64, Ordering::Relaxed);
                return Ok((s.slug.clone(), now));
            }
            let p = match p {
                Some(p) => p,
                None => {
                    let server = load_server(&s.file).map_err(|e| anyhow!("{e}"))?;
                    let classifications = classifier.classify_server(&server);
                    Box::new(Parsed {
                        server,
                        classifications,
                    })
                }
            };
            let n = render_server(
                site,
                i,
                &p.server,
                &p.classifications,
                tpl,
                out,
                only.as_deref(),
            )
            .with_context(|| format!("server {} ({})", s.id, s.file.display()))?;
            pages.fetch_add(n, Ordering::Relaxed);
            Ok((s.slug.clone(), now))
        })
        .collect::<Result<_>>()?;
    new.servers.extend(parts);
    super::timing("  server pages", &mut last);
    let mut n = pages.load(Ordering::Relaxed);
    n += render_listings(site, &sigs, tpl, out, old, new)?;
    super::timing("  listings", &mut last);
    n += render_misc(site, tpl, out)?;
    super::timing("  other pages", &mut last);
    write_sitemaps(site, out, old, new)?;
    super::timing("  sitemaps", &mut last);
    Ok(n)
}

/// The tools with the same key on other servers that the page of tool `ti` (of server
/// `index`) lists.
fn similar_of(site: &Site, index: usize, ti: usize) -> Vec<&ToolEntry> {
    match site.group_of[ti] {
        super::NO_GROUP => Vec::new(),
        g => site.groups[g as usize]
            .iter()
            .map(|&i| &site.tools[i as usize])
            .filter(|o| o.server as usize != index)
            .take(MAX_SIMILAR)
            .collect(),
    }
}

/// By tool index: a digest of what another tool's page shows of it as a similar tool.
fn tool_signatures(site: &Site) -> Vec<u64> {
    site.tools
        .par_iter()
        .map(|o| {
            let os = &site.servers[o.server as usize];
            super::cache::digest(&(&o.name, &o.slug, &os.slug, &os.name, o.class, o.risk))
        })
        .collect()
}

/// Members of a group beyond `MAX_SIMILAR` kept in its head, for tools of the same server.
const HEAD_SLACK: usize = 6;

/// By group: (server, signature) of its first members, enough to know what the pages of
/// its tools show as similar without visiting the tools themselves (500k random reads at
/// 500k tools were most of a rebuild's digest time).
fn group_heads(site: &Site, sigs: &[u64]) -> Vec<Vec<(u32, u64)>> {
    site.groups
        .par_iter()
        .map(|g| {
            g.iter()
                .take(MAX_SIMILAR + HEAD_SLACK)
                .map(|&i| (site.tools[i as usize].server, sigs[i as usize]))
                .collect()
        })
        .collect()
}

/// The digests of what a server's pages show (`Cache::servers`): first what comes from its
/// own file, then by tool what its page shows of other servers' tools.
fn server_digests(site: &Site, sigs: &[u64], heads: &[Vec<(u32, u64)>], index: usize) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    // Hashed field by field: this runs for every server on every build, so no strings are built.
    let s = &site.servers[index];
    let tools = site.tools_of(s);
    let mut out = Vec::with_capacity(1 + tools.len());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.stamp.hash(&mut h);
    s.file.hash(&mut h);
    s.slug.hash(&mut h);
    for t in tools {
        t.slug.hash(&mut h);
    }
    out.push(h.finish());
    let first = s.first_tool as usize;
    for ti in first..first + tools.len() {
        let g = site.group_of[ti];
        if g == super::NO_GROUP {
            out.push(0);
            continue;
        }
        // What `similar_of` lists, from the head; past it only when this server's own tools
        // filled it.
        let head = &heads[g as usize];
        let members = &site.groups[g as usize];
        let rest = members[head.len()..]
            .iter()
            .map(|&i| (site.tools[i as usize].server, sigs[i as usize]));
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (_, sig) in head
            .iter()
            .copied()
            .chain(rest)
            .filter(|&(server, _)| server as usize != index)
            .take(MAX_SIMILAR)
        {
            sig.hash(&mut h);
        }
        out.push(h.finish());
    }
    out
}

/// Every file a server's pages produce, from its slug and its tools' slugs (the build keeps
/// these per server in the output manifest instead of one line per file).
pub fn server_files(slug: &str, tools: &[&str]) -> Vec<String> {
    let mut v = Vec::with_capacity(4 + 2 * tools.len());
    for f in ["index.html", "policy.json", "claude-code.json"] {
        v.push(format!("servers/{slug}/{f}"));
    }
    v.push(format!("api/servers/{slug}.json"));
    for t in tools {
        v.push(format!("tools/{slug}/{t}/index.html"));
        v.push(format!("api/tools/{slug}/{t}.json"));
    }
    v
}

fn page(site: &Site, title: &str, description: &str, path: &str) -> Value {
    let (d, _) = markdown::cut(description, 300);
    json!({"title": title, "description": d, "canonical": site.abs(path), "path": path})
}

/// `s` ending like a sentence, so that another sentence can follow it.
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    match t.chars().last() {
        Some('.' | '!' | '?' | '…' | ':') | None => t.to_string(),
        Some(_) => format!("{t}."),
    }
}

fn cell(s: &str) -> String {
    let s = reveal(s);
    let (c, was_cut) = markdown::cut(&s, MAX_CELL);
    if was_cut {
        format!("{c}…")
    } else {
        c.to_string()
    }
}

fn risk_label(r: Risk) -> &'static str {
    match r {
        Risk::Low => "Low",
        Risk::Medium => "Medium",
        Risk::High => "High",
        Risk::Critical => "Critical",
    }
}

fn action_label(a: Action) -> &'static str {
    match a {
        Action::Allow => "Allow",
        Action::RateLimit => "Rate-limit",
        Action::RequireApproval => "Require approval",
        Action::Deny => "Deny",
    }
}

/// Counts per risk and class, as template rows with percentages.
pub fn distributions<'a>(tools: impl Iterator<Item = &'a ToolEntry>) -> (Value, Value) {
    let mut risks = [0u64; 4];
    let mut classes = [0u64; 5];
    let mut total = 0u64;
    for t in tools {
        total += 1;
        risks[Risk::ALL.iter().position(|r| *r == t.risk).unwrap_or(0)] += 1;
        classes[Class::ALL.iter().position(|c| *c == t.class).unwrap_or(0)] += 1;
    }
    let pct = |n: u64| (n * 100).checked_div(total).unwrap_or(0);
    let r: Vec<Value> = Risk::ALL
        .iter()
        .zip(risks)
        .map(
            |(r, n)| json!({"key": r.as_str(), "label": risk_label(*r), "count": n, "pct": pct(n)}),
        )
        .collect();
    let c: Vec<Value> = Class::ALL
        .iter()
        .zip(classes)
        .map(|(c, n)| json!({"key": c.as_str(), "label": c.title(), "count": n, "pct": pct(n)}))
        .collect();
    (Value::Array(r), Value::Array(c))
}

/// Renders one server's page, its tool pages, its policy downloads and its API files; with
/// `only` (sorted positions), just the pages of those tools: what else it renders shows
/// nothing of other servers.
pub fn render_server(
    site: &Site,
    index: usize,
    server: &Server,
    cls: &[Classification],
    tpl: &Templates,
    out: &Output,
    only: Option<&[usize]>,
) -> Result<u64> {
    let entry = &site.servers[index];
    let entries = site.tools_of(entry);
    if entries.len() != server.tools.len() {
        anyhow::bail!(
            "{} changed while the site was being built; build again",
            entry.file.display()
        );
    }
    let base = format!("servers/{}/", entry.slug);
    let server_ctx = server_context(site, index, server);

    // A first build knows no folder exists yet: make this server's folders up front rather
    // than let each first write fail and retry (a third of a build's `open` calls).
    if out.is_fresh() {
        out.create_dir(&base)?;
        out.create_dir(&format!("api/tools/{}", entry.slug))?;
        out.create_dir(&format!("tools/{}", entry.slug))?;
        for t in entries {
            out.create_dir(&format!("tools/{}/{}", entry.slug, t.slug))?;
        }
    }

    if only.is_none() {
        render_server_files(site, index, server, cls, &server_ctx, tpl, out)?;
    }

    // What every tool page of this server shares is converted to template values once: they
    // are reference-counted, so each page takes a pointer instead of a deep copy.
    let shared = Shared {
        server: tera::Value::try_from_serializable(&server_ctx)
            .map_err(|e| anyhow!("server context: {e}"))?,
        siblings: entries
            .iter()
            .take(MAX_SIBLINGS + 1)
            .map(|s| {
                tera::Value::try_from_serializable(&json!({"name": s.name, "url": site.tool_url(s),
                    "class": s.class.as_str(), "risk": s.risk.as_str()}))
                .map(|v| (s.slug.as_str(), v))
                .map_err(|e| anyhow!("sibling {}: {e}", s.slug))
            })
            .collect::<Result<_>>()?,
    };
    let mut n = 1;
    for (k, (tool, c)) in server.tools.iter().zip(cls).enumerate() {
        n += 1;
        if only.is_some_and(|o| o.binary_search(&k).is_err()) {
            continue;
        }
        let t = &entries[k];
        let tool_json = tool.to_json();
        let ti = entry.first_tool as usize + k;
        let html = render_tool(site, index, server, &shared, tool, &tool_json, ti, c, tpl)?;
        out.write_owned(
            &format!("tools/{}/{}/index.html", entry.slug, t.slug),
            html.as_bytes(),
        )?;
        if only.is_some() {
            // The API file shows nothing of other servers: it cannot have changed.
            continue;
        }
        #[derive(serde::Serialize)]
        struct ServerRef<'a> {
            id: &'a str,
            slug: &'a str,
            name: &'a str,
        }
        #[derive(serde::Serialize)]
        struct ToolApi<'a> {
            server: ServerRef<'a>,
            tool: Value,
            classification: &'a Classification,
            url: String,
        }
        let api = ToolApi {
            server: ServerRef {
                id: &server.id,
                slug: &entry.slug,
                name: &server.name,
            },
            tool: tool_json,
            classification: c,
            url: site.abs(&site.tool_url(t)),
        };
        out.write_owned(
            &format!("api/tools/{}/{}.json", entry.slug, t.slug),
            &serde_json::to_vec(&api)?,
        )?;
    }
    Ok(n)
}

/// A server's own files (its page, policy downloads, API record): what they show comes from
/// its file alone.
fn render_server_files(
    site: &Site,
    index: usize,
    server: &Server,
    cls: &[Classification],
    server_ctx: &Value,
    tpl: &Templates,
    out: &Output,
) -> Result<()> {
    let entry = &site.servers[index];
    let entries = site.tools_of(entry);
    let base = format!("servers/{}/", entry.slug);
    let url = format!("/{base}");
    // Whole-server policy downloads.
    let native = native_policy(cls);
    let claude = claude_code_settings(&entry.slug, cls);
    out.write_owned(
        &format!("{base}policy.json"),
        serde_json::to_string_pretty(&native)?.as_bytes(),
    )?;
    out.write_owned(
        &format!("{base}claude-code.json"),
        serde_json::to_string_pretty(&claude)?.as_bytes(),
    )?;

    let tools: Vec<Value> = entries
        .iter()
        .map(|t| {
            json!({"name": t.name, "url": site.tool_url(t), "class": t.class.as_str(),
                   "risk": t.risk.as_str(), "action": action_label(t.action), "summary": cell(&t.summary)})
        })
        .collect();
    let (risks, classes) = distributions(entries.iter());
    let desc = format!(
        "{} MCP server: {} tools classified by access, risk and recommended gateway policy.",
        entry.name, entry.tool_count
    );
    let ctx = json!({
        "page": page(site, &format!("{} MCP server", entry.name), &desc, &url),
        "server": server_ctx, "tools": tools, "risks": risks, "classes": classes,
    });
    out.write_owned(
        &format!("{base}index.html"),
        tpl.render("server.html", &ctx)?.as_bytes(),
    )?;

    // API: the record and its classifications.
    #[derive(serde::Serialize)]
    struct ServerApi<'a> {
        server: &'a Server,
        classifications: &'a [Classification],
        url: String,
    }
    let api = ServerApi {
        server,
        classifications: cls,
        url: site.abs(&url),
    };
    out.write_owned(
        &format!("api/servers/{}.json", entry.slug),
        &serde_json::to_vec(&api)?,
    )?;
    Ok(())
}

fn server_context(site: &Site, index: usize, server: &Server) -> Value {
    let e = &site.servers[index];
    let safe = |u: &Option<String>| u.as_deref().map(markdown::safe_url).unwrap_or(false);
    let prov: Vec<Value> = server
        .provenance
        .iter()
        .take(50)
        .map(|p| {
            json!({"source": cell(&p.source), "fetched_at": cell(&p.fetched_at),
                   "protocol_version": p.protocol_version.as_deref().map(cell).unwrap_or_default(),
                   "location": p.location.as_deref().map(cell), "tools": p.tools})
        })
        .collect();
    let packages: Vec<Value> = server
        .packages
        .iter()
        .take(20)
        .map(|p| {
            json!({"registry": cell(&p.registry), "identifier": cell(&p.identifier),
                   "version": p.version.as_deref().map(cell), "transport": p.transport.as_deref().map(cell)})
        })
        .collect();
    let remotes: Vec<Value> = server
        .remotes
        .iter()
        .take(20)
        .map(|r| json!({"kind": cell(&r.kind), "url": cell(&r.url)}))
        .collect();
    json!({
        "id": cell(&server.id), "slug": e.slug, "name": cell(&e.name), "url": format!("/servers/{}/", e.slug),
        "description_html": server.description.as_deref().map(markdown::render),
        "version": server.version.as_deref().map(cell),
        "repository": server.repository.as_deref().map(cell), "repository_safe": safe(&server.repository),
        "homepage": server.homepage.as_deref().map(cell), "homepage_safe": safe(&server.homepage),
        "packages": packages, "remotes": remotes, "provenance": prov,
        "status": e.status.as_str(),
        "last_success": server.crawl.last_success.as_deref().map(cell),
        "last_attempt": server.crawl.last_attempt.as_deref().map(cell),
        "last_error": server.crawl.last_error.as_deref().map(cell),
        "last_crawl": e.last_crawl.as_deref().map(cell),
        "tool_count": e.tool_count, "max_risk": e.max_risk.map(|r| r.as_str()),
    })
}

/// The matched text shown in its context, with the match marked. Everything is escaped.
fn quote_evidence(tool: &Tool, source: Source, text: &str) -> String {
    let haystack: Option<String> = match source {
        Source::Name => Some(tool.name.clone()),
        Source::Description => tool.description.clone(),
        Source::Schema => tool.input_schema.as_ref().map(|s| s.to_string()),
        Source::Annotation => tool.annotations.as_ref().map(|s| s.to_string()),
        _ => None,
    };
    let text = reveal(text);
    let mark = |s: &str| format!("<mark>{}</mark>", escape_attr(s));
    let Some(h) = haystack.map(|h| reveal(&h)) else {
        return mark(&cell(&text));
    };
    if text.is_empty() {
        return escape_attr(&cell(&h));
    }
    let lower_h = h.to_lowercase();
    let lower_t = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII; only quote when offsets line up.
    match lower_h.find(&lower_t) {
        Some(pos)
            if lower_h.len() == h.len()
                && h.is_char_boundary(pos)
                && h.is_char_boundary(pos + text.len()) =>
        {
            let mut a = pos.saturating_sub(80);
            while !h.is_char_boundary(a) {
                a -= 1;
            }
            let mut b = (pos + text.len() + 80).min(h.len());
            while !h.is_char_boundary(b) {
                b += 1;
            }
            format!(
                "{}{}{}{}{}",
                if a > 0 { "…" } else { "" },
                escape_attr(&h[a..pos]),
                mark(&h[pos..pos + text.len()]),
                escape_attr(&h[pos + text.len()..b]),
                if b < h.len() { "…" } else { "" }
            )
        }
        _ => mark(&cell(&text)),
    }
}

/// A row of a tool page's parameter table.
#[derive(serde::Serialize)]
struct Param {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    required: bool,
    description: String,
    values: Option<String>,
}

fn params_of(tool: &Tool) -> (Vec<Param>, bool) {
    let Some(schema) = tool.input_schema.as_ref() else {
        return (vec![], false);
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return (vec![], false);
    };
    let list = props
        .iter()
        .take(MAX_PARAMS)
        .map(|(name, p)| {
            let ty = match p.get("type") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" | "),
                _ => match p
                    .get("anyOf")
                    .or_else(|| p.get("oneOf"))
                    .and_then(Value::as_array)
                {
                    Some(alts) => {
                        let mut names: Vec<&str> = alts
                            .iter()
                            .map(|a| a.get("type").and_then(Value::as_str).unwrap_or("object"))
                            .collect();
                        names.dedup();
                        names.join(" | ")
                    }
                    None => "any".into(),
                },
            };
            let values = p.get("enum").and_then(Value::as_array).map(|a| {
                let mut v: Vec<String> = a
                    .iter()
                    .take(12)
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                if a.len() > 12 {
                    v.push("…".into());
                }
                v.join(", ")
            });
            Param {
                name: cell(name),
                ty: cell(&ty),
                required: required.contains(&name.as_str()),
                description: p
                    .get("description")
                    .and_then(Value::as_str)
                    .map(cell)
                    .unwrap_or_default(),
                values: values.as_deref().map(cell),
            }
        })
        .collect();
    (list, props.len() > MAX_PARAMS)
}

/// A row of a tool page's table of annotations, declared and inferred.
#[derive(serde::Serialize)]
struct AnnotationRow {
    key: &'static str,
    declared: &'static str,
    inferred: &'static str,
    contradiction: bool,
}

fn annotations_of(tool: &Tool, c: &Classification) -> Vec<AnnotationRow> {
    let yn = |b: bool| if b { "true" } else { "false" };
    let has = |e: Effect| c.effects.contains(&e);
    let inferred: [(&'static str, Option<bool>); 4] = [
        ("readOnlyHint", Some(c.access == Access::Read)),
        ("destructiveHint", Some(has(Effect::Destructive))),
        ("idempotentHint", None),
        (
            "openWorldHint",
            Some(has(Effect::Network) || has(Effect::Send) || has(Effect::UntrustedInput)),
        ),
    ];
    inferred
        .iter()
        .map(|(key, inf)| {
            let declared = tool.hint(key);
            // A declared destructiveHint only means something for tools that are not read-only.
            let contradiction = match (declared, inf) {
                (Some(d), Some(i)) => {
                    d != *i && !(*key == "destructiveHint" && c.access == Access::Read)
                }
                _ => false,
            };
            AnnotationRow {
                key,
                declared: declared.map(yn).unwrap_or("not declared"),
                inferred: inf.map(yn).unwrap_or("not inferred"),
                contradiction,
            }
        })
        .collect()
}

/// Template values shared by the tool pages of one server.
struct Shared<'a> {
    server: tera::Value,
    /// The first `MAX_SIBLINGS + 1` tools of the server, by slug.
    siblings: Vec<(&'a str, tera::Value)>,
}

/// What `tool.html` is given (besides `server` and `siblings`, shared by a server's pages).
/// Typed rather than built as JSON: a tool page is most of a build, and this skips building
/// and converting a JSON tree per page.
#[derive(serde::Serialize)]
struct ToolPage<'a> {
    page: Value,
    tool: ToolView<'a>,
    c: ClassView,
    verdict: String,
    params: Vec<Param>,
    params_cut: bool,
    annotations: Vec<AnnotationRow>,
    attacks: Vec<AttackRow<'a>>,
    native_json: String,
    claude_json: String,
    more_siblings: bool,
    similar: Vec<SimilarRow<'a>>,
    faq: [Faq; 6],
    history: Vec<HistoryRow>,
    definition: String,
}

#[derive(serde::Serialize)]
struct ToolView<'a> {
    name: &'a str,
    display: String,
    slug: &'a str,
    description_html: Option<String>,
    truncated_from: Option<u64>,
    has_schema: bool,
}

#[derive(serde::Serialize)]
struct ClassView {
    risk: &'static str,
    risk_label: &'static str,
    class: &'static str,
    class_label: &'static str,
    access: &'static str,
    effects: Vec<&'static str>,
    action: &'static str,
    action_label: &'static str,
    rate_limit: Option<crate::model::RateLimit>,
    reason: String,
    confidence: &'static str,
    rationale: String,
    evidence: Vec<EvidenceRow>,
    findings: Vec<FindingRow>,
}

#[derive(serde::Serialize)]
struct SimilarRow<'a> {
    name: &'a str,
    url: String,
    server: &'a str,
    class: &'static str,
    risk: &'static str,
}

#[derive(serde::Serialize)]
struct EvidenceRow {
    rule: String,
    signal: String,
    source: &'static str,
    quoted: String,
}

#[derive(serde::Serialize)]
struct FindingRow {
    kind: String,
    severity: &'static str,
    message: String,
}

#[derive(serde::Serialize)]
struct AttackRow<'a> {
    id: &'a str,
    title: &'a str,
    defence: &'a str,
}

#[derive(serde::Serialize)]
struct HistoryRow {
    at: String,
    change: String,
    description_before: Option<String>,
}

#[derive(serde::Serialize)]
struct Faq {
    q: String,
    a: String,
}

#[allow(clippy::too_many_arguments)]
fn render_tool(
    site: &Site,
    index: usize,
    server: &Server,
    shared: &Shared,
    tool: &Tool,
    tool_json: &Value,
    ti: usize,
    c: &Classification,
    tpl: &Templates,
) -> Result<String> {
    let t = &site.tools[ti];
    let entry = &site.servers[index];
    let siblings_all = site.tools_of(entry);
    let siblings: Vec<tera::Value> = shared
        .siblings
        .iter()
        .filter(|(slug, _)| *slug != t.slug)
        .take(MAX_SIBLINGS)
        .map(|(_, v)| v.clone())
        .collect();
    let similar: Vec<SimilarRow> = similar_of(site, index, ti)
        .into_iter()
        .map(|o| SimilarRow {
            name: &o.name,
            url: site.tool_url(o),
            server: &site.servers[o.server as usize].name,
            class: o.class.as_str(),
            risk: o.risk.as_str(),
        })
        .collect();
    let evidence: Vec<EvidenceRow> = c
        .evidence
        .iter()
        .take(50)
        .map(|e| EvidenceRow {
            rule: cell(&e.rule),
            signal: cell(&e.signal),
            source: e.source.as_str(),
            quoted: quote_evidence(tool, e.source, &e.text),
        })
        .collect();
    let findings: Vec<FindingRow> = c
        .findings
        .iter()
        .take(50)
        .map(|f| FindingRow {
            kind: cell(&f.kind),
            severity: f.severity.as_str(),
            message: cell(&f.message),
        })
        .collect();
    let attacks: Vec<AttackRow> = site
        .attacks
        .iter()
        .filter(|a| a.applies(c))
        .map(|a| AttackRow {
            id: &a.id,
            title: &a.title,
            defence: &a.defence,
        })
        .collect();
    let (params, params_cut) = params_of(tool);
    let one = native_policy(std::slice::from_ref(c));
    let native_json = serde_json::to_string_pretty(&one)?;
    let claude_json =
        serde_json::to_string_pretty(&claude_code_settings(&entry.slug, std::slice::from_ref(c)))?;
    let history: Vec<HistoryRow> = server
        .history
        .iter()
        .rev()
        .filter(|h| h.tool == tool.name)
        .take(50)
        .map(|h| HistoryRow {
            at: cell(&h.at),
            change: cell(&h.change),
            description_before: h.description_before.as_deref().map(cell),
        })
        .collect();
    let definition = reveal(&serde_json::to_string_pretty(tool_json)?);
    let (def, def_cut) = markdown::cut(&definition, MAX_DEFINITION);
    let definition = if def_cut {
        format!("{def}\n… (shortened for display; the full definition is in the JSON API)")
    } else {
        def.to_string()
    };

    let name = &t.name;
    let sname = &entry.name;
    let risk = risk_label(c.risk);
    let action = action_label(c.policy.action);
    let effects = if c.effects.is_empty() {
        String::new()
    } else {
        format!(
            " with {} effects",
            c.effects
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rate = match c.policy.rate_limit {
        Some(r) => format!(
            "Yes: the recommended rule allows at most {} calls per {} seconds; the native policy carries that limit (Claude Code has no rate limits, so there it is simply allowed).",
            r.max, r.window
        ),
        None => format!(
            "Yes. Add a rate_limit to its rule in the native policy, for example {{\"{}\": {{\"rate_limit\": {{\"max\": 10, \"window\": 60}}}}}}, to cap calls to 10 a minute.",
            reveal(&tool.name)
        ),
    };
    let verdict = format!(
        "{name} is a {} tool on {sname} ({} access{effects}). Risk: {}. Recommended policy: {}{}.",
        c.class.title(),
        c.access,
        risk.to_lowercase(),
        action.to_lowercase(),
        if c.policy.action == Action::Allow {
            ", so it is allowed under a default-deny policy"
        } else {
            ""
        }
    );
    let faq = [
        Faq {
            q: format!("What does {name} do?"),
            a: if t.summary.is_empty() { format!("{sname} gives no description for {name}. toolrisk classifies it as {} access from its name and schema.", c.access) }
                    else { format!("{} toolrisk classifies it as {} access{effects}.", sentence(&cell(&t.summary)), c.access) }},
        Faq {
            q: format!("Which server provides {name}?"),
            a: format!("The {sname} MCP server ({}). It offers {} tools in all.", cell(&server.id), entry.tool_count)},
        Faq {
            q: format!("What is the risk level of {name}?"),
            a: format!("{risk}, with {} confidence. {}", c.confidence, if c.rationale.is_empty() { String::new() } else { cell(&c.rationale) })},
        Faq {
            q: format!("How do I enforce a policy on {name}?"),
            a: format!("Paste the native rule above into your gateway's policy (default deny), or add {} to the {} list of permissions in Claude Code's settings.json.",
                            crate::classify::policy::claude_code_name(&entry.slug, &tool.name),
                            match c.policy.action { Action::Allow | Action::RateLimit => "allow", Action::RequireApproval => "ask", Action::Deny => "deny" })},
        Faq {
            q: format!("Can {name} be rate-limited?"), a: rate},
        Faq {
            q: format!("How do I block {name}?"),
            a: format!("Under a default-deny policy, leave it out of the tools list, or give it {{\"action\": \"deny\"}}. In Claude Code, add {} to permissions.deny.",
                            crate::classify::policy::claude_code_name(&entry.slug, &tool.name))},
    ];
    let desc = format!(
        "{name} on {sname}: {} tool, {} risk, recommended policy {}. {}",
        c.class.title(),
        risk.to_lowercase(),
        action.to_lowercase(),
        t.summary
    );
    let url = site.tool_url(t);
    let ctx = ToolPage {
        page: page(
            site,
            &format!("{name} ({sname}): {} risk {} tool", risk, c.class.title()),
            &desc,
            &url,
        ),
        tool: ToolView {
            name,
            display: cell(tool.display_name()),
            slug: &t.slug,
            description_html: tool
                .description
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(markdown::render),
            truncated_from: tool.description_truncated_from,
            has_schema: tool.input_schema.is_some(),
        },
        c: ClassView {
            risk: c.risk.as_str(),
            risk_label: risk,
            class: c.class.as_str(),
            class_label: c.class.title(),
            access: c.access.as_str(),
            effects: c.effects.iter().map(|e| e.as_str()).collect(),
            action: c.policy.action.as_str(),
            action_label: action,
            rate_limit: c.policy.rate_limit,
            reason: cell(&c.policy.reason),
            confidence: c.confidence.as_str(),
            rationale: cell(&c.rationale),
            evidence,
            findings,
        },
        verdict,
        params,
        params_cut,
        annotations: annotations_of(tool, c),
        attacks,
        native_json,
        claude_json,
        more_siblings: siblings_all.len() > MAX_SIBLINGS + 1,
        similar,
        faq,
        history,
        definition,
    };
    let mut ctx = tera::Context::from_serialize(&ctx).map_err(|e| anyhow!("tool.html: {e}"))?;
    ctx.insert_value("server", shared.server.clone());
    ctx.insert_value("siblings", tera::Value::from(siblings));
    tpl.render_context("tool.html", &ctx)
}

fn pager(base: &str, current: usize, total: usize) -> Value {
    let url = |p: usize| {
        if p == 1 {
            base.to_string()
        } else {
            format!("{base}page/{p}/")
        }
    };
    json!({"current": current, "total": total,
           "prev": (current > 1).then(|| url(current - 1)),
           "next": (current < total).then(|| url(current + 1))})
}

fn page_path(base: &str, p: usize) -> String {
    if p == 1 {
        format!("{}index.html", &base[1..])
    } else {
        format!("{}page/{p}/index.html", &base[1..])
    }
}

/// Paginated listings: `/risk/<level>/`, `/class/<name>/`, `/servers/`.
fn render_listings(
    site: &Site,
    sigs: &[u64],
    tpl: &Templates,
    out: &Output,
    old: &Cache,
    new: &mut Cache,
) -> Result<u64> {
    // (base path, heading, intro, item ids, tabs, kind)
    type Job = (String, String, String, Vec<u32>, Value, &'static str);
    let mut jobs: Vec<Job> = Vec::new();
    let (risks, classes) = distributions(site.tools.iter());
    for r in Risk::ALL.iter().rev() {
        let ids: Vec<u32> = (0..site.tools.len() as u32)
            .filter(|&i| site.tools[i as usize].risk == *r)
            .collect();
        let tabs: Vec<Value> = risks
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .map(|x| json!({"url": format!("/risk/{}/", x["key"].as_str().unwrap_or("")), "label": x["label"], "count": x["count"], "current": x["key"] == r.as_str()}))
            .collect();
        jobs.push((
            format!("/risk/{r}/"),
            format!("{} risk tools", risk_label(*r)),
            format!("Every catalogued MCP tool toolrisk rates {r} risk, by server."),
            ids,
            Value::Array(tabs),
            "tools",
        ));
    }
    for c in Class::ALL {
        let ids: Vec<u32> = (0..site.tools.len() as u32)
            .filter(|&i| site.tools[i as usize].class == *c)
            .collect();
        let tabs: Vec<Value> = classes
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| json!({"url": format!("/class/{}/", x["key"].as_str().unwrap_or("")), "label": x["label"], "count": x["count"], "current": x["key"] == c.as_str()}))
            .collect();
        jobs.push((
            format!("/class/{c}/"),
            format!("{} tools", c.title()),
            format!(
                "Every catalogued MCP tool in the {} class, by server.",
                c.title()
            ),
            ids,
            Value::Array(tabs),
            "tools",
        ));
    }
    jobs.push((
        "/servers/".into(),
        "MCP servers".into(),
        format!(
            "{} catalogued MCP servers, alphabetically.",
            site.servers.len()
        ),
        (0..site.servers.len() as u32).collect(),
        Value::Array(vec![]),
        "servers",
    ));
    let mut units: Vec<(usize, usize)> = Vec::new();
    for (j, job) in jobs.iter().enumerate() {
        let total = job.3.len().div_ceil(PER_PAGE).max(1);
        units.extend((1..=total).map(|p| (j, p)));
    }
    // What a listing shows of a tool: the similar-tool signature covers name, slugs, server
    // name, class and risk; a listing also shows the summary. Once per tool, not per listing.
    let shown: Vec<u64> = site
        .tools
        .par_iter()
        .zip(sigs)
        .map(|(t, sig)| super::cache::digest(&(sig, &t.summary)))
        .collect();
    let tabs_text: Vec<String> = jobs.iter().map(|j| j.4.to_string()).collect();
    let digests: Vec<(String, u64)> = units
        .par_iter()
        .map(|&(j, p)| -> Result<(String, u64)> {
        let (base, heading, intro, ids, tabs, kind) = &jobs[j];
        let total = ids.len().div_ceil(PER_PAGE).max(1);
        let slice = &ids[(p - 1) * PER_PAGE..(p * PER_PAGE).min(ids.len())];
        let rel = page_path(base, p);
        // The digest hashes the page's inputs, not its rendered context: on a rebuild almost
        // every listing page is unchanged, and building 100 items of JSON to learn that is
        // most of the cost.
        let d = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (base, heading, intro, kind, p, total, &site.base_url).hash(&mut h);
            tabs_text[j].hash(&mut h);
            for &i in slice {
                if *kind == "servers" {
                    let s = &site.servers[i as usize];
                    (&s.name, &s.slug, s.max_risk, s.tool_count, &s.summary).hash(&mut h);
                } else {
                    shown[i as usize].hash(&mut h);
                }
            }
            h.finish()
        };
        if old.digests.get(&rel) == Some(&d) && out.resolve(&rel)?.is_file() {
            out.mark(&rel);
            return Ok((rel, d));
        }
        let items: Vec<Value> = slice
            .iter()
            .map(|&i| {
                if *kind == "servers" {
                    let s = &site.servers[i as usize];
                    json!({"name": s.name, "url": format!("/servers/{}/", s.slug),
                           "risk": s.max_risk.map(|r| r.as_str()), "summary": if s.status == crate::model::CrawlStatus::ToolsUnknown { format!("tools not known · {}", cell(&s.summary)) } else { format!("{} tools · {}", s.tool_count, cell(&s.summary)) }})
                } else {
                    let t = &site.tools[i as usize];
                    let s = &site.servers[t.server as usize];
                    json!({"name": t.name, "url": site.tool_url(t), "server": s.name, "server_url": format!("/servers/{}/", s.slug),
                           "class": t.class.as_str(), "risk": t.risk.as_str(), "summary": cell(&t.summary)})
                }
            })
            .collect();
        let path = if p == 1 { base.clone() } else { format!("{base}page/{p}/") };
        let title = if p == 1 { heading.clone() } else { format!("{heading}, page {p}") };
        let ctx = json!({"page": page(site, &title, intro, &path), "heading": title, "intro": intro,
                         "tabs": tabs, "tabs_label": "Filter", "items": items, "kind": kind, "pages": pager(base, p, total)});
        out.write(&rel, tpl.render("list.html", &ctx)?.as_bytes())?;
        Ok((rel, d))
    })
        .collect::<Result<_>>()?;
    new.digests.extend(digests);
    Ok(units.len() as u64)
}

fn xml_escape(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    escape_attr(&s)
}

/// Home, search, 404, attacks, changes (+ Atom), the API index, robots.txt and static files.
fn render_misc(site: &Site, tpl: &Templates, out: &Output) -> Result<u64> {
    let mut n = 0;
    for (path, bytes) in &tpl.statics {
        out.write(path, bytes)?;
    }
    let (risks, classes) = distributions(site.tools.iter());
    let change_rows: Vec<Value> = site
        .changes
        .iter()
        .map(|c| {
            let s = &site.servers[c.server as usize];
            let tool_url = site
                .tools_of(s)
                .iter()
                .find(|t| t.name == reveal(&c.entry.tool))
                .map(|t| site.tool_url(t));
            json!({"at": cell(&c.entry.at), "tool": cell(&c.entry.tool), "change": cell(&c.entry.change),
                   "server_name": s.name, "server_url": format!("/servers/{}/", s.slug), "tool_url": tool_url})
        })
        .collect();
    let counts = json!({"servers": site.servers.len(), "tools": site.tools.len()});
    let home_desc = format!(
        "What {} MCP tools from {} servers can do, how risky each is, and the gateway policy to put on it.",
        site.tools.len(),
        site.servers.len()
    );
    let ctx = json!({"page": page(site, "MCP tool risk catalogue", &home_desc, "/"), "counts": counts,
                     "risks": risks, "classes": classes,
                     "changes": change_rows.iter().take(10).collect::<Vec<_>>()});
    out.write("index.html", tpl.render("home.html", &ctx)?.as_bytes())?;
    let ctx = json!({"page": page(site, "Search MCP tools", "Search every catalogued MCP tool and server by name or description, filtered by class and risk.", "/search/"),
                     "risks": risks, "classes": classes});
    out.write(
        "search/index.html",
        tpl.render("search.html", &ctx)?.as_bytes(),
    )?;
    let ctx = json!({"page": page(site, "Page not found", "There is no page at this address.", "/404.html")});
    out.write("404.html", tpl.render("404.html", &ctx)?.as_bytes())?;
    n += 3;

    // Attack patterns.
    let items: Vec<Value> = site
        .attacks
        .iter()
        .map(|a| json!({"name": a.title, "url": format!("/attacks/{}/", a.id), "risk": null, "summary": a.summary}))
        .collect();
    let ctx = json!({"page": page(site, "Attack patterns", "Attack patterns that abuse MCP tools, and the gateway rules that blunt them.", "/attacks/"),
                     "heading": "Attack patterns", "intro": "Known ways attackers abuse the tools MCP servers give agents. Each tool page lists the patterns that apply to its kind of access.",
                     "tabs": [], "tabs_label": "", "items": items, "kind": "servers", "pages": {"total": 1, "current": 1}});
    out.write(
        "attacks/index.html",
        tpl.render("list.html", &ctx)?.as_bytes(),
    )?;
    n += 1;
    for a in &site.attacks {
        let path = format!("/attacks/{}/", a.id);
        let ctx = json!({"page": page(site, &a.title, &a.summary, &path), "attack": a});
        out.write(
            &format!("attacks/{}/index.html", a.id),
            tpl.render("attack.html", &ctx)?.as_bytes(),
        )?;
        n += 1;
    }

    // Changes and their Atom feed.
    let ctx = json!({"page": page(site, "Tool definition changes", "Recent changes to MCP tool definitions: descriptions, schemas and annotations that changed between crawls.", "/changes/"),
                     "changes": change_rows});
    out.write(
        "changes/index.html",
        tpl.render("changes.html", &ctx)?.as_bytes(),
    )?;
    n += 1;
    let updated = site
        .changes
        .first()
        .map(|c| c.entry.at.clone())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let mut atom = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>toolrisk: MCP tool definition changes</title>\n<id>{}</id>\n<link rel=\"self\" href=\"{}\"/>\n<link href=\"{}\"/>\n<updated>{}</updated>\n",
        xml_escape(&site.abs("/changes/")),
        xml_escape(&site.abs("/changes/atom.xml")),
        xml_escape(&site.abs("/changes/")),
        xml_escape(&updated)
    );
    for (c, row) in site.changes.iter().take(50).zip(&change_rows) {
        let link = row["tool_url"]
            .as_str()
            .or(row["server_url"].as_str())
            .unwrap_or("/");
        let s = &site.servers[c.server as usize];
        atom.push_str(&format!(
            "<entry>\n<title>{} on {}: {}</title>\n<id>{}#{}</id>\n<link href=\"{}\"/>\n<updated>{}</updated>\n<summary>{}</summary>\n</entry>\n",
            xml_escape(&c.entry.tool),
            xml_escape(&s.name),
            xml_escape(&c.entry.change),
            xml_escape(&site.abs(link)),
            xml_escape(&crate::slug::short_hash(&format!("{}{}{}", c.entry.at, c.entry.tool, c.entry.change))),
            xml_escape(&site.abs(link)),
            xml_escape(&c.entry.at),
            xml_escape(&format!("The definition of {} on {} changed ({}).", c.entry.tool, s.name, c.entry.change)),
        ));
    }
    atom.push_str("</feed>\n");
    out.write("changes/atom.xml", atom.as_bytes())?;

    // API index: servers, not tools, so its size grows with servers only. Typed rather than
    // built as JSON values: at 25,000 servers that was most of this function's time.
    #[derive(serde::Serialize)]
    struct ApiServer<'a> {
        id: &'a str,
        slug: &'a str,
        name: &'a str,
        tools: u32,
        max_risk: Option<Risk>,
        api: String,
    }
    #[derive(serde::Serialize)]
    struct ApiIndex<'a> {
        version: u32,
        servers_count: usize,
        tools_count: usize,
        risks: &'a Value,
        classes: &'a Value,
        servers: Vec<ApiServer<'a>>,
    }
    let index = ApiIndex {
        version: 1,
        servers_count: site.servers.len(),
        tools_count: site.tools.len(),
        risks: &risks,
        classes: &classes,
        servers: site
            .servers
            .iter()
            .map(|s| ApiServer {
                id: &s.id,
                slug: &s.slug,
                name: &s.name,
                tools: s.tool_count,
                max_risk: s.max_risk,
                api: format!("/api/servers/{}.json", s.slug),
            })
            .collect(),
    };
    out.write("api/index.json", &serde_json::to_vec(&index)?)?;

    let robots = format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /search/\nSitemap: {}\n",
        site.abs("/sitemap.xml")
    );
    out.write("robots.txt", robots.as_bytes())?;
    Ok(n)
}

/// `sitemap.xml`, or a sitemap index of `sitemaps/<n>.xml` past `SITEMAP_MAX` URLs.
fn write_sitemaps(site: &Site, out: &Output, old: &Cache, new: &mut Cache) -> Result<()> {
    // A rebuild rewrites sitemaps only when a URL came or went: hashing the slugs is far
    // cheaper than formatting and comparing half a million URLs.
    let d = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        site.base_url.hash(&mut h);
        for a in &site.attacks {
            a.id.hash(&mut h);
        }
        for s in &site.servers {
            s.slug.hash(&mut h);
            for t in site.tools_of(s) {
                t.slug.hash(&mut h);
            }
        }
        h.finish()
    };
    const KEY: &str = "sitemap.xml";
    new.digests.insert(KEY.into(), d);
    let count = 4
        + Risk::ALL.len()
        + Class::ALL.len()
        + site.attacks.len()
        + site.servers.len()
        + site.tools.len();
    let mut files = vec![KEY.to_string()];
    if count > SITEMAP_MAX {
        files.extend((1..=count.div_ceil(SITEMAP_MAX)).map(|i| format!("sitemaps/{i}.xml")));
    }
    if old.digests.get(KEY) == Some(&d) {
        let mut all_there = true;
        for f in &files {
            all_there &= out.resolve(f)?.is_file();
        }
        if all_there {
            for f in &files {
                out.mark(f);
            }
            return Ok(());
        }
    }
    let mut urls: Vec<String> = vec![
        "/".into(),
        "/servers/".into(),
        "/attacks/".into(),
        "/changes/".into(),
    ];
    for r in Risk::ALL {
        urls.push(format!("/risk/{r}/"));
    }
    for c in Class::ALL {
        urls.push(format!("/class/{c}/"));
    }
    urls.extend(site.attacks.iter().map(|a| format!("/attacks/{}/", a.id)));
    urls.extend(site.servers.iter().map(|s| format!("/servers/{}/", s.slug)));
    urls.extend(site.tools.iter().map(|t| site.tool_url(t)));
    let file = |chunk: &[String]| {
        let mut x = String::with_capacity(chunk.len() * 80);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for u in chunk {
            x.push_str("<url><loc>");
            x.push_str(&xml_escape(&site.abs(u)));
            x.push_str("</loc></url>\n");
        }
        x.push_str("</urlset>\n");
        x
    };
    if urls.len() <= SITEMAP_MAX {
        return out.write("sitemap.xml", file(&urls).as_bytes());
    }
    let mut index = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (i, chunk) in urls.chunks(SITEMAP_MAX).enumerate() {
        let rel = format!("sitemaps/{}.xml", i + 1);
        out.write(&rel, file(chunk).as_bytes())?;
        index.push_str(&format!(
            "<sitemap><loc>{}</loc></sitemap>\n",
            xml_escape(&site.abs(&format!("/{rel}")))
        ));
    }
    index.push_str("</sitemapindex>\n");
    out.write("sitemap.xml", index.as_bytes())
}
