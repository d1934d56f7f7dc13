//! Home, search, 404, attack patterns, robots.txt and the static files.

use super::*;

/// Home, search, 404, attacks, changes (+ Atom), the API index, robots.txt and static files.
pub(crate) fn render_misc(site: &Site, tpl: &Templates, out: &Output) -> Result<u64> {
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
                     "risks": risks, "classes": classes,
                     "effects": crate::model::Effect::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>()});
    out.write(
        "search/index.html",
        tpl.render("search.html", &ctx)?.as_bytes(),
    )?;
    let ctx = json!({"page": page(site, "Page not found", "There is no page at this address.", "/404.html")});
    out.write("404.html", tpl.render("404.html", &ctx)?.as_bytes())?;
    let ctx = json!({"page": page(site, "The toolrisk JSON API", "Endpoints, fields and versioning of the static JSON API: every server, tool and classification.", "/api/"),
                     "version": super::api::VERSION});
    out.write("api/index.html", tpl.render("api.html", &ctx)?.as_bytes())?;
    let ctx = json!({"page": page(site, "Compare MCP servers", "Two to four MCP servers side by side: what each can do, highest risk, tools per class.", "/compare/")});
    out.write(
        "compare/index.html",
        tpl.render("compare.html", &ctx)?.as_bytes(),
    )?;
    n += 5;

    // Attack patterns.
    let items: Vec<Value> = site
        .attacks
        .iter()
        .map(|a| json!({"name": a.title, "url": format!("/attacks/{}/", a.id), "risk": null, "summary": a.summary}))
        .collect();
    let ctx = json!({"page": page(site, "Attack patterns", "Attack patterns that abuse MCP tools, and the gateway rules that blunt them.", "/attacks/"),
                     "heading": "Attack patterns", "intro": "Known ways attackers abuse the tools MCP servers give agents. Each tool page lists the patterns that apply to its kind of access.",
                     "tabs": [], "tabs_label": "", "items": items, "kind": "attacks", "pages": {"total": 1, "current": 1}});
    out.write(
        "attacks/index.html",
        tpl.render("list.html", &ctx)?.as_bytes(),
    )?;
    n += 1;
    for a in &site.attacks {
        let path = format!("/attacks/{}/", a.id);
        // The catalogued tools that give the access the pattern abuses.
        let hits: Vec<u32> = if a.applies_to.all {
            Vec::new()
        } else {
            (0..site.tools.len() as u32)
                .filter(|&i| {
                    let t = &site.tools[i as usize];
                    a.applies_to(t.access, |e| t.has_effect(e))
                })
                .collect()
        };
        let ctx = json!({"page": page(site, &a.title, &a.summary, &path), "attack": a,
                         "count": hits.len(), "tools": site.tools.len(),
                         "sample": super::method::sample(site, hits)});
        out.write(
            &format!("attacks/{}/index.html", a.id),
            tpl.render("attack.html", &ctx)?.as_bytes(),
        )?;
        n += 1;
    }

    n += super::feeds::render_changes(site, tpl, out, &change_rows)?;
    super::api::write_index(site, out, &risks, &classes)?;

    // Crawlers read robots.txt only at a host's root; under a sub-path it is there for the
    // host's owner to copy from.
    let robots = format!(
        "User-agent: *\nAllow: {}\nDisallow: {}\nDisallow: {}\nSitemap: {}\n",
        site.url("/"),
        site.url("/api/"),
        site.url("/search/"),
        site.abs("/sitemap.xml")
    );
    out.write("robots.txt", robots.as_bytes())?;
    Ok(n)
}
