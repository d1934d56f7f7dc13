//! Paginated listings: `/risk/<level>/`, `/class/<name>/`, `/servers/`.

use super::*;

/// Paginated listings: `/risk/<level>/`, `/class/<name>/`, `/servers/`.
pub(crate) fn render_listings(
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
    let shown = super::digests::listing_shown(site, sigs);
    let tabs_text: Vec<String> = jobs.iter().map(|j| j.4.to_string()).collect();
    let digests: Vec<(String, u64)> = units
        .par_iter()
        .map(|&(j, p)| -> Result<(String, u64)> {
        let (base, heading, intro, ids, tabs, kind) = &jobs[j];
        let total = ids.len().div_ceil(PER_PAGE).max(1);
        let slice = &ids[(p - 1) * PER_PAGE..(p * PER_PAGE).min(ids.len())];
        let rel = page_path(base, p);
        let d = super::digests::listing_digest(
            site,
            &shown,
            (base, heading, intro, kind, p, total),
            &tabs_text[j],
            slice,
        );
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
