//! `toolrisk crawl`: collect tool definitions from a sources file, one stdio command or one
//! URL, and merge them into the catalogue. Exit 1 when any server failed (the rest still
//! land).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use toolrisk::crawl::run::{self, CrawlRequest, Source};
use toolrisk::crawl::sandbox::SandboxMode;
use toolrisk::crawl::targets::parse_env;
use toolrisk::crawl::{scheduler, Limits};

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
    #[arg(long, default_value_t = Limits::default().polite_gap.as_millis() as u64)]
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
    /// The limits: the flags' defaults are `Limits::default()`, the fields without a flag
    /// keep it.
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
            polite_gap: Duration::from_millis(self.polite_ms),
            ..Limits::default()
        }
    }

    /// The one source of servers the flags name.
    fn source(&self) -> anyhow::Result<Source> {
        let given = [
            self.sources.is_some(),
            self.stdio.is_some(),
            self.url.is_some(),
            self.from.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            anyhow::bail!(
                "give exactly one of --sources FILE, --stdio 'COMMAND', --url URL or --from REGISTRY"
            );
        }
        let env = parse_env(&self.env)?;
        Ok(if let Some(path) = &self.sources {
            Source::Sources(path.clone())
        } else if let Some(command) = &self.stdio {
            Source::Stdio {
                command: command.clone(),
                id: self.id.clone(),
                env,
            }
        } else if let Some(url) = &self.url {
            Source::Url {
                url: url.clone(),
                id: self.id.clone(),
            }
        } else {
            Source::Registry {
                name: self.from.clone().unwrap_or_default(),
                base_url: self.base_url.clone(),
                full: self.full,
                api_key: std::env::var("SMITHERY_API_KEY").ok(),
            }
        })
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let source = args.source()?;
    let shard = match &args.shard {
        Some(s) => Some(scheduler::parse_shard(s)?),
        None => None,
    };
    let report = run::run(CrawlRequest {
        launch: args.launch,
        live: args.live,
        sandbox: if args.no_sandbox {
            SandboxMode::Unconfined
        } else {
            SandboxMode::Bubblewrap
        },
        pass_proxy: args.pass_proxy,
        force: args.force,
        concurrency: args.concurrency,
        shard,
        resume: args.resume,
        only_failed: args.only_failed,
        package_cache: args.package_cache.clone(),
        limits: args.limits(),
        quiet: args.quiet,
        ..CrawlRequest::new(args.catalogue.to_path_buf(), source)
    })?;
    let (summary, secs) = (&report.summary, report.elapsed_secs);
    match args.format {
        Format::Text => print!("{}", summary.render(secs)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&summary.to_json(secs))?),
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    /// The flags' defaults are `Limits::default()`, not a copy of it.
    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let cli = Cli::try_parse_from(["crawl"]).expect("parses");
        assert_eq!(
            format!("{:?}", cli.args.limits()),
            format!("{:?}", Limits::default())
        );
        let cli =
            Cli::try_parse_from(["crawl", "--polite-ms", "7", "--max-tools", "3"]).expect("parses");
        let limits = cli.args.limits();
        assert_eq!(limits.polite_gap, Duration::from_millis(7));
        assert_eq!(limits.max_tools, 3);
    }

    #[test]
    fn exactly_one_source() {
        let cli = Cli::try_parse_from(["crawl", "--url", "http://a", "--from", "official"])
            .expect("parses");
        let err = cli.args.source().unwrap_err().to_string();
        assert!(err.starts_with("give exactly one of"), "{err}");
        let cli = Cli::try_parse_from(["crawl", "--from", "docker", "--full"]).expect("parses");
        assert!(matches!(
            cli.args.source().expect("one source"),
            Source::Registry { name, full: true, .. } if name == "docker"
        ));
    }
}
