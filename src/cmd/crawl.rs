//! `toolrisk crawl`: collect tool definitions from a sources file, one stdio command or one
//! URL, and merge them into the catalogue. Exit 1 when any server failed (the rest still
//! land).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use toolrisk::catalogue::{write_atomic, Catalogue};
use toolrisk::crawl::sandbox::{self, SandboxMode};
use toolrisk::crawl::scheduler::{self, Options};
use toolrisk::crawl::targets::{default_package_cache, parse_env, stdio_target, url_target};
use toolrisk::crawl::{registries, sources, Limits};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// Crawl the servers listed in a sources file (see docs/crawling.md).
    #[arg(long, value_name = "FILE")]
    pub sources: Option<PathBuf>,
    /// Crawl one stdio server: the command line, quoted (runs it, like --launch).
    #[arg(long, value_name = "COMMAND")]
    pub stdio: Option<String>,
    /// Crawl one remote server (Streamable HTTP or legacy SSE; detected).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Read a registry: official, glama, smithery (needs SMITHERY_API_KEY), pulsemcp,
    /// toolhive or docker.
    #[arg(long, value_name = "REGISTRY")]
    pub from: Option<String>,
    /// Where the registry is (URL; a file or checkout folder for toolhive / docker).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Official registry: ignore the incremental state and read everything.
    #[arg(long)]
    pub full: bool,
    /// Id of the record for --stdio / --url (default: derived from the package or URL).
    #[arg(long)]
    pub id: Option<String>,
    /// Environment for --stdio / --url servers, K=V (repeatable). Use dummy values.
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// Start packages over stdio (npx / uvx). Runs third-party code: use a container.
    #[arg(long)]
    pub launch: bool,
    /// Connect to remote endpoints of the servers.
    #[arg(long)]
    pub live: bool,
    /// Run launched servers WITHOUT the bubblewrap sandbox, with your user's rights (they can
    /// read your files and reach the network). Only for a throw-away container or VM.
    #[arg(long)]
    pub no_sandbox: bool,
    /// Pass your proxy and CA variables (HTTPS_PROXY, SSL_CERT_FILE, …) to launched servers.
    /// Off by default: proxy URLs may carry `user:pass@`.
    #[arg(long)]
    pub pass_proxy: bool,
    /// Re-crawl launched packages even when their pinned version did not change since the
    /// last good crawl.
    #[arg(long)]
    pub force: bool,
    /// Servers crawled at once (default: the core count).
    #[arg(long, short = 'j')]
    pub concurrency: Option<usize>,
    /// Crawl only shard i of N (1-based), split deterministically by server id.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// Resume an interrupted run: skip servers already attempted since it started.
    #[arg(long)]
    pub resume: bool,
    /// Retry only the servers whose last crawl failed (or that were never crawled).
    #[arg(long)]
    pub only_failed: bool,
    /// Shared npm / uv cache for launched servers (default: $XDG_CACHE_HOME/toolrisk/packages
    /// or ~/.cache/toolrisk/packages; /var/cache/toolrisk/packages as root).
    #[arg(long, value_name = "DIR")]
    pub package_cache: Option<PathBuf>,
    /// Largest message (line, body or SSE event) in bytes.
    #[arg(long, default_value_t = Limits::default().max_message_bytes)]
    pub max_message_bytes: usize,
    /// Largest total read from one server, in bytes.
    #[arg(long, default_value_t = Limits::default().max_total_bytes)]
    pub max_total_bytes: usize,
    /// Most tools kept per server.
    #[arg(long, default_value_t = Limits::default().max_tools)]
    pub max_tools: usize,
    /// Longest description stored, in bytes (longer ones are truncated and flagged).
    #[arg(long, default_value_t = Limits::default().max_description_bytes)]
    pub max_description_bytes: usize,
    /// Seconds for the first answer of a cold-starting server.
    #[arg(long, default_value_t = Limits::default().init_timeout.as_secs())]
    pub init_timeout: u64,
    /// Seconds to wait for `server/discover` before also trying `initialize`.
    #[arg(long, default_value_t = Limits::default().discover_timeout.as_secs())]
    pub discover_timeout: u64,
    /// Seconds for each later request (one tools/list page).
    #[arg(long, default_value_t = Limits::default().request_timeout.as_secs())]
    pub request_timeout: u64,
    /// Seconds for one server in all.
    #[arg(long, default_value_t = Limits::default().server_timeout.as_secs())]
    pub server_timeout: u64,
    /// Milliseconds between two HTTP requests to the same host.
    #[arg(long, default_value_t = 250)]
    pub polite_ms: u64,
    /// No per-server lines, only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format of the report: `text`, or `json` (totals and one object per server).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

impl Args {
    fn limits(&self) -> Limits {
        Limits {
            max_message_bytes: self.max_message_bytes,
            max_total_bytes: self.max_total_bytes,
            max_tools: self.max_tools,
            max_description_bytes: self.max_description_bytes,
            init_timeout: Duration::from_secs(self.init_timeout),
            discover_timeout: Duration::from_secs(self.discover_timeout),
            request_timeout: Duration::from_secs(self.request_timeout),
            server_timeout: Duration::from_secs(self.server_timeout),
            ..Limits::default()
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let modes = [
        args.sources.is_some(),
        args.stdio.is_some(),
        args.url.is_some(),
        args.from.is_some(),
    ];
    if modes.iter().filter(|m| **m).count() != 1 {
        anyhow::bail!(
            "give exactly one of --sources FILE, --stdio 'COMMAND', --url URL or --from REGISTRY"
        );
    }
    // One writer at a time: a second crawl of this catalogue waits for the first.
    let _lock = Catalogue::new(&args.catalogue).lock_for_writing(|path| {
        eprintln!(
            "note: another crawl is writing this catalogue; waiting for its lock ({})",
            path.display()
        )
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let polite = toolrisk::crawl::http::Politeness::new(Duration::from_millis(args.polite_ms));
    let run_start = toolrisk::crawl::now_rfc3339();
    let mut registry_state: Option<(PathBuf, serde_json::Value, String)> = None;
    let env = parse_env(&args.env)?;
    let mut launch = args.launch;
    let mut live = args.live;
    let targets = if let Some(path) = &args.sources {
        sources::targets(&sources::load(path)?)?
    } else if let Some(cmd) = &args.stdio {
        launch = true;
        vec![stdio_target(cmd, args.id.as_deref(), env)?]
    } else if let Some(url) = &args.url {
        live = true;
        vec![url_target(url, args.id.as_deref())?]
    } else if let Some(reg) = &args.from {
        let mut ctx = registries::Ctx::new(
            reg,
            args.base_url.as_deref(),
            &args.limits(),
            polite.clone(),
        )?;
        ctx.api_key = std::env::var("SMITHERY_API_KEY")
            .ok()
            .filter(|_| reg == "smithery");
        // Incremental reads of the official registry start from the last complete one.
        let state_path = args.catalogue.join("crawl-state.json");
        let state: serde_json::Value = std::fs::read(&state_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        let key = format!("{reg} {}", ctx.base);
        if reg == "official" && !args.full {
            ctx.updated_since = state
                .get(&key)
                .and_then(|v| v.get("updated_since"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
        }
        let found = rt.block_on(registries::discover(&ctx))?;
        for p in &found.problems {
            eprintln!("warning: {}", toolrisk::text::escape_line(p));
        }
        eprintln!(
            "{}: {} servers from {} page(s){}{}{}",
            reg,
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
        registry_state = Some((state_path, state, key));
        found.targets
    } else {
        Vec::new()
    };
    if args.sources.is_some() && !launch && !live {
        anyhow::bail!(
            "a sources file lists servers to reach live: add --launch (start packages; runs third-party code, use a container) and/or --live (connect to URLs)"
        );
    }
    let shard = match &args.shard {
        Some(s) => Some(scheduler::parse_shard(s).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let catalogue = Catalogue::new(&args.catalogue);
    std::fs::create_dir_all(catalogue.servers_dir())?;

    // A run marker makes `--resume` possible after a kill: it holds the start time of the
    // run and is removed when the run completes.
    let marker = args.catalogue.join(".crawl-run");
    let started = toolrisk::crawl::now_rfc3339();
    let resume_since = if args.resume {
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
    write_atomic(
        &marker,
        resume_since.as_deref().unwrap_or(&started).as_bytes(),
    )?;

    let sandbox_mode = if args.no_sandbox {
        SandboxMode::Unconfined
    } else {
        SandboxMode::Bubblewrap
    };
    if launch {
        match sandbox_mode {
            SandboxMode::Unconfined => eprintln!("{}", sandbox::NO_SANDBOX_WARNING),
            SandboxMode::Bubblewrap => {
                if let Err(e) = sandbox::bwrap() {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    }
    let package_cache = args.package_cache.clone().or_else(default_package_cache);
    let opts = Options {
        catalogue,
        limits: args.limits(),
        concurrency: args
            .concurrency
            .unwrap_or_else(scheduler::default_concurrency),
        shard,
        launch,
        live,
        package_cache,
        resume_since,
        only_failed: args.only_failed,
        progress_bar: true,
        quiet: args.quiet,
        polite,
        sandbox: sandbox_mode,
        pass_proxy: args.pass_proxy,
        force: args.force,
        resource_limits: Default::default(),
    };
    let t0 = std::time::Instant::now();
    let summary = rt.block_on(scheduler::run(targets, &opts))?;
    let _ = std::fs::remove_file(&marker);
    if let Some((path, mut state, key)) = registry_state {
        // Remember where the next incremental read starts: this run's start time.
        state[&key] = serde_json::json!({"updated_since": run_start});
        write_atomic(&path, serde_json::to_string_pretty(&state)?.as_bytes())?;
    }
    match args.format {
        Format::Text => print!("{}", summary.render(t0.elapsed().as_secs_f64())),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary.to_json(t0.elapsed().as_secs_f64()))?
        ),
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
