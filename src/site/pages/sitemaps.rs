//! `sitemap.xml`, or a sitemap index past 50,000 URLs.

use super::*;

/// `sitemap.xml`, or a sitemap index of `sitemaps/<n>.xml` past `SITEMAP_MAX` URLs.
pub(crate) fn write_sitemaps(
    site: &Site,
    rules: &[&str],
    out: &Output,
    old: &Cache,
    new: &mut Cache,
) -> Result<()> {
    let d = super::digests::sitemap_digest(site, rules);
    const KEY: &str = "sitemap.xml";
    new.digests.insert(KEY.into(), d);
    let count = 5
        + rules.len()
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
        "/method/".into(),
    ];
    for r in Risk::ALL {
        urls.push(format!("/risk/{r}/"));
    }
    for c in Class::ALL {
        urls.push(format!("/class/{c}/"));
    }
    urls.extend(site.attacks.iter().map(|a| format!("/attacks/{}/", a.id)));
    urls.extend(rules.iter().map(|r| super::method::rule_url(r)));
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
