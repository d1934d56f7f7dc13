//! The static site: one page per tool and per server, listings, attack patterns, changes with
//! an Atom feed, JSON under `/api/`, sitemaps and a static search index.
//!
//! The build streams: a first parallel pass reads every server file and keeps only a small
//! summary per tool (what listings, search and "similar tools" need); a second parallel pass
//! re-reads one server at a time and renders its pages, so memory does not grow with the
//! rendered size of the catalogue.

pub mod attacks;
pub mod cache;
pub mod markdown;
pub mod output;
pub mod pages;
pub mod search;
pub mod serve;
pub mod templates;

use crate::catalogue::{load_server, Catalogue, LoadError};
use crate::classify::Classifier;
use crate::model::{Access, Action, Class, CrawlStatus, HistoryEntry, Risk, Server};
use anyhow::{Context as _, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

/// What to build, from where, to where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The catalogue folder (holds `servers/*.yaml`).
    pub catalogue: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// Absolute URL the site is served from, for canonical links, feeds and sitemaps.
    pub base_url: String,
    /// A folder whose templates (and `static/` files) replace the built-in ones by name.
    pub templates: Option<PathBuf>,
}

/// What a build did.
#[derive(Debug, Default)]
pub struct BuildReport {
    pub servers: usize,
    pub tools: usize,
    pub pages: u64,
    pub written: u64,
    pub unchanged: u64,
    pub removed: u64,
    /// Server files that could not be read; the rest of the site is still built.
    pub errors: Vec<LoadError>,
    pub seconds: f64,
}

/// What listings, search and other pages need to know about a tool.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ToolEntry {
    pub server: u32,
    pub name: String,
    pub slug: String,
    pub summary: String,
    pub class: Class,
    pub risk: Risk,
    pub access: Access,
    pub action: Action,
    /// Tools with the same key on other servers are "similar".
    pub key: String,
}

/// What listings and other pages need to know about a server.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ServerEntry {
    pub file: PathBuf,
    pub id: String,
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub status: CrawlStatus,
    /// Index of its first tool in `Site::tools`; its tools are contiguous.
    pub first_tool: u32,
    pub tool_count: u32,
    pub max_risk: Option<Risk>,
    pub last_crawl: Option<String>,
    /// Size and mtime of the file when it was read.
    #[serde(default)]
    pub stamp: (u64, i128),
}

/// A definition change, for `/changes/` and the feed.
#[derive(Debug, Clone)]
pub struct Change {
    pub server: u32,
    pub entry: HistoryEntry,
}

/// The summary of the whole catalogue the pages are rendered from.
pub struct Site {
    pub servers: Vec<ServerEntry>,
    pub tools: Vec<ToolEntry>,
    pub changes: Vec<Change>,
    /// Tool indices by similarity key, each list sorted by server slug.
    pub similar: HashMap<String, Vec<u32>>,
    pub base_url: String,
    pub attacks: Vec<attacks::Attack>,
}

/// How many recent changes the changes page and feed show.
pub const MAX_CHANGES: usize = 200;

impl Site {
    pub fn tools_of(&self, s: &ServerEntry) -> &[ToolEntry] {
        let a = s.first_tool as usize;
        &self.tools[a..a + s.tool_count as usize]
    }

    pub fn tool_url(&self, t: &ToolEntry) -> String {
        format!(
            "/tools/{}/{}/",
            self.servers[t.server as usize].slug, t.slug
        )
    }

    pub fn abs(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
}

/// The key that makes tools on different servers "similar": the name, normalised.
pub fn similarity_key(name: &str) -> String {
    crate::slug::slugify(name)
}

/// Reads the catalogue into a `Site` summary, reusing the cached summary of every file whose
/// size and mtime did not change. Unreadable files are returned as errors.
pub fn summarise(
    catalogue: &Catalogue,
    classifier: &Classifier,
    base_url: &str,
    old: &cache::Cache,
    new: &mut cache::Cache,
) -> Result<(Site, Vec<LoadError>)> {
    let files = catalogue.server_files()?;
    type Row = (ServerEntry, Vec<ToolEntry>, Vec<HistoryEntry>);
    let loaded: Vec<Result<(Row, bool), LoadError>> = files
        .par_iter()
        .map(|path| {
            let stamp = cache::stamp(path);
            if let (Some(st), Some(c)) = (stamp, old.files.get(path)) {
                if (c.size, c.mtime) == st {
                    return Ok(((c.entry.clone(), c.tools.clone(), c.history.clone()), false));
                }
            }
            let server = load_server(path)?;
            let mut row = summarise_server(path.clone(), &server, classifier);
            row.0.stamp = stamp.unwrap_or_default();
            Ok((row, true))
        })
        .collect();
    let loaded: Vec<Result<Row, LoadError>> = loaded
        .into_iter()
        .map(|r| {
            r.map(|(row, _)| {
                new.files.insert(
                    row.0.file.clone(),
                    cache::CachedServer {
                        size: row.0.stamp.0,
                        mtime: row.0.stamp.1,
                        entry: row.0.clone(),
                        tools: row.1.clone(),
                        history: row.2.clone(),
                    },
                );
                row
            })
        })
        .collect();
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(loaded.len());
    for r in loaded {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(e),
        }
    }
    // Slugs become paths: sanitise them again and make them unique, whatever the files say.
    let raw: Vec<String> = rows.iter().map(|(s, _, _)| s.slug.clone()).collect();
    let slugs = crate::slug::unique_slugs(&raw);
    for ((s, _, _), slug) in rows.iter_mut().zip(slugs) {
        s.slug = slug;
    }
    rows.sort_by(|a, b| a.0.slug.cmp(&b.0.slug));

    let mut servers = Vec::with_capacity(rows.len());
    let mut tools = Vec::new();
    let mut changes = Vec::new();
    for (i, (mut s, ts, hist)) in rows.into_iter().enumerate() {
        s.first_tool = tools.len() as u32;
        s.tool_count = ts.len() as u32;
        for mut t in ts {
            t.server = i as u32;
            tools.push(t);
        }
        for entry in hist {
            changes.push(Change {
                server: i as u32,
                entry,
            });
        }
        servers.push(s);
    }
    changes.sort_by(|a, b| {
        b.entry
            .at
            .cmp(&a.entry.at)
            .then(a.server.cmp(&b.server))
            .then(a.entry.tool.cmp(&b.entry.tool))
    });
    changes.truncate(MAX_CHANGES);

    let mut similar: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, t) in tools.iter().enumerate() {
        similar.entry(t.key.clone()).or_default().push(i as u32);
    }
    similar.retain(|_, v| v.len() > 1);
    Ok((
        Site {
            servers,
            tools,
            changes,
            similar,
            base_url: base_url.trim_end_matches('/').to_string(),
            attacks: attacks::builtin()?,
        },
        errors,
    ))
}

/// Most history entries per server kept for the changes page.
const HISTORY_PER_SERVER: usize = 20;

fn summarise_server(
    file: PathBuf,
    server: &Server,
    classifier: &Classifier,
) -> (ServerEntry, Vec<ToolEntry>, Vec<HistoryEntry>) {
    let cls = classifier.classify_server(server);
    let names: Vec<&str> = server.tools.iter().map(|t| t.name.as_str()).collect();
    let slugs = crate::slug::unique_slugs(&names);
    let tools: Vec<ToolEntry> = server
        .tools
        .iter()
        .zip(&cls)
        .zip(slugs)
        .map(|((t, c), slug)| ToolEntry {
            server: 0,
            name: markdown::reveal(&t.name),
            slug,
            summary: markdown::first_sentence(t.description.as_deref().unwrap_or(""), 200),
            class: c.class,
            risk: c.risk,
            access: c.access,
            action: c.policy.action,
            key: similarity_key(&t.name),
        })
        .collect();
    let max_risk = tools.iter().map(|t| t.risk).max();
    let mut hist: Vec<HistoryEntry> = server.history.clone();
    hist.sort_by(|a, b| b.at.cmp(&a.at));
    hist.truncate(HISTORY_PER_SERVER);
    for h in &mut hist {
        // The changes page quotes only the change, not old descriptions.
        h.description_before = None;
    }
    let entry = ServerEntry {
        file,
        id: server.id.clone(),
        slug: server.slug.clone(),
        name: markdown::reveal(&server.name),
        summary: markdown::first_sentence(server.description.as_deref().unwrap_or(""), 200),
        status: server.crawl.status,
        first_tool: 0,
        tool_count: 0,
        max_risk,
        last_crawl: server
            .crawl
            .last_success
            .clone()
            .or_else(|| server.crawl.last_attempt.clone()),
        stamp: (0, 0),
    };
    (entry, tools, hist)
}

/// Builds the whole site.
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let start = Instant::now();
    let catalogue = Catalogue::new(&opts.catalogue);
    if !catalogue.servers_dir().is_dir() {
        anyhow::bail!(
            "no catalogue at {}: expected a `servers/` folder of YAML files there (pass --catalogue DIR)",
            opts.catalogue.display()
        );
    }
    // `TOOLRISK_TIMINGS=1` prints how long each phase took, for benchmarks.
    let timings = std::env::var_os("TOOLRISK_TIMINGS").is_some();
    let mut last = Instant::now();
    let mut phase = |name: &str| {
        if timings {
            eprintln!("timing: {name} {:.2}s", last.elapsed().as_secs_f64());
            last = Instant::now();
        }
    };
    let classifier = Classifier::builtin();
    let tpl = templates::Templates::load(opts.templates.as_deref())?;
    let key = cache::key(&opts.base_url, &tpl);
    let old = cache::Cache::load(&opts.out, key);
    let mut new = cache::Cache {
        key,
        ..cache::Cache::default()
    };
    phase("load cache");
    let (site, errors) = summarise(&catalogue, &classifier, &opts.base_url, &old, &mut new)?;
    phase("read catalogue");
    let out = output::Output::new(&opts.out)?;
    let pages = pages::render_all(&site, &classifier, &tpl, &out, &old, &mut new)
        .context("rendering the site")?;
    phase("render pages");
    search::write_index(&site, &out, &old, &mut new).context("writing the search index")?;
    phase("search index");
    let groups: Vec<output::Group> = site
        .servers
        .iter()
        .map(|s| output::Group {
            slug: &s.slug,
            members: site.tools_of(s).iter().map(|t| t.slug.as_str()).collect(),
        })
        .collect();
    let stats = out.finish(&groups, &pages::server_files)?;
    phase("remove stale files");
    new.save(&opts.out)?;
    phase("save cache");
    Ok(BuildReport {
        servers: site.servers.len(),
        tools: site.tools.len(),
        pages,
        written: stats.written,
        unchanged: stats.unchanged,
        removed: stats.removed,
        errors,
        seconds: start.elapsed().as_secs_f64(),
    })
}
