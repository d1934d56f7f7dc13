//! A server's own files: its page, policy downloads, API records, and its tools' pages.

use super::*;

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
