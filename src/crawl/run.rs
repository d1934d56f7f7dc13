//! One crawl run as `toolrisk crawl` asks for it: build the targets (a sources file, one stdio
//! command, one URL or a registry read), hold the catalogue's write lock, keep the run marker
//! that makes `--resume` possible and the registry's incremental state, and run the scheduler.
//! The command itself only turns its flags into a [`CrawlRequest`] and prints the report.

use super::http::Politeness;
use super::sandbox::{self, ResourceLimits, SandboxMode};
use super::scheduler::{self, Options, Summary, Target};
use super::targets::{default_package_cache, stdio_target, url_target};
use super::{registries, sources, Limits};
use crate::catalogue::{write_atomic, Catalogue};
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the servers of a run come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The servers listed in a sources file (docs/crawling.md).
    Sources(PathBuf),
    /// One stdio server: its command line, quoted (implies launching).
    Stdio {
        command: String,
        /// Id of the record (default: derived from the package or the command).
        id: Option<String>,
        env: BTreeMap<String, String>,
    },
    /// One remote server (implies connecting to it).
    Url {
        url: String,
        /// Id of the record (default: derived from the URL).
        id: Option<String>,
    },
    /// A registry read: `official`, `glama`, `smithery`, `pulsemcp`, `toolhive` or `docker`.
    Registry {
        name: String,
        /// Where the registry is (URL; a file or folder for `toolhive` / `docker`).
        base_url: Option<String>,
        /// Official registry: ignore the incremental state and read everything.
        full: bool,
        /// Smithery's API key (ignored by the other registries).
        api_key: Option<String>,
    },
}

/// Everything one crawl run needs. [`CrawlRequest::new`] gives the defaults of `toolrisk
/// crawl` (limits from [`Limits::default`]).
#[derive(Debug, Clone)]
pub struct CrawlRequest {
    /// The catalogue folder written to (created when missing).
    pub catalogue: PathBuf,
    pub source: Source,
    /// Start packages over stdio (always on for [`Source::Stdio`]).
    pub launch: bool,
    /// Connect to remote endpoints (always on for [`Source::Url`]).
    pub live: bool,
    pub sandbox: SandboxMode,
    /// Pass the proxy and CA variables to launched servers.
    pub pass_proxy: bool,
    /// Re-crawl launched packages even when their pinned version did not change.
    pub force: bool,
    /// Servers crawled at once (default: the core count).
    pub concurrency: Option<usize>,
    /// `(i, n)`, 0-based `i`, as [`scheduler::parse_shard`] gives it.
    pub shard: Option<(u64, u64)>,
    /// Resume an interrupted run (skip servers attempted since it started).
    pub resume: bool,
    /// Retry only the servers whose last crawl failed.
    pub only_failed: bool,
    /// Shared npm / uv cache (default: [`default_package_cache`]).
    pub package_cache: Option<PathBuf>,
    pub limits: Limits,
    pub resource_limits: ResourceLimits,
    /// No per-server lines.
    pub quiet: bool,
    /// A progress bar on a terminal.
    pub progress_bar: bool,
}

impl CrawlRequest {
    pub fn new(catalogue: impl Into<PathBuf>, source: Source) -> CrawlRequest {
        CrawlRequest {
            catalogue: catalogue.into(),
            source,
            launch: false,
            live: false,
            sandbox: SandboxMode::default(),
            pass_proxy: false,
            force: false,
            concurrency: None,
            shard: None,
            resume: false,
            only_failed: false,
            package_cache: None,
            limits: Limits::default(),
            resource_limits: ResourceLimits::default(),
            quiet: false,
            progress_bar: true,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct CrawlReport {
    pub summary: Summary,
    /// Wall-clock seconds of the crawl proper (after the targets were built).
    pub elapsed_secs: f64,
}

/// The file of the registries' incremental state, in the catalogue folder.
pub const STATE_FILE: &str = "crawl-state.json";
/// The run marker (the start time of an unfinished run), in the catalogue folder.
pub const RUN_MARKER: &str = ".crawl-run";

/// Runs one crawl: waits for the catalogue's write lock, builds the targets, crawls and merges
/// them. Servers that failed are counted in the summary, not errors; an error is a run that
/// could not start (bad input, no sandbox, an unreadable registry, an unwritable catalogue).
pub fn run(req: CrawlRequest) -> Result<CrawlReport> {
    let mut launch = req.launch || matches!(req.source, Source::Stdio { .. });
    let live = req.live || matches!(req.source, Source::Url { .. });
    if matches!(req.source, Source::Sources(_)) && !launch && !live {
        anyhow::bail!(
            "a sources file lists servers to reach live: add --launch (start packages; runs third-party code, use a container) and/or --live (connect to URLs)"
        );
    }
    // One writer at a time: a second crawl of this catalogue waits for the first.
    let _lock = Catalogue::new(&req.catalogue).lock_for_writing(|path| {
        eprintln!(
            "note: another crawl is writing this catalogue; waiting for its lock ({})",
            path.display()
        )
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let polite = Politeness::new(req.limits.polite_gap);
    let run_start = super::now_rfc3339();
    let mut registry_state = None;
    let targets = match &req.source {
        Source::Sources(path) => sources::targets(&sources::load(path)?)?,
        Source::Stdio { command, id, env } => {
            launch = true;
            vec![stdio_target(command, id.as_deref(), env.clone())?]
        }
        Source::Url { url, id } => vec![url_target(url, id.as_deref())?],
        Source::Registry {
            name,
            base_url,
            full,
            api_key,
        } => {
            let (targets, state) = rt.block_on(read_registry(
                &req,
                name,
                base_url.as_deref(),
                *full,
                api_key.clone(),
                polite.clone(),
            ))?;
            registry_state = Some(state);
            targets
        }
    };
    // Before the run marker: a run that cannot start leaves nothing to resume.
    if launch {
        match req.sandbox {
            SandboxMode::Unconfined => eprintln!("{}", sandbox::NO_SANDBOX_WARNING),
            SandboxMode::Bubblewrap => sandbox::bwrap().map(drop)?,
        }
    }
    let catalogue = Catalogue::new(&req.catalogue);
    std::fs::create_dir_all(catalogue.servers_dir())?;

    // A run marker makes `--resume` possible after a kill: it holds the start time of the
    // run and is removed when the run completes.
    let marker = req.catalogue.join(RUN_MARKER);
    let resume_since = if req.resume {
        match std::fs::read_to_string(&marker) {
            Ok(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => {
                eprintln!("note: no interrupted run to resume; crawling everything");
                None
            }
        }
    } else {
        None
    };
    let started = super::now_rfc3339();
    write_atomic(
        &marker,
        resume_since.as_deref().unwrap_or(&started).as_bytes(),
    )?;

    let opts = Options {
        catalogue,
        limits: req.limits.clone(),
        concurrency: req
            .concurrency
            .unwrap_or_else(scheduler::default_concurrency),
        shard: req.shard,
        launch,
        live,
        package_cache: req.package_cache.clone().or_else(default_package_cache),
        resume_since,
        only_failed: req.only_failed,
        progress_bar: req.progress_bar,
        quiet: req.quiet,
        polite,
        sandbox: req.sandbox,
        pass_proxy: req.pass_proxy,
        force: req.force,
        resource_limits: req.resource_limits,
    };
    let t0 = Instant::now();
    let summary = rt.block_on(scheduler::run(targets, &opts))?;
    let _ = std::fs::remove_file(&marker);
    if let Some(state) = registry_state {
        state.save(&run_start)?;
    }
    Ok(CrawlReport {
        summary,
        elapsed_secs: t0.elapsed().as_secs_f64(),
    })
}

/// The incremental state of registry reads (`crawl-state.json`): per registry and base, the
/// time the last complete read started.
struct RegistryState {
    path: PathBuf,
    state: serde_json::Value,
    key: String,
}

impl RegistryState {
    fn load(catalogue: &Path, key: String) -> RegistryState {
        let path = catalogue.join(STATE_FILE);
        let state = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        RegistryState { path, state, key }
    }

    fn updated_since(&self) -> Option<String> {
        self.state
            .get(&self.key)
            .and_then(|v| v.get("updated_since"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// Remembers where the next incremental read starts: this run's start time.
    fn save(mut self, run_start: &str) -> Result<()> {
        self.state[&self.key] = serde_json::json!({"updated_since": run_start});
        write_atomic(
            &self.path,
            serde_json::to_string_pretty(&self.state)?.as_bytes(),
        )?;
        Ok(())
    }
}

async fn read_registry(
    req: &CrawlRequest,
    name: &str,
    base_url: Option<&str>,
    full: bool,
    api_key: Option<String>,
    polite: Politeness,
) -> Result<(Vec<Target>, RegistryState)> {
    let mut ctx = registries::Ctx::new(name, base_url, &req.limits, polite)?;
    ctx.api_key = api_key.filter(|_| ctx.registry == registries::Registry::Smithery);
    // Incremental reads of the official registry start from the last complete one.
    let state = RegistryState::load(&req.catalogue, format!("{name} {}", ctx.base));
    if ctx.registry == registries::Registry::Official && !full {
        ctx.updated_since = state.updated_since();
    }
    let found = registries::discover(&ctx).await?;
    for p in &found.problems {
        eprintln!("warning: {}", crate::text::escape_line(p));
    }
    eprintln!(
        "{}: {} servers from {} page(s){}{}{}",
        name,
        found.targets.len(),
        found.pages,
        if found.deleted > 0 {
            format!(", {} deleted skipped", found.deleted)
        } else {
            String::new()
        },
        if found.problems.is_empty() {
            String::new()
        } else {
            format!(", {} problem(s) reported above", found.problems.len())
        },
        match &ctx.updated_since {
            Some(s) => format!(" (updated since {s})"),
            None => String::new(),
        }
    );
    Ok((found.targets, state))
}
