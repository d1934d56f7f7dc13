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
    /// Bytes of server files kept parsed between reading and rendering (`RETAIN_BYTES`).
    pub retain_bytes: u64,
    /// A rules file replacing the built-in rules (as `check --rules`).
    pub rules: Option<PathBuf>,
    /// The catalogue's repository, where "wrong label?" links open an issue.
    pub repo_url: String,
}

/// Where "wrong label?" links open an issue unless `--repo-url` says otherwise: the
/// `repository` of Cargo.toml, so a fork that changes it needs no flag.
pub const DEFAULT_REPO_URL: &str = env!("CARGO_PKG_REPOSITORY");

impl BuildOptions {
    /// The files besides the catalogue's servers whose content decides every page: the
    /// catalogue's `overrides.yaml` and the rules file. Part of the cache key, and watched by
    /// `serve`.
    pub fn classifier_inputs(&self) -> Vec<PathBuf> {
        let mut v = vec![self.catalogue.join("overrides.yaml")];
        v.extend(self.rules.clone());
        v
    }
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
    /// Its effects, one bit per `Effect::ALL` position (`effect_bits`).
    pub effects: u16,
    /// The rules its evidence cites, as positions in the classifier's rule list.
    pub rules: Vec<u16>,
    /// Its search terms (`index::text`, the tokeniser `toolrisk query` uses): those of its
    /// name, a tab, those of its title and description.
    pub words: String,
}

/// Effects as a bit set: bit `i` is `Effect::ALL[i]`.
pub fn effect_bits(effects: &[crate::model::Effect]) -> u16 {
    effects
        .iter()
        .filter_map(|e| crate::model::Effect::ALL.iter().position(|x| x == e))
        .fold(0, |m, i| m | (1 << i))
}

impl ToolEntry {
    pub fn has_effect(&self, e: crate::model::Effect) -> bool {
        crate::model::Effect::ALL
            .iter()
            .position(|x| *x == e)
            .is_some_and(|i| self.effects & (1 << i) != 0)
    }
}

/// What listings and other pages need to know about a server.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ServerEntry {
    pub file: PathBuf,
    pub id: String,
    /// The slug the site uses: `source_slug` sanitised and made unique.
    pub slug: String,
    /// The slug the record gives.
    pub source_slug: String,
    pub name: String,
    pub summary: String,
    pub status: CrawlStatus,
    /// Index of its first tool in `Site::tools`; its tools are contiguous.
    pub first_tool: u32,
    pub tool_count: u32,
    pub max_risk: Option<Risk>,
    pub last_crawl: Option<String>,
    /// Size and mtime of the file when it was read.
    pub stamp: (u64, i128),
    /// Search terms of its name and id, space-separated.
    pub terms: String,
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
    /// Groups of two or more tools with the same similarity key, each a list of tool indices
    /// in site order (by server slug).
    pub groups: Vec<Vec<u32>>,
    /// By tool index: its group in `groups`, or `NO_GROUP` when no other tool shares its key.
    pub group_of: Vec<u32>,
    pub base_url: String,
    /// The path of `base_url` without its trailing slash (`""` at a host's root, `/toolrisk`
    /// for a project site such as `https://owner.github.io/toolrisk/`): every link, asset and
    /// fetch in the site starts with it (templates: `{{ page.root }}`; scripts: the
    /// `data-root` of `<html>`).
    pub root: String,
    pub attacks: Vec<attacks::Attack>,
    /// The catalogue's repository (`BuildOptions::repo_url`), without a trailing slash.
    pub repo_url: String,
}

/// `Site::group_of` for a tool whose key no other tool has.
pub const NO_GROUP: u32 = u32::MAX;

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

    /// The absolute URL of a site path (`/servers/x/`), for canonical links, feeds and
    /// sitemaps.
    pub fn abs(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A site path (`/servers/x/`) as a link on the site's host: under `root`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.root, path)
    }
}

/// The path of a base URL without its trailing slash: `""` for `https://example.org/`,
/// `/sub` for `https://example.org/sub/` (`Site::root`). A base URL that does not parse has
/// no path (options are checked before a build; this is for library callers).
pub fn root_of(base_url: &str) -> String {
    url::Url::parse(base_url)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// The key that makes tools on different servers "similar": the name, normalised.
pub fn similarity_key(name: &str) -> String {
    crate::slug::slugify(name)
}

/// A server file parsed and classified while the site was summarised, kept for rendering so
/// that small catalogues are not parsed twice.
pub struct Parsed {
    pub server: Server,
    pub classifications: Vec<crate::model::Classification>,
}

/// The catalogue read for a build.
pub struct Summary {
    pub site: Site,
    /// Server files that could not be read.
    pub errors: Vec<LoadError>,
    /// By server index: the history entries the changes page may show (for the build cache).
    pub histories: Vec<Vec<HistoryEntry>>,
    /// By server index: the parsed record, for the servers kept in memory.
    pub parsed: Vec<Option<Box<Parsed>>>,
}

/// How many bytes of server files a build keeps parsed in memory between reading the catalogue
/// and rendering it (about ten times that in memory). Past it, servers are parsed again when
/// their pages are rendered, so memory stays flat at any catalogue size.
pub const RETAIN_BYTES: u64 = 48 << 20;

/// Reads the catalogue into a `Site` summary, reusing (taking out of `old`) the cached summary
/// of every file whose size and mtime did not change, and keeping up to `retain_bytes` of
/// parsed files for rendering. Unreadable files are returned as errors.
pub fn summarise(
    catalogue: &Catalogue,
    classifier: &Classifier,
    base_url: &str,
    old: &mut cache::Cache,
    retain_bytes: u64,
) -> Result<Summary> {
    struct Row {
        entry: ServerEntry,
        tools: Vec<ToolEntry>,
        history: Vec<HistoryEntry>,
        parsed: Option<Box<Parsed>>,
    }
    let mut last = Instant::now();
    let jobs: Vec<(PathBuf, Option<cache::CachedServer>)> = catalogue
        .server_files()?
        .into_iter()
        .map(|p| {
            let c = old.files.remove(p.as_os_str());
            (p, c)
        })
        .collect();
    let budget = std::sync::atomic::AtomicU64::new(0);
    let rule_ids: HashMap<&str, u16> = classifier
        .rules()
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i as u16))
        .collect();
    let loaded: Vec<Result<Row, LoadError>> = jobs
        .into_par_iter()
        .map(|(path, cached)| {
            let stamp = cache::stamp(&path);
            if let (Some(st), Some(c)) = (stamp, cached) {
                if c.entry.stamp == st {
                    return Ok(Row {
                        entry: c.entry,
                        tools: c.tools,
                        history: c.history.into_iter().map(HistoryEntry::from).collect(),
                        parsed: None,
                    });
                }
            }
            let server = load_server(&path)?;
            let cls = classifier.classify_server(&server);
            let (mut entry, tools, history) = summarise_server(path, &server, &cls, &rule_ids);
            entry.stamp = stamp.unwrap_or_default();
            let size = entry.stamp.0;
            let used = budget.fetch_add(size, std::sync::atomic::Ordering::Relaxed);
            let parsed = (used + size <= retain_bytes).then(|| {
                Box::new(Parsed {
                    server,
                    classifications: cls,
                })
            });
            Ok(Row {
                entry,
                tools,
                history,
                parsed,
            })
        })
        .collect();
    timing("  stat and parse", &mut last);
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(loaded.len());
    for r in loaded {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(e),
        }
    }
    // Slugs become paths: sanitise them again and make them unique, whatever the files say.
    let raw: Vec<&str> = rows.iter().map(|r| r.entry.source_slug.as_str()).collect();
    let slugs = crate::slug::unique_slugs(&raw);
    for (r, slug) in rows.iter_mut().zip(slugs) {
        r.entry.slug = slug;
    }
    rows.sort_by(|a, b| a.entry.slug.cmp(&b.entry.slug));
    timing("  slugs", &mut last);

    let mut servers = Vec::with_capacity(rows.len());
    let mut tools = Vec::with_capacity(rows.iter().map(|r| r.tools.len()).sum());
    let mut changes = Vec::new();
    let mut histories = Vec::with_capacity(rows.len());
    let mut parsed = Vec::with_capacity(rows.len());
    for (i, mut r) in rows.into_iter().enumerate() {
        r.entry.first_tool = tools.len() as u32;
        r.entry.tool_count = r.tools.len() as u32;
        for mut t in r.tools {
            t.server = i as u32;
            tools.push(t);
        }
        for entry in &r.history {
            changes.push(Change {
                server: i as u32,
                entry: entry.clone(),
            });
        }
        servers.push(r.entry);
        histories.push(r.history);
        parsed.push(r.parsed);
    }
    changes.sort_by(|a, b| {
        b.entry
            .at
            .cmp(&a.entry.at)
            .then(a.server.cmp(&b.server))
            .then(a.entry.tool.cmp(&b.entry.tool))
    });
    changes.truncate(MAX_CHANGES);

    timing("  assemble", &mut last);
    let (groups, group_of) = similar_groups(&tools);
    timing("  similar groups", &mut last);
    Ok(Summary {
        site: Site {
            servers,
            tools,
            changes,
            groups,
            group_of,
            base_url: base_url.trim_end_matches('/').to_string(),
            root: root_of(base_url),
            attacks: attacks::builtin()?,
            repo_url: String::new(),
        },
        errors,
        histories,
        parsed,
    })
}

/// The tools that share a similarity key (`Site::groups`, `Site::group_of`). Keys are hashed
/// on every core and grouped by hash, then compared as strings, so two keys with the same
/// hash never share a group.
fn similar_groups(tools: &[ToolEntry]) -> (Vec<Vec<u32>>, Vec<u32>) {
    similar_groups_by(tools, cache::digest::<str>)
}

fn similar_groups_by(
    tools: &[ToolEntry],
    hash: impl Fn(&str) -> u64 + Sync,
) -> (Vec<Vec<u32>>, Vec<u32>) {
    let hashes: Vec<u64> = tools.par_iter().map(|t| hash(&t.key)).collect();
    // By tool: the first tool with the same key hash.
    let mut first_of: Vec<u32> = Vec::with_capacity(tools.len());
    let mut first: HashMap<u64, u32> = HashMap::with_capacity(tools.len() / 4);
    for (i, h) in hashes.iter().enumerate() {
        first_of.push(*first.entry(*h).or_insert(i as u32));
    }
    drop(first);
    let collided: Vec<usize> = first_of
        .par_iter()
        .enumerate()
        .filter(|&(i, &f)| tools[i].key != tools[f as usize].key)
        .map(|(i, _)| i)
        .collect();
    if !collided.is_empty() {
        // Another key has the same hash: group these by the key itself.
        let mut by_key: HashMap<&str, u32> = HashMap::new();
        for i in collided {
            first_of[i] = *by_key.entry(tools[i].key.as_str()).or_insert(i as u32);
        }
    }
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut group_of = vec![NO_GROUP; tools.len()];
    for (i, &f) in first_of.iter().enumerate() {
        let f = f as usize;
        if f == i {
            continue;
        }
        if group_of[f] == NO_GROUP {
            group_of[f] = groups.len() as u32;
            groups.push(vec![f as u32]);
        }
        let g = group_of[f];
        group_of[i] = g;
        groups[g as usize].push(i as u32);
    }
    (groups, group_of)
}

/// Most history entries per server kept for the changes page.
const HISTORY_PER_SERVER: usize = 20;

fn summarise_server(
    file: PathBuf,
    server: &Server,
    cls: &[crate::model::Classification],
    rule_ids: &HashMap<&str, u16>,
) -> (ServerEntry, Vec<ToolEntry>, Vec<HistoryEntry>) {
    let names: Vec<&str> = server.tools.iter().map(|t| t.name.as_str()).collect();
    let slugs = crate::slug::unique_slugs(&names);
    let tools: Vec<ToolEntry> = server
        .tools
        .iter()
        .zip(cls)
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
            effects: effect_bits(&c.effects),
            words: {
                use crate::index::text::{description_terms, index_terms};
                let mut d = t.title.as_deref().map(index_terms).unwrap_or_default();
                d.extend(description_terms(t.description.as_deref().unwrap_or("")));
                format!("{}\t{}", index_terms(&t.name).join(" "), d.join(" "))
            },
            rules: {
                let mut r: Vec<u16> = c
                    .evidence
                    .iter()
                    .filter_map(|e| rule_ids.get(e.rule.as_str()).copied())
                    .collect();
                r.sort_unstable();
                r.dedup();
                r
            },
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
        source_slug: server.slug.clone(),
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
        terms: {
            let mut t = crate::index::text::index_terms(&server.name);
            t.extend(crate::index::text::index_terms(&server.id));
            t.dedup();
            t.join(" ")
        },
    };
    (entry, tools, hist)
}

/// With `TOOLRISK_TIMINGS=1`, prints how long the phase that ends now took (since `last`),
/// for benchmarks, and restarts the clock.
pub(crate) fn timing(name: &str, last: &mut Instant) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("TOOLRISK_TIMINGS").is_some()) {
        eprintln!("timing: {name} {:.2}s", last.elapsed().as_secs_f64());
        *last = Instant::now();
    }
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
    let mut last = Instant::now();
    let mut phase = |name: &str| timing(name, &mut last);
    // The one classifier every command uses for this catalogue: rules and its overrides.
    let classifier = Classifier::for_catalogue(&opts.catalogue, opts.rules.as_deref())?;
    let tpl = templates::Templates::load(opts.templates.as_deref())?;
    let key = cache::key(
        &format!("{}\n{}", opts.base_url, opts.repo_url),
        &tpl,
        &opts.classifier_inputs(),
    );
    // Locks the output folder first: a second build waits here, before it reads the cache.
    let out = output::Output::new(&opts.out)?;
    let mut old = cache::Cache::load(&opts.out, key);
    // The cache vouches for files this build is about to rewrite: if the build stops half way
    // (an error, a kill), the next one must not trust digests of files it did not finish.
    cache::Cache::discard(&opts.out)?;
    let mut new = cache::Cache {
        key,
        ..cache::Cache::default()
    };
    phase("load cache");
    let Summary {
        mut site,
        errors,
        histories,
        parsed,
    } = summarise(
        &catalogue,
        &classifier,
        &opts.base_url,
        &mut old,
        opts.retain_bytes,
    )?;
    site.repo_url = opts.repo_url.trim_end_matches('/').to_string();
    phase("read catalogue");
    let pages = pages::render_all(&site, parsed, &classifier, &tpl, &out, &old, &mut new)
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
    let files: Vec<cache::CachedRef> = site
        .servers
        .iter()
        .zip(&histories)
        .map(|(s, h)| cache::CachedRef {
            entry: s,
            tools: site.tools_of(s),
            history: h.iter().map(cache::CachedChange::from).collect(),
        })
        .collect();
    if let Err(e) = new.save(&opts.out, &files) {
        // The site is complete; the next build is only slower.
        eprintln!("warning: could not save the build cache: {e:#}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(server: u32, key: &str) -> ToolEntry {
        ToolEntry {
            server,
            name: key.into(),
            slug: key.into(),
            summary: String::new(),
            class: Class::Read,
            risk: Risk::Low,
            access: Access::Read,
            action: Action::Allow,
            key: key.into(),
            effects: 0,
            rules: Vec::new(),
            words: String::new(),
        }
    }

    #[test]
    fn similar_groups_hold_one_key_each_even_when_hashes_collide() {
        let tools: Vec<ToolEntry> = ["a", "b", "a", "c", "b", "a", "d"]
            .iter()
            .enumerate()
            .map(|(i, k)| tool(i as u32, k))
            .collect();
        let expected = (
            vec![vec![0, 2, 5], vec![1, 4]],
            vec![0, 1, 0, NO_GROUP, 1, 0, NO_GROUP],
        );
        assert_eq!(similar_groups(&tools), expected);
        // Every key with the same hash: still grouped by key, members in site order.
        assert_eq!(similar_groups_by(&tools, |_| 7), expected);
        // Two hashes, each shared by two keys.
        assert_eq!(similar_groups_by(&tools, |k| (k < "c") as u64), expected);
    }
}
