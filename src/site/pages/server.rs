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
    for t in crate::classify::policy::Target::all() {
        v.push(format!("servers/{slug}/{}", policy_file(*t)));
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

/// The whole-server policy in one client's or gateway's format, under the server's folder.
pub fn policy_file(t: crate::classify::policy::Target) -> String {
    format!("policy/{}.{}", t.as_str(), t.extension())
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
    // Every policy target `toolrisk policy --format` prints, named by the slug; a target that
    // cannot express this server (e.g. a tool name it cannot quote) gets a file saying why.
    let mut formats = Vec::new();
    for t in crate::classify::policy::Target::all() {
        let text = match crate::classify::policy::emit(*t, &entry.slug, cls) {
            Ok(e) => e.text,
            Err(e) => format!("toolrisk could not express this server's policy here: {e}\n"),
        };
        out.write_owned(&format!("{base}{}", policy_file(*t)), text.as_bytes())?;
        formats.push(
            json!({"file": policy_file(*t), "title": t.title(), "destination": t.destination()}),
        );
    }

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
            "capabilities": caps, "pages": pager(&url, p, total), "formats": &formats,
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
        "about": about(server),
        "install": install(server, &e.slug),
    })
}

/// What the package says about itself and what the registries say it needs.
fn about(server: &Server) -> Value {
    let m = server.package_metadata.as_ref();
    let safe = |u: Option<&String>| u.map(|u| markdown::safe_url(u)).unwrap_or(false);
    let mut env: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in server
        .registry_metadata
        .iter()
        .flat_map(|r| r.entries.iter())
    {
        for v in entry.env.iter().take(50) {
            if seen.insert(v.name.clone()) {
                env.push(json!({"name": cell(&v.name), "secret": v.secret, "required": v.required,
                                "description": v.description.as_deref().map(cell), "source": cell(&entry.source)}));
            }
        }
    }
    let registry: Vec<Value> = server
        .registry_metadata
        .iter()
        .flat_map(|r| r.entries.iter())
        .take(10)
        .map(|e| {
            json!({"source": cell(&e.source), "category": e.category.as_deref().map(cell),
                   "tags": e.tags.iter().take(20).map(|t| cell(t)).collect::<Vec<_>>()})
        })
        .collect();
    let disagreements: Vec<Value> = server
        .registry_metadata
        .iter()
        .flat_map(|r| r.disagreements.iter())
        .take(10)
        .map(|d| json!({"field": cell(&d.field), "detail": d.detail.as_deref().map(cell),
                        "values": d.values.iter().take(10).map(|v| format!("{}: {}", cell(&v.source), cell(&v.value))).collect::<Vec<_>>()}))
        .collect();
    json!({
        "package": m.map(|m| json!({
            "source": cell(&m.source),
            "description": m.description.as_deref().map(cell),
            "license": m.license.as_deref().map(cell),
            "author": m.author.as_deref().map(cell),
            "version": m.version.as_deref().map(cell),
            "release_date": m.release_date.as_deref().map(cell),
            "keywords": m.keywords.iter().take(20).map(|k| cell(k)).collect::<Vec<_>>(),
            "homepage": m.homepage.as_deref().map(cell), "homepage_safe": safe(m.homepage.as_ref()),
            "repository": m.repository.as_deref().map(cell), "repository_safe": safe(m.repository.as_ref()),
        })),
        "env": env, "registry": registry, "disagreements": disagreements,
    })
}

/// A shell word that means exactly `s`: left bare when it holds only safe characters, else
/// single-quoted (the text is a package name or URL from a registry: hostile).
fn sh_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@/._:=+-,".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// How to add the server to a client: `claude mcp add …` and the JSON block of Claude
/// Desktop / Cursor (`mcpServers`) and VS Code (`servers`), from its first package or remote.
fn install(server: &Server, slug: &str) -> Option<Value> {
    let env: Vec<String> = server
        .registry_metadata
        .iter()
        .flat_map(|r| r.entries.iter())
        .flat_map(|e| e.env.iter())
        .filter(|v| v.required || v.secret)
        .map(|v| v.name.clone())
        .filter(|n| !n.is_empty() && n.len() <= 100)
        .take(20)
        .collect();
    let env_map: serde_json::Map<String, Value> = env
        .iter()
        .map(|n| (n.clone(), Value::String("…".into())))
        .collect();
    // The command a launch crawl started it with (its arguments included), where known.
    let launched = server
        .provenance
        .iter()
        .filter(|p| p.source.ends_with("-launch"))
        .filter_map(|p| p.location.as_deref())
        .filter_map(|l| crate::crawl::stdio::split_command(l).ok())
        .find(|w| w.len() > 1 && matches!(w[0].as_str(), "npx" | "uvx"))
        .map(|w| {
            let w: Vec<String> = w
                .into_iter()
                .map(|a| {
                    a.replace("{work}", "/path/to/folder")
                        .replace("{home}", "~")
                })
                .collect();
            (w[0].clone(), w[1..].to_vec())
        });
    let (command, args): (String, Vec<String>) = if let Some(l) = launched {
        l
    } else if let Some(p) = server.packages.first() {
        let spec = |sep: &str| match &p.version {
            Some(v) => format!("{}{sep}{v}", p.identifier),
            None => p.identifier.clone(),
        };
        match p.registry.as_str() {
            "npm" => ("npx".into(), vec!["-y".into(), spec("@")]),
            "pypi" => ("uvx".into(), vec![spec("==")]),
            "oci" | "docker" => {
                let mut a = vec!["run".into(), "-i".into(), "--rm".into()];
                for n in &env {
                    a.push("-e".into());
                    a.push(n.clone());
                }
                a.push(p.identifier.clone());
                ("docker".into(), a)
            }
            _ => return None,
        }
    } else if let Some(r) = server.remotes.first() {
        let remote = json!({"type": "http", "url": r.url});
        return Some(json!({
            "claude_code": format!("claude mcp add --transport http {} {}", sh_word(slug), sh_word(&r.url)),
            "mcp_servers": serde_json::to_string_pretty(&json!({"mcpServers": {slug: {"url": r.url}}})).ok(),
            "vscode": serde_json::to_string_pretty(&json!({"servers": {slug: remote}})).ok(),
        }));
    } else {
        return None;
    };
    let env_flags: String = env
        .iter()
        .map(|n| format!(" -e {}=…", sh_word(n)))
        .collect();
    let words: Vec<String> = std::iter::once(command.clone())
        .chain(args.iter().cloned())
        .map(|w| sh_word(&w))
        .collect();
    let mut entry = json!({"command": command, "args": args});
    if !env_map.is_empty() {
        entry["env"] = Value::Object(env_map);
    }
    let mut vs = entry.clone();
    vs["type"] = json!("stdio");
    Some(json!({
        "claude_code": format!("claude mcp add{env_flags} {} -- {}", sh_word(slug), words.join(" ")),
        "mcp_servers": serde_json::to_string_pretty(&json!({"mcpServers": {slug: entry}})).ok(),
        "vscode": serde_json::to_string_pretty(&json!({"servers": {slug: vs}})).ok(),
    }))
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
