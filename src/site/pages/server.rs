//! A server's own files: its page, policy downloads, API records, and its tools' pages.

use super::*;

/// Every file a server's pages produce, from its slug and its tools' slugs (the build keeps
/// these per server in the output manifest instead of one line per file).
pub fn server_files(slug: &str, tools: &[&str]) -> Vec<String> {
    let mut v = Vec::with_capacity(5 + 2 * tools.len());
    for f in [
        "index.html",
        "policy.json",
        "claude-code.json",
        "badge.json",
    ] {
        v.push(format!("servers/{slug}/{f}"));
    }
    for p in 2..=server_pages(tools.len()) {
        v.push(format!("servers/{slug}/page/{p}/index.html"));
    }
    v.push(format!("api/servers/{slug}.json"));
    for t in tools {
        v.push(format!("tools/{slug}/{t}/index.html"));
        v.push(format!("api/tools/{slug}/{t}.json"));
    }
    v
}

/// Tools listed on one page of a server: a server with thousands of tools gets
/// `/servers/<slug>/page/N/` pages, so no page grows with it.
pub const SERVER_PER_PAGE: usize = 200;

/// How many pages a server with `tools` tools has.
pub fn server_pages(tools: usize) -> usize {
    tools.div_ceil(SERVER_PER_PAGE).max(1)
}

/// What a server can do as a whole: one row per kind of power, with how many of its tools
/// have it and a few of them, and whether one server holds the lethal trifecta (private
/// data, untrusted input and a way to send outside).
pub(crate) fn capabilities(site: &Site, entries: &[ToolEntry], cls: &[Classification]) -> Value {
    type Test = fn(&Classification) -> bool;
    let kinds: [(&str, &str, Test); 7] = [
        ("private", "reads private data or secrets", |c| {
            c.effects.contains(&Effect::PrivateData) || c.effects.contains(&Effect::Credentials)
        }),
        ("untrusted", "takes in content others control", |c| {
            c.effects.contains(&Effect::UntrustedInput)
        }),
        ("send", "sends outside (messages, posts, requests)", |c| {
            c.effects.contains(&Effect::Send) || c.effects.contains(&Effect::Network)
        }),
        ("code", "runs code or commands", |c| {
            c.access == Access::Execute || c.effects.contains(&Effect::Code)
        }),
        ("money", "moves money", |c| {
            c.effects.contains(&Effect::Financial)
        }),
        ("delete", "deletes or overwrites", |c| {
            c.effects.contains(&Effect::Destructive)
        }),
        ("admin", "changes permissions or configuration", |c| {
            c.effects.contains(&Effect::Admin)
        }),
    ];
    let mut rows = Vec::new();
    let mut has = std::collections::HashSet::new();
    for (key, label, test) in kinds {
        let hits: Vec<usize> = (0..cls.len()).filter(|&i| test(&cls[i])).collect();
        if !hits.is_empty() {
            has.insert(key);
        }
        let sample: Vec<Value> = hits
            .iter()
            .take(5)
            .map(|&i| json!({"name": entries[i].name, "url": site.tool_url(&entries[i])}))
            .collect();
        rows.push(
            json!({"key": key, "label": label, "count": hits.len(), "sample": sample,
                         "more": hits.len().saturating_sub(5)}),
        );
    }
    let trifecta = has.contains("private") && has.contains("untrusted") && has.contains("send");
    json!({"rows": rows, "trifecta": trifecta})
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
    let mut n = server_pages(entries.len()) as u64;
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
        let api = super::api::tool_record(
            server,
            &entry.slug,
            tool_json,
            c,
            site.abs(&site.tool_url(t)),
        )?;
        out.write_owned(&format!("api/tools/{}/{}.json", entry.slug, t.slug), &api)?;
    }
    Ok(n)
}

/// A server's own files (its page, policy downloads, API record): what they show comes from
/// its file alone.
pub(crate) fn render_server_files(
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

    let (risks, classes) = distributions(entries.iter());
    let caps = capabilities(site, entries, cls);
    let desc = format!(
        "{} MCP server: {} tools classified by access, risk and recommended gateway policy.",
        entry.name, entry.tool_count
    );
    let total = server_pages(entries.len());
    for p in 1..=total {
        let slice = &entries[(p - 1) * SERVER_PER_PAGE..(p * SERVER_PER_PAGE).min(entries.len())];
        let tools: Vec<Value> = slice
            .iter()
            .map(|t| {
                json!({"name": t.name, "url": site.tool_url(t), "class": t.class.as_str(),
                       "risk": t.risk.as_str(), "action": action_label(t.action), "summary": cell(&t.summary)})
            })
            .collect();
        let (path, title) = if p == 1 {
            (url.clone(), format!("{} MCP server", entry.name))
        } else {
            (
                format!("{url}page/{p}/"),
                format!("{} MCP server, tools page {p}", entry.name),
            )
        };
        let ctx = json!({
            "page": page(site, &title, &desc, &path),
            "server": server_ctx, "tools": tools, "risks": risks, "classes": classes,
            "capabilities": caps, "pages": pager(&url, p, total),
            "first": (p - 1) * SERVER_PER_PAGE + 1,
            "badge_url": site.abs(&format!("{url}badge.json")),
        });
        let rel = if p == 1 {
            format!("{base}index.html")
        } else {
            format!("{base}page/{p}/index.html")
        };
        out.write_owned(&rel, tpl.render("server.html", &ctx)?.as_bytes())?;
    }
    out.write_owned(&format!("{base}badge.json"), &badge(entry)?)?;

    // API: the record and its classifications.
    let api = super::api::server_record(server, cls, site.abs(&url))?;
    out.write_owned(&format!("api/servers/{}.json", entry.slug), &api)?;
    Ok(())
}

pub(crate) fn server_context(site: &Site, index: usize, server: &Server) -> Value {
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

/// A shields.io endpoint badge (`https://img.shields.io/endpoint?url=…`) for the server's
/// README: its highest risk and tool count.
fn badge(entry: &crate::site::ServerEntry) -> Result<Vec<u8>> {
    let (message, color) = match entry.max_risk {
        None => ("no tools".to_string(), "lightgrey"),
        Some(r) => (
            format!("{} risk · {} tools", r.as_str(), entry.tool_count),
            match r {
                Risk::Low => "brightgreen",
                Risk::Medium => "yellow",
                Risk::High => "orange",
                Risk::Critical => "red",
            },
        ),
    };
    Ok(serde_json::to_vec(&json!({
        "schemaVersion": 1, "label": "toolrisk", "message": message, "color": color,
    }))?)
}
