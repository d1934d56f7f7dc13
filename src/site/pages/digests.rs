//! The rebuild digests, in one place beside what they cover: a server's pages are skipped on a
//! rebuild when these match, so anything a page shows of *other* servers must be hashed here.
//! `similar_of` (what a tool page lists of other servers) and `server_digests` (what is hashed
//! for it) sit side by side; listings and sitemaps hash their inputs with `listing_digest`
//! and `sitemap_digest`.

use super::*;

pub(crate) const MAX_SIMILAR: usize = 10;

/// The tools with the same key on other servers that the page of tool `ti` (of server
/// `index`) lists.
pub(crate) fn similar_of(site: &Site, index: usize, ti: usize) -> Vec<&ToolEntry> {
    match site.group_of[ti] {
        crate::site::NO_GROUP => Vec::new(),
        g => site.groups[g as usize]
            .iter()
            .map(|&i| &site.tools[i as usize])
            .filter(|o| o.server as usize != index)
            .take(MAX_SIMILAR)
            .collect(),
    }
}

/// By tool index: a digest of what another tool's page shows of it as a similar tool.
pub(crate) fn tool_signatures(site: &Site) -> Vec<u64> {
    site.tools
        .par_iter()
        .map(|o| {
            let os = &site.servers[o.server as usize];
            crate::site::cache::digest(&(&o.name, &o.slug, &os.slug, &os.name, o.class, o.risk))
        })
        .collect()
}

/// Members of a group beyond `MAX_SIMILAR` kept in its head, for tools of the same server.
pub(crate) const HEAD_SLACK: usize = 6;

/// By group: (server, signature) of its first members, enough to know what the pages of
/// its tools show as similar without visiting the tools themselves (500k random reads at
/// 500k tools were most of a rebuild's digest time).
pub(crate) fn group_heads(site: &Site, sigs: &[u64]) -> Vec<Vec<(u32, u64)>> {
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
pub(crate) fn server_digests(
    site: &Site,
    sigs: &[u64],
    heads: &[Vec<(u32, u64)>],
    index: usize,
) -> Vec<u64> {
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
        if g == crate::site::NO_GROUP {
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

/// By tool: what a listing shows of it. The similar-tool signature covers name, slugs,
/// server name, class and risk; a listing also shows the summary. Once per tool, not per
/// listing.
pub(crate) fn listing_shown(site: &Site, sigs: &[u64]) -> Vec<u64> {
    site.tools
        .par_iter()
        .zip(sigs)
        .map(|(t, sig)| crate::site::cache::digest(&(sig, &t.summary)))
        .collect()
}

/// The digest of a listing page: it hashes the page's inputs, not its rendered context. On a
/// rebuild almost every listing page is unchanged, and building 100 items of JSON to learn
/// that is most of the cost. `head` is (base, heading, intro, kind, page, pages).
pub(crate) fn listing_digest(
    site: &Site,
    shown: &[u64],
    head: (&String, &String, &String, &&str, usize, usize),
    tabs_text: &str,
    slice: &[u32],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let kind = *head.3;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (head, &site.base_url).hash(&mut h);
    tabs_text.hash(&mut h);
    for &i in slice {
        if kind == "servers" {
            let s = &site.servers[i as usize];
            (&s.name, &s.slug, s.max_risk, s.tool_count, &s.summary).hash(&mut h);
        } else {
            shown[i as usize].hash(&mut h);
        }
    }
    h.finish()
}

/// The digest of the sitemaps: a rebuild rewrites them only when a URL came or went, and
/// hashing the slugs is far cheaper than formatting and comparing half a million URLs.
pub(crate) fn sitemap_digest(site: &Site, rules: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    site.base_url.hash(&mut h);
    rules.hash(&mut h);
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
}
