//! `toolrisk crawl`: collect tool definitions from a sources file, one stdio command or one
//! URL, and merge them into the catalogue. Exit 1 when any server failed (the rest still
//! land).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use toolrisk::catalogue::{write_atomic, Catalogue};
use toolrisk::crawl::sandbox::{self, SandboxMode};
use toolrisk::crawl::scheduler::{self, How, Options, Target};
use toolrisk::crawl::{registries, sources, Limits};
use toolrisk::model::{Package, Server};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The catalogue folder to merge into.
    #[arg(long, default_value = "catalogue")]
    pub catalogue: PathBuf,
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
    #[arg(long, default_value_t = 90)]
    pub init_timeout: u64,
    /// Seconds to wait for `server/discover` before also trying `initialize`.
    #[arg(long, default_value_t = 20)]
    pub discover_timeout: u64,
    /// Seconds for each later request (one tools/list page).
    #[arg(long, default_value_t = 30)]
    pub request_timeout: u64,
    /// Seconds for one server in all.
    #[arg(long, default_value_t = 180)]
    pub server_timeout: u64,
    /// Milliseconds between two HTTP requests to the same host.
    #[arg(long, default_value_t = 250)]
    pub polite_ms: u64,
    /// No per-server lines, only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
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
    print!("{}", summary.render(t0.elapsed().as_secs_f64()));
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn parse_env(pairs: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut env = std::collections::BTreeMap::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--env `{p}`: expected K=V"))?;
        if k.is_empty() {
            anyhow::bail!("--env `{p}`: empty variable name");
        }
        env.insert(k.to_string(), v.to_string());
    }
    Ok(env)
}

fn default_package_cache() -> Option<PathBuf> {
    // As root, launched servers run as a separate unprivileged user, which must be able to
    // reach the install folders: the system cache folder, not /root's.
    // SAFETY: geteuid has no preconditions.
    if std::env::var_os("XDG_CACHE_HOME").is_none() && unsafe { libc::geteuid() } == 0 {
        return Some(PathBuf::from("/var/cache/toolrisk/packages"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("toolrisk").join("packages"))
}

/// For `npx -y @scope/pkg@1.2 …` or `uvx [--from X] pkg …`: the package, so the record gets
/// the same id and slug as a crawl from a sources file would give it.
fn guess_package(argv: &[String]) -> Option<Package> {
    let prog = std::path::Path::new(argv.first()?)
        .file_name()?
        .to_str()?
        .to_string();
    let registry = match prog.as_str() {
        "npx" => "npm",
        "uvx" => "pypi",
        _ => return None,
    };
    let mut it = argv[1..].iter();
    let mut from = None;
    let mut first = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--from" => from = it.next().cloned(),
            "--with" | "-p" | "--package" | "--python" => {
                let v = it.next().cloned();
                if a == "-p" || a == "--package" {
                    from = v;
                }
            }
            s if s.starts_with('-') => {}
            s => {
                first = Some(s.to_string());
                break;
            }
        }
    }
    let spec = from.or(first)?;
    let (name, version) = split_version(&spec, registry);
    Some(Package {
        registry: registry.into(),
        identifier: name,
        version,
        transport: Some("stdio".into()),
    })
}

fn split_version(spec: &str, registry: &str) -> (String, Option<String>) {
    if registry == "npm" {
        // `@scope/name@1.2.3` or `name@1.2.3`
        let at = spec[1..].find('@').map(|i| i + 1);
        if let Some(i) = at {
            return (spec[..i].to_string(), Some(spec[i + 1..].to_string()));
        }
    } else if let Some((n, v)) = spec.split_once("==").or_else(|| spec.split_once('@')) {
        return (n.to_string(), Some(v.to_string()));
    }
    (spec.to_string(), None)
}

fn stdio_target(
    cmd: &str,
    id: Option<&str>,
    env: std::collections::BTreeMap<String, String>,
) -> anyhow::Result<Target> {
    let mut argv = toolrisk::crawl::stdio::split_command(cmd).map_err(anyhow::Error::msg)?;
    // The server runs in a scratch folder: arguments naming files here (a local script)
    // are made absolute so that `--stdio 'python3 server.py'` works as typed.
    for a in argv.iter_mut() {
        let p = std::path::Path::new(a.as_str());
        if p.is_relative() && !a.starts_with('-') && p.exists() {
            if let Ok(abs) = std::fs::canonicalize(p) {
                *a = abs.to_string_lossy().into_owned();
            }
        }
    }
    let package = guess_package(&argv);
    let id = id.map(str::to_string).unwrap_or_else(|| match &package {
        Some(p) => format!("{}:{}", p.registry, p.identifier),
        None => format!("stdio:{cmd}"),
    });
    let slug_base = package
        .as_ref()
        .map(|p| p.identifier.clone())
        .unwrap_or_else(|| {
            // A local command: name it after the program and its first argument.
            argv.iter()
                .take(2)
                .map(|a| {
                    std::path::Path::new(a)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or(a)
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("-")
        });
    Ok(Target {
        server: Server {
            id,
            name: package
                .as_ref()
                .map(|p| p.identifier.clone())
                .unwrap_or_else(|| slug_base.clone()),
            version: package.as_ref().and_then(|p| p.version.clone()),
            packages: package.into_iter().collect(),
            ..Server::default()
        },
        slug_base,
        how: How::Launch {
            argv,
            env,
            pass_env: Vec::new(),
            files: Default::default(),
        },
        registry_tools: None,
    })
}

fn url_target(url: &str, id: Option<&str>) -> anyhow::Result<Target> {
    let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("--url `{url}`: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("--url `{url}`: only http and https are supported");
    }
    let base = format!(
        "{}{}",
        parsed.host_str().unwrap_or("server"),
        parsed.path().trim_end_matches('/')
    );
    Ok(Target {
        server: Server {
            id: id
                .map(str::to_string)
                .unwrap_or_else(|| format!("url:{url}")),
            name: base.clone(),
            remotes: vec![toolrisk::model::Remote {
                kind: "streamable-http".into(),
                url: url.to_string(),
            }],
            ..Server::default()
        },
        slug_base: base,
        how: How::Url(url.to_string()),
        registry_tools: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_packages_from_launchers() {
        let p = guess_package(&["npx".into(), "-y".into(), "@a/b@1.2".into()]).unwrap();
        assert_eq!(
            (p.identifier.as_str(), p.version.as_deref()),
            ("@a/b", Some("1.2"))
        );
        let argv: Vec<String> = ["uvx", "--with", "mcp<2", "--from", "x-y==2", "x_y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = guess_package(&argv).unwrap();
        assert_eq!(
            (p.identifier.as_str(), p.version.as_deref()),
            ("x-y", Some("2"))
        );
        assert!(guess_package(&["python3".into(), "s.py".into()]).is_none());
    }
}
