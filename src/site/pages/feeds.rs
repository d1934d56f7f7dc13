//! `/changes/` and its Atom feed.

use super::*;

/// `/changes/` and `/changes/atom.xml` (the last 50). Every string in the feed goes through
/// `xml_escape`, which also drops what XML 1.0 does not allow, so the feed stays well-formed
/// whatever the names contain.
pub(crate) fn render_changes(
    site: &Site,
    tpl: &Templates,
    out: &Output,
    change_rows: &[Value],
) -> Result<u64> {
    // Changes and their Atom feed.
    let ctx = json!({"page": page(site, "Tool definition changes", "Recent changes to MCP tool definitions: descriptions, schemas and annotations that changed between crawls.", "/changes/"),
                     "changes": change_rows});
    out.write(
        "changes/index.html",
        tpl.render("changes.html", &ctx)?.as_bytes(),
    )?;

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
    for (c, row) in site.changes.iter().take(50).zip(change_rows) {
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

    Ok(1)
}
