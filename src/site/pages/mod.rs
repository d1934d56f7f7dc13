//! Renders every page of the site from the `Site` summary: server and tool pages in parallel,
//! one server at a time (re-read from its file), then listings, attacks, changes, feeds,
//! sitemaps and the JSON API.

mod api;
mod digests;
mod feeds;
mod listings;
pub mod method;
mod other;
mod server;
mod sitemaps;
mod tool;

use digests::similar_of;
use digests::{group_heads, server_digests, tool_signatures};
use listings::render_listings;
use other::render_misc;
pub use server::{render_server, server_files};
use sitemaps::write_sitemaps;
use tool::{render_tool, Shared, MAX_SIBLINGS};

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

/// Bytes of a crawled string shown in a table cell or snippet.
pub(crate) const MAX_CELL: usize = 600;

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
    crate::site::timing("  tool signatures", &mut last);
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
                pages.fetch_add(
                    server::server_pages(s.tool_count as usize) as u64 + s.tool_count as u64,
                    Ordering::Relaxed,
                );
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
    crate::site::timing("  server pages", &mut last);
    let mut n = pages.load(Ordering::Relaxed);
    n += render_listings(site, &sigs, tpl, out, old, new)?;
    crate::site::timing("  listings", &mut last);
    n += render_misc(site, tpl, out)?;
    n += method::render_method(site, classifier.rules(), tpl, out)?;
    crate::site::timing("  other pages", &mut last);
    let rule_ids: Vec<&str> = classifier
        .rules()
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    write_sitemaps(site, &rule_ids, out, old, new)?;
    crate::site::timing("  sitemaps", &mut last);
    Ok(n)
}

pub(crate) fn page(site: &Site, title: &str, description: &str, path: &str) -> Value {
    let (d, _) = markdown::cut(description, 300);
    json!({"title": title, "description": d, "canonical": site.abs(path), "path": path, "root": site.root})
}

/// `s` ending like a sentence, so that another sentence can follow it.
pub(crate) fn sentence(s: &str) -> String {
    let t = s.trim_end();
    match t.chars().last() {
        Some('.' | '!' | '?' | '…' | ':') | None => t.to_string(),
        Some(_) => format!("{t}."),
    }
}

pub(crate) fn cell(s: &str) -> String {
    let s = reveal(s);
    let (c, was_cut) = markdown::cut(&s, MAX_CELL);
    if was_cut {
        format!("{c}…")
    } else {
        c.to_string()
    }
}

pub(crate) fn risk_label(r: Risk) -> &'static str {
    match r {
        Risk::Low => "Low",
        Risk::Medium => "Medium",
        Risk::High => "High",
        Risk::Critical => "Critical",
    }
}

pub(crate) fn action_label(a: Action) -> &'static str {
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

pub(crate) fn pager(base: &str, current: usize, total: usize) -> Value {
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

pub(crate) fn page_path(base: &str, p: usize) -> String {
    if p == 1 {
        format!("{}index.html", &base[1..])
    } else {
        format!("{}page/{p}/index.html", &base[1..])
    }
}

/// Text and attribute values for XML (the feed, sitemaps): escaped, and without the
/// characters XML 1.0 does not allow (controls other than tab and newline, U+FFFE, U+FFFF),
/// so the document stays well-formed whatever a crawled name contains.
pub(crate) fn xml_escape(s: &str) -> String {
    let s: String = s.chars().filter(|&c| xml_char(c)).collect();
    escape_attr(&s)
}

/// Whether XML 1.0 allows `c` (`Char` in the spec; C1 controls, allowed but discouraged,
/// are dropped too).
fn xml_char(c: char) -> bool {
    (!c.is_control() || c == '\n' || c == '\t') && !matches!(c, '\u{FFFE}' | '\u{FFFF}')
}
