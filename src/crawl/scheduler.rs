//! The scheduler: turns targets (from sources.yaml, registries or one command line) into
//! records. Bounded concurrency, deterministic sharding by server id, one atomic write per
//! server as soon as it is done (so kill -9 loses at most the servers in flight and a rerun
//! with `--resume` picks up where it stopped), progress and a summary.

use super::client::{
    fetch_tools, fetch_tools_http, FetchError, FetchErrorKind, Fetched, Transport,
};
use super::http::Politeness;
use super::install::{self, Ecosystem, InstallErrorKind, InstallOptions};
use super::merge::{merge, Change, Outcome};
use super::sandbox::{self, ResourceLimits, SandboxMode, Scratch};
use super::stdio::{expand_placeholders, LaunchSpec, StdioTransport};
use super::Limits;
use crate::catalogue::{load_server, Catalogue};
use crate::model::{
    CrawlStatus, PackageMetadata, Provenance, RegistryEntry, RegistryMetadata, Server, Tool,
};
use anyhow::Result;
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// How to reach a server live.
#[derive(Debug, Clone)]
pub enum How {
    /// Start a command over stdio.
    Launch {
        argv: Vec<String>,
        env: BTreeMap<String, String>,
        pass_env: Vec<String>,
        /// Files written into the scratch folder first (relative path → content).
        files: BTreeMap<String, String>,
    },
    /// Connect to a Streamable HTTP or SSE endpoint.
    Url(String),
    /// Not reachable live (registry metadata only).
    None,
}

/// What a registry said about a server.
#[derive(Debug, Clone)]
pub struct RegistryData {
    pub provenance: Provenance,
    /// Tool definitions, when the registry carries them, with problems found in them.
    pub tools: Option<(Vec<Tool>, Option<String>)>,
    /// What the registry says about the server (category, tags, environment, its own id).
    pub entry: Option<RegistryEntry>,
}

/// One server to crawl.
#[derive(Debug, Clone)]
pub struct Target {
    /// Identity and metadata; `slug` is assigned by `assign_slugs`.
    pub server: Server,
    /// What the slug is made from (the package name, usually).
    pub slug_base: String,
    pub how: How,
    pub registry_tools: Option<RegistryData>,
}

/// Crawl settings.
#[derive(Debug, Clone)]
pub struct Options {
    pub catalogue: Catalogue,
    pub limits: Limits,
    pub concurrency: usize,
    /// `(i, n)`: only servers whose id hashes to shard `i` of `n` (0-based `i`).
    pub shard: Option<(u64, u64)>,
    /// Start stdio commands (`--launch`, `--stdio`).
    pub launch: bool,
    /// Connect to remote URLs (`--live`, `--url`).
    pub live: bool,
    /// Shared npm / uv cache for launched servers.
    pub package_cache: Option<PathBuf>,
    /// Skip servers attempted at or after this RFC 3339 time (resuming an interrupted run).
    pub resume_since: Option<String>,
    /// Skip servers whose record is already `ok` or `partial` (retry the failures only).
    pub only_failed: bool,
    /// Show a progress bar (on a terminal) instead of one line per server.
    pub progress_bar: bool,
    /// Print per-server lines at all.
    pub quiet: bool,
    /// Per-host spacing of HTTP requests.
    pub polite: Politeness,
    /// Bubblewrap (default) or unconfined (`--no-sandbox`) for launched servers.
    pub sandbox: SandboxMode,
    /// Pass the parent's proxy and CA variables to launched servers (`--pass-proxy`).
    pub pass_proxy: bool,
    /// Re-crawl launched packages even when their pinned version has not changed.
    pub force: bool,
    /// Memory, process and file-size limits of launched servers.
    pub resource_limits: ResourceLimits,
}

/// Totals of a run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub servers: usize,
    pub ok: usize,
    pub partial: usize,
    pub failed: usize,
    pub unchanged: usize,
    pub changed: usize,
    pub new: usize,
    pub skipped: usize,
    pub tools_added: usize,
    pub tools_changed: usize,
    pub tools_removed: usize,
    pub tools_total: usize,
    /// Servers whose tools are not known (listed by a registry without them).
    pub tools_unknown: usize,
    /// Registry entries that landed in a record of another source, one line each.
    pub matched: Vec<String>,
    pub failures: Vec<(String, String)>,
    /// One line per server, in the order they finished.
    pub results: Vec<ServerResult>,
}

/// What happened to one server, for `crawl --format json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerResult {
    pub slug: String,
    /// `ok`, `partial`, `failed`, `tools_unknown` or `skipped`.
    pub status: &'static str,
    pub tools: usize,
    pub new_record: bool,
    /// Landed in the record of the same server from another source.
    pub merged: bool,
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub secs: f64,
}

impl Summary {
    fn add(&mut self, slug: &str, change: &Change, tools: usize, error: Option<&str>) {
        self.servers += 1;
        self.tools_total += tools;
        if change.failed {
            self.failed += 1;
            self.failures
                .push((slug.to_string(), error.unwrap_or_default().to_string()));
            return;
        }
        if change.partial {
            self.partial += 1;
        } else {
            self.ok += 1;
        }
        if change.tools_unknown {
            self.tools_unknown += 1;
        }
        if change.new_record {
            self.new += 1;
        } else if change.tools_changed() {
            self.changed += 1;
        } else {
            self.unchanged += 1;
        }
        self.tools_added += change.added;
        self.tools_changed += change.changed;
        self.tools_removed += change.removed;
    }

    /// The report as JSON: totals and one object per server (texts from servers escaped by
    /// the JSON encoding; errors cut to 600 bytes).
    pub fn to_json(&self, secs: f64) -> serde_json::Value {
        serde_json::json!({
            "servers": self.servers,
            "secs": (secs * 10.0).round() / 10.0,
            "ok": self.ok,
            "partial": self.partial,
            "failed": self.failed,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "tools_unknown": self.tools_unknown,
            "merged": self.matched.len(),
            "tools": {"added": self.tools_added, "changed": self.tools_changed,
                      "removed": self.tools_removed, "total": self.tools_total},
            "results": self.results,
        })
    }

    /// The end-of-run report.
    pub fn render(&self, secs: f64) -> String {
        let mut s = format!(
            "{} servers in {:.1} s: {} ok, {} partial, {} failed; {} new, {} changed, {} unchanged{}\n\
             tools: {} added, {} changed, {} removed ({} in these records)\n",
            self.servers,
            secs,
            self.ok,
            self.partial,
            self.failed,
            self.new,
            self.changed,
            self.unchanged,
            if self.skipped > 0 {
                format!("; {} skipped", self.skipped)
            } else {
                String::new()
            },
            self.tools_added,
            self.tools_changed,
            self.tools_removed,
            self.tools_total,
        );
        if self.tools_unknown > 0 {
            s.push_str(&format!(
                "{} servers listed without their tools (tools not known)\n",
                self.tools_unknown
            ));
        }
        if !self.matched.is_empty() {
            s.push_str(&format!(
                "{} registry entries landed in the record of the same server from another source\n",
                self.matched.len()
            ));
        }
        for (slug, err) in &self.failures {
            s.push_str(&format!(
                "failed: {}: {}\n",
                crate::text::escape_line(slug),
                crate::text::escape_line(super::truncate_str(err, 600))
            ));
        }
        s
    }
}

/// Which shard an id belongs to: the first 8 bytes of its SHA-256, modulo `n`.
pub fn shard_of(id: &str, n: u64) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(id.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b) % n.max(1)
}

/// Why a `--shard` value does not parse (`given` is the value as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardError {
    /// No `/`.
    NotIOfN { given: String },
    /// One side is not a number.
    NotANumber { given: String, part: String },
    /// `i` is 0, `N` is 0, or `i` is over `N`.
    OutOfRange { given: String },
}

impl std::fmt::Display for ShardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShardError::NotIOfN { given } => {
                write!(f, "--shard `{given}`: expected i/N, e.g. 1/4")
            }
            ShardError::NotANumber { given, part } => {
                write!(f, "--shard `{given}`: `{part}` is not a number")
            }
            ShardError::OutOfRange { given } => write!(f, "--shard `{given}`: need 1 <= i <= N"),
        }
    }
}

impl std::error::Error for ShardError {}

/// Parses `i/N` (1-based `i`, as CI matrices count) into a 0-based `(i, n)`.
pub fn parse_shard(s: &str) -> Result<(u64, u64), ShardError> {
    let given = || s.to_string();
    let (a, b) = s
        .split_once('/')
        .ok_or_else(|| ShardError::NotIOfN { given: given() })?;
    let number = |part: &str| {
        part.trim()
            .parse::<u64>()
            .map_err(|_| ShardError::NotANumber {
                given: given(),
                part: part.to_string(),
            })
    };
    let (i, n) = (number(a)?, number(b)?);
    if n == 0 || i == 0 || i > n {
        return Err(ShardError::OutOfRange { given: given() });
    }
    Ok((i - 1, n))
}

/// Gives every target a slug: a server already in the catalogue keeps its slug (found by
/// id); a new one gets the slug of its package name, or that plus a hash of its id when
/// taken. Targets are handled in id order so that the result does not depend on input order.
pub fn assign_slugs(targets: &mut [Target], existing: &HashMap<String, String>) {
    let mut taken: HashSet<String> = existing.values().cloned().collect();
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| targets[a].server.id.cmp(&targets[b].server.id));
    for i in order {
        let t = &mut targets[i];
        if let Some(slug) = existing.get(&t.server.id) {
            t.server.slug = slug.clone();
            continue;
        }
        let mut slug = crate::slug::slugify(&t.slug_base);
        if taken.contains(&slug) {
            slug = format!("{slug}-{}", crate::slug::short_hash(&t.server.id));
        }
        taken.insert(slug.clone());
        t.server.slug = slug;
    }
}

/// id → slug of every record in the catalogue (missing catalogue: empty).
pub fn existing_slugs(cat: &Catalogue) -> HashMap<String, String> {
    match cat.load() {
        Ok(l) => l.servers.into_iter().map(|s| (s.id, s.slug)).collect(),
        Err(_) => HashMap::new(),
    }
}

/// Crawls the targets and writes their records. Targets with the same id are deduplicated
/// (the first wins).
pub async fn run(mut targets: Vec<Target>, opts: &Options) -> Result<Summary> {
    let started = Instant::now();
    let loaded = opts.catalogue.load().unwrap_or_default();
    let merged_into = super::merge::resolve_identities(&mut targets, &loaded.servers);
    let existing: HashMap<String, String> = loaded
        .servers
        .iter()
        .map(|s| (s.id.clone(), s.slug.clone()))
        .collect();
    drop(loaded);
    let mut seen = HashSet::new();
    targets.retain(|t| seen.insert(t.server.id.clone()));
    assign_slugs(&mut targets, &existing);
    if let Some((i, n)) = opts.shard {
        targets.retain(|t| shard_of(&t.server.id, n) == i);
    }
    targets.sort_by(|a, b| a.server.id.cmp(&b.server.id));
    std::fs::create_dir_all(opts.catalogue.servers_dir())?;

    let total = targets.len();
    let bar = if opts.progress_bar && !opts.quiet && std::io::stderr().is_terminal() {
        let pb = indicatif::ProgressBar::new(total as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };

    let mut summary = Summary {
        matched: merged_into,
        ..Summary::default()
    };
    let mut done = 0usize;
    let conc = opts.concurrency.max(1);
    let mut stream = futures_util::stream::iter(targets.into_iter().map(|t| crawl_one(t, opts)))
        .buffer_unordered(conc);
    while let Some(r) = stream.next().await {
        done += 1;
        let line = match r {
            OneResult::Skipped(slug, why) => {
                summary.skipped += 1;
                summary.results.push(ServerResult {
                    slug: slug.clone(),
                    status: "skipped",
                    tools: 0,
                    new_record: false,
                    merged: false,
                    added: 0,
                    changed: 0,
                    removed: 0,
                    error: None,
                    secs: 0.0,
                });
                format!("skipped {slug} ({why})")
            }
            OneResult::Done {
                slug,
                change,
                tools,
                error,
                secs,
                write_error,
            } => {
                let mut change = change;
                let mut error = error;
                if let Some(w) = write_error {
                    change.failed = true;
                    error = Some(w);
                }
                summary.add(&slug, &change, tools, error.as_deref());
                summary.results.push(ServerResult {
                    slug: slug.clone(),
                    status: if change.failed {
                        "failed"
                    } else if change.partial {
                        "partial"
                    } else if change.tools_unknown {
                        "tools_unknown"
                    } else {
                        "ok"
                    },
                    tools,
                    new_record: change.new_record,
                    merged: change.merged,
                    added: change.added,
                    changed: change.changed,
                    removed: change.removed,
                    error: error
                        .as_deref()
                        .map(|e| super::truncate_str(e, 600).to_string()),
                    secs: (secs * 10.0).round() / 10.0,
                });
                let status = if change.failed {
                    "FAILED"
                } else if change.partial {
                    "partial"
                } else {
                    "ok"
                };
                // Server text (errors, stderr tails) is escaped before it reaches a terminal.
                let mut l = format!(
                    "{status:7} {} ({tools} tools, {secs:.1} s)",
                    crate::text::escape_line(&slug)
                );
                if let Some(e) = error {
                    l.push_str(&format!(
                        ": {}",
                        crate::text::escape_line(super::truncate_str(&e, 300))
                    ));
                }
                l
            }
        };
        match &bar {
            Some(pb) => {
                pb.set_position(done as u64);
                pb.set_message(super::truncate_str(&line, 60).to_string());
            }
            None if !opts.quiet => eprintln!("[{done}/{total}] {line}"),
            None => {}
        }
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let _ = started;
    Ok(summary)
}

enum OneResult {
    Skipped(String, &'static str),
    Done {
        slug: String,
        change: Change,
        tools: usize,
        error: Option<String>,
        secs: f64,
        write_error: Option<String>,
    },
}

async fn crawl_one(t: Target, opts: &Options) -> OneResult {
    let start = Instant::now();
    let path = opts.catalogue.server_path(&t.server.slug);
    // A record that cannot be read is never replaced: the server is not crawled, the file
    // stays as it is, and the error names it.
    let existing = match load_server(&path) {
        Ok(rec) => Some(rec),
        Err(e) if !path.exists() && !path.is_symlink() => {
            let _ = e;
            None
        }
        Err(e) => {
            return OneResult::Done {
                slug: t.server.slug.clone(),
                change: Change {
                    failed: true,
                    ..Change::default()
                },
                tools: 0,
                error: Some(format!(
                    "cannot read the existing record, so it was left untouched and the server not crawled: {e}"
                )),
                secs: 0.0,
                write_error: None,
            };
        }
    };
    if let (Some(since), Some(rec)) = (&opts.resume_since, &existing) {
        if rec
            .crawl
            .last_attempt
            .as_deref()
            .is_some_and(|a| a >= since.as_str())
        {
            return OneResult::Skipped(t.server.slug.clone(), "done in the interrupted run");
        }
    }
    if opts.only_failed
        && existing.as_ref().is_some_and(|r| {
            matches!(r.crawl.status, CrawlStatus::Ok | CrawlStatus::Partial) && r.id == t.server.id
        })
    {
        return OneResult::Skipped(t.server.slug.clone(), "last crawl succeeded");
    }
    // A launched package whose pinned version has not changed since a good crawl gives the
    // same tools again: skip it unless --force.
    // The record may be another source's that the launch joined (a registry's record lists
    // the registry's package first): the same package is looked up by identifier, and the
    // record's tools must be the launch's own.
    if !opts.force && opts.launch && matches!(t.how, How::Launch { .. }) {
        if let (Some(rec), Some(pkg)) = (&existing, t.server.packages.first()) {
            let recorded = rec
                .packages
                .iter()
                .find(|q| q.registry == pkg.registry && q.identifier == pkg.identifier)
                .and_then(|q| q.version.as_deref());
            let launched = rec
                .provenance
                .iter()
                .any(|p| p.tools && p.source == launch_source(Some(pkg.registry.as_str())));
            if rec.id == t.server.id
                && matches!(rec.crawl.status, CrawlStatus::Ok | CrawlStatus::Partial)
                && pkg.version.is_some()
                && recorded == pkg.version.as_deref()
                && launched
            {
                return OneResult::Skipped(
                    t.server.slug.clone(),
                    "version unchanged; --force re-crawls",
                );
            }
        }
    }
    if let Some(rec) = &existing {
        if rec.id != t.server.id {
            return OneResult::Done {
                slug: t.server.slug.clone(),
                change: Change {
                    failed: true,
                    ..Change::default()
                },
                tools: 0,
                error: Some(format!(
                    "{} holds another server (`{}`), not `{}`; move it aside",
                    path.display(),
                    rec.id,
                    t.server.id
                )),
                secs: 0.0,
                write_error: None,
            };
        }
    }
    let now = super::now_rfc3339();
    let mut side = Side::default();
    let live = fetch_live(&t, opts, &mut side).await;
    let mut fresh = t.server.clone();
    if let Some(entry) = t.registry_tools.as_ref().and_then(|r| r.entry.clone()) {
        fresh.registry_metadata = Some(RegistryMetadata {
            entries: vec![entry],
            disagreements: Vec::new(),
        });
    }
    if side.metadata.is_some() {
        fresh.package_metadata = side.metadata.clone();
    }
    let outcome = match (live, &t.registry_tools) {
        (Some(Ok((fetched, prov))), _) => {
            if fresh.version.is_none() {
                fresh.version = fetched
                    .server_info
                    .as_ref()
                    .and_then(|i| i.get("version"))
                    .and_then(|v| v.as_str())
                    .map(|v| super::truncate_str(v, 100).to_string());
            }
            Outcome::Tools {
                tools: fetched.tools,
                partial: fetched.partial,
                provenance: Provenance {
                    protocol_version: fetched.protocol_version,
                    ..prov
                },
            }
        }
        (live, Some(reg)) => match &reg.tools {
            Some((tools, partial)) => Outcome::Tools {
                tools: tools.clone(),
                partial: match (partial, live) {
                    (Some(p), Some(Err(e))) => Some(format!("{p}; live fetch failed: {e}")),
                    (p, _) => p.clone(),
                },
                provenance: reg.provenance.clone(),
            },
            None => match live {
                Some(Err(e)) => Outcome::Failed {
                    error: e.to_string(),
                },
                _ => Outcome::MetadataOnly {
                    provenance: reg.provenance.clone(),
                },
            },
        },
        (Some(Err(e)), None) => Outcome::Failed {
            error: if e.auth_required() {
                format!("auth required: {}", e.message)
            } else {
                e.message
            },
        },
        (None, None) => Outcome::Failed {
            error: "nothing to crawl: no tools from a registry, and no way to reach the server live (use --launch or --live)".into(),
        },
    };
    let error = match &outcome {
        Outcome::Failed { error } => Some(error.clone()),
        Outcome::Tools {
            partial: Some(p), ..
        } => Some(p.clone()),
        _ => None,
    };
    let (mut rec, change) = merge(existing, &fresh, outcome, &now);
    if fresh.package_metadata.is_some() {
        rec.package_metadata = fresh.package_metadata.clone();
    }
    let write_error = opts
        .catalogue
        .write(&rec)
        .err()
        .map(|e| format!("{e:#}"))
        .or(side.cleanup_error);
    OneResult::Done {
        slug: rec.slug.clone(),
        change,
        tools: rec.tools.len(),
        error,
        secs: start.elapsed().as_secs_f64(),
        write_error,
    }
}

/// What a live fetch found besides the tools.
#[derive(Default)]
struct Side {
    /// The installed package's own metadata.
    metadata: Option<PackageMetadata>,
    /// Removing the scratch folder failed (an error of the run; the record is still written).
    cleanup_error: Option<String>,
}

/// Live fetch, if this run may reach the server. Returns the provenance to record.
async fn fetch_live(
    t: &Target,
    opts: &Options,
    side: &mut Side,
) -> Option<Result<(Fetched, Provenance), FetchError>> {
    match &t.how {
        How::Launch {
            argv,
            env,
            pass_env,
            files,
        } if opts.launch => {
            let scratch = match Scratch::new(&t.server.slug) {
                Ok(d) => d,
                Err(e) => return Some(Err(FetchError::of(FetchErrorKind::Launch, e.to_string()))),
            };
            let r = launch(t, opts, side, &scratch, argv, env, pass_env, files).await;
            if let Err(e) = scratch.close() {
                side.cleanup_error = Some(e.to_string());
            }
            Some(r)
        }
        How::Url(url) if opts.live => {
            let fetched_at = super::now_rfc3339();
            // Which transport answered is known only after the handshake.
            let r = fetch_tools_http(url, &opts.limits, &opts.polite).await;
            Some(r.map(|(f, kind)| {
                (
                    f,
                    Provenance {
                        source: kind.into(),
                        fetched_at,
                        protocol_version: None,
                        location: Some(url.clone()),
                        tools: true,
                    },
                )
            }))
        }
        _ => None,
    }
}

/// Installs (for `npx` / `uvx` commands) and starts one server in its scratch folder.
#[allow(clippy::too_many_arguments)]
async fn launch(
    t: &Target,
    opts: &Options,
    side: &mut Side,
    scratch: &Scratch,
    argv: &[String],
    env: &BTreeMap<String, String>,
    pass_env: &[String],
    files: &BTreeMap<String, String>,
) -> Result<(Fetched, Provenance), FetchError> {
    let mut spec = LaunchSpec {
        program: argv[0].clone(),
        args: argv[1..].to_vec(),
        env: BTreeMap::new(),
        pass_env: pass_env.to_vec(),
        scratch: scratch.path().to_path_buf(),
        package_cache: opts.package_cache.clone(),
        sandbox: opts.sandbox,
        pass_proxy: opts.pass_proxy,
        inside: Some(std::path::Path::new(sandbox::INSIDE_SCRATCH).join(&t.server.slug)),
        limits: opts.resource_limits,
        ..LaunchSpec::default()
    };
    let visible = spec.visible_scratch();
    let expand = |s: &str| expand_placeholders(s, &visible);
    spec.env = env.iter().map(|(k, v)| (k.clone(), expand(v))).collect();
    // Install first (into the package cache), then run from the install folder.
    let plan =
        install::plan(argv).map_err(|e| FetchError::of(FetchErrorKind::Launch, e.to_string()))?;
    let mut installed = None;
    if let (Some(plan), Some(cache)) = (&plan, &opts.package_cache) {
        let iopts = InstallOptions {
            cache: cache.clone(),
            sandboxed: opts.sandbox == SandboxMode::Bubblewrap,
            scripts: false,
        };
        let inst = install::install(plan, &iopts)
            .await
            .map_err(install_failed)?;
        installed = Some((plan.clone(), iopts, inst));
    } else if plan.is_some() && opts.sandbox == SandboxMode::Bubblewrap {
        return Err(FetchError::new(
            "a sandboxed launch needs a package cache to install into (--package-cache)",
        ));
    }
    let apply = |spec: &mut LaunchSpec, inst: &install::Installed, plan: &install::InstallPlan| {
        spec.program = inst.program.to_string_lossy().into_owned();
        spec.args = plan.args.iter().map(|a| expand(a)).collect();
        spec.ro = std::iter::once(inst.dir.clone())
            .chain(inst.ro.iter().cloned())
            .collect();
        spec.path_prepend = inst.path.clone();
        for (k, v) in &inst.env {
            spec.env.entry(k.clone()).or_insert_with(|| v.clone());
        }
    };
    match &installed {
        Some((plan, _, inst)) => {
            apply(&mut spec, inst, plan);
            side.metadata = inst.metadata.clone();
        }
        None => spec.args = argv[1..].iter().map(|a| expand(a)).collect(),
    }
    let source = launch_source(t.server.packages.first().map(|p| p.registry.as_str()));
    let prov = Provenance {
        source: source.into(),
        fetched_at: super::now_rfc3339(),
        protocol_version: None,
        location: Some(super::stdio::shell_join(argv)),
        tools: true,
    };
    let mut r = start_and_fetch(&spec, &opts.limits, scratch, files, &visible).await;
    // Some legacy servers die on the `server/discover` probe: start them again and go
    // straight to `initialize`.
    if r.as_ref().is_err_and(|e| e.retry_without_discover) {
        let legacy = Limits {
            probe_discover: false,
            ..opts.limits.clone()
        };
        r = start_and_fetch(&spec, &legacy, scratch, files, &visible).await;
    }
    // Installed without its install scripts and it does not start: install again with them
    // (still in the install sandbox) and try once more.
    if let (Err(_), Some((plan, iopts, inst))) = (&r, &installed) {
        if plan.ecosystem == Ecosystem::Npm && inst.has_scripts && !inst.scripts {
            let with_scripts = InstallOptions {
                scripts: true,
                ..iopts.clone()
            };
            if let Ok(inst2) = install::install(plan, &with_scripts).await {
                apply(&mut spec, &inst2, plan);
                side.metadata = inst2.metadata.clone();
                r = start_and_fetch(&spec, &opts.limits, scratch, files, &visible).await;
            }
        }
    }
    r.map(|f| (f, prov))
}

/// A failed install as the fetch error of the server: a registry that could not be reached
/// is a connection failure; a package that is missing or does not resolve cannot be launched.
fn install_failed(e: install::InstallError) -> FetchError {
    let kind = match e.kind {
        InstallErrorKind::RegistryUnreachable => FetchErrorKind::Refused,
        InstallErrorKind::NotFound
        | InstallErrorKind::VersionMissing
        | InstallErrorKind::ResolutionFailed
        | InstallErrorKind::Other => FetchErrorKind::Launch,
    };
    FetchError::of(kind, format!("install: {e}"))
}

/// Writes the dummy files afresh and runs one fetch.
async fn start_and_fetch(
    spec: &LaunchSpec,
    limits: &Limits,
    scratch: &Scratch,
    files: &BTreeMap<String, String>,
    visible: &std::path::Path,
) -> Result<Fetched, FetchError> {
    write_files(scratch.path(), visible, files)?;
    let tr = StdioTransport::spawn(spec, limits)?;
    fetch_tools(Transport::Stdio(tr), limits).await
}

/// Writes dummy files (credentials, configs) inside the scratch folder; a path that would
/// leave it is refused.
fn write_files(
    scratch: &std::path::Path,
    visible: &std::path::Path,
    files: &BTreeMap<String, String>,
) -> Result<(), FetchError> {
    let failed = |m: String| FetchError::of(FetchErrorKind::Launch, m);
    for (rel, content) in files {
        let p = std::path::Path::new(rel);
        if p.is_absolute()
            || p.components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(failed(format!(
                "file `{rel}`: must be a relative path inside the scratch folder"
            )));
        }
        let full = scratch.join(p);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(format!("file `{rel}`: {e}")))?;
        }
        let content = expand_placeholders(content, visible);
        std::fs::write(&full, content).map_err(|e| failed(format!("file `{rel}`: {e}")))?;
    }
    Ok(())
}

/// Default concurrency: the core count, at least 1.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// The provenance source of a launch of a package from this registry.
fn launch_source(registry: Option<&str>) -> &'static str {
    match registry {
        Some("npm") => "npm-launch",
        Some("pypi") => "pypi-launch",
        Some("oci") => "oci-launch",
        _ => "stdio",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_ids_deterministically() {
        let ids: Vec<String> = (0..200).map(|i| format!("npm:pkg-{i}")).collect();
        let n = 4;
        let mut counts = [0usize; 4];
        for id in &ids {
            let s = shard_of(id, n);
            assert_eq!(s, shard_of(id, n));
            counts[s as usize] += 1;
        }
        assert_eq!(counts.iter().sum::<usize>(), 200);
        assert!(counts.iter().all(|&c| c > 20), "{counts:?}");
        assert_eq!(parse_shard("2/4").unwrap(), (1, 4));
        assert!(parse_shard("0/4").is_err() && parse_shard("5/4").is_err());
        assert!(matches!(
            parse_shard("a/4"),
            Err(ShardError::NotANumber { ref part, .. }) if part == "a"
        ));
    }
}
