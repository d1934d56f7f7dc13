//! Listing a live server's tools for `check` / `lock`, through the crawler itself: the target
//! goes to `crawl::scheduler::run` exactly as `crawl --stdio` / `crawl --url` send it (same
//! client, limits, timeouts and process isolation, and whatever sandbox the launcher applies),
//! into a throw-away catalogue that is removed afterwards.

use crate::catalogue::{load_server, Catalogue};
use crate::crawl::http::Politeness;
use crate::crawl::scheduler::{self, How, Options, Target};
use crate::crawl::Limits;
use crate::model::{Server, Tool};
use std::fmt;
use std::path::PathBuf;

/// Why listing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveErrorKind {
    /// The command could not be started, or exited before answering.
    DidNotStart,
    /// No answer in time.
    TimedOut,
    /// It answered, with no tools.
    NoTools,
    /// Anything else (refused connection, protocol errors, HTTP status).
    Failed,
}

#[derive(Debug, Clone)]
pub struct LiveError {
    pub kind: LiveErrorKind,
    /// The command line or URL.
    pub target: String,
    /// The crawler's own message.
    pub detail: String,
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            LiveErrorKind::DidNotStart => "did not start",
            LiveErrorKind::TimedOut => "timed out",
            LiveErrorKind::NoTools => "sent no tools",
            LiveErrorKind::Failed => "failed",
        };
        write!(f, "the server `{}` {what}", self.target)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for LiveError {}

/// What a live server listed.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The record the crawler made: id, name, version, provenance.
    pub server: Server,
    pub tools: Vec<Tool>,
    /// Why the list may be incomplete (a limit, malformed tools).
    pub partial: Option<String>,
}

/// Crawl settings for one live listing.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// How a launched server is confined (bubblewrap unless `--no-sandbox`).
    pub sandbox: crate::crawl::sandbox::SandboxMode,
    pub limits: Limits,
    pub package_cache: Option<PathBuf>,
}

/// A scratch catalogue folder, removed when dropped.
struct TempCatalogue(PathBuf);

impl Drop for TempCatalogue {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_catalogue() -> std::io::Result<TempCatalogue> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("toolrisk-check-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(TempCatalogue(dir))
}

/// Lists the tools of one `--stdio` or `--url` target.
pub fn list_tools(target: Target, opts: &LiveOptions) -> Result<Listed, LiveError> {
    let label = match &target.how {
        How::Launch { argv, .. } => crate::crawl::stdio::shell_join(argv),
        How::Url(u) => u.clone(),
        How::None => target.server.id.clone(),
    };
    let err = |kind, detail: String| LiveError {
        kind,
        target: label.clone(),
        detail,
    };
    let tmp = temp_catalogue().map_err(|e| {
        err(
            LiveErrorKind::Failed,
            format!("cannot make a scratch folder: {e}"),
        )
    })?;
    let options = Options {
        catalogue: Catalogue::new(&tmp.0),
        limits: opts.limits.clone(),
        concurrency: 1,
        shard: None,
        launch: matches!(target.how, How::Launch { .. }),
        live: matches!(target.how, How::Url(_)),
        package_cache: opts.package_cache.clone(),
        resume_since: None,
        only_failed: false,
        progress_bar: false,
        quiet: true,
        polite: Politeness::default(),
        sandbox: opts.sandbox,
        pass_proxy: false,
        force: true,
        resource_limits: Default::default(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            err(
                LiveErrorKind::Failed,
                format!("cannot start the async runtime: {e}"),
            )
        })?;
    let summary = rt
        .block_on(scheduler::run(vec![target], &options))
        .map_err(|e| err(LiveErrorKind::Failed, format!("{e:#}")))?;
    drop(rt);
    if let Some((_, e)) = summary.failures.first() {
        return Err(err(kind_of(e), e.clone()));
    }
    let files = options
        .catalogue
        .server_files()
        .map_err(|e| err(LiveErrorKind::Failed, format!("{e:#}")))?;
    let Some(path) = files.first() else {
        return Err(err(
            LiveErrorKind::Failed,
            "the crawl wrote no record".into(),
        ));
    };
    let server = load_server(path).map_err(|e| err(LiveErrorKind::Failed, e.to_string()))?;
    if server.tools.is_empty() {
        return Err(err(
            LiveErrorKind::NoTools,
            "its tools/list answer holds no tools".into(),
        ));
    }
    Ok(Listed {
        tools: server.tools.clone(),
        partial: server.crawl.last_error.clone(),
        server,
    })
}

/// Sorts the crawler's message into what failed.
fn kind_of(msg: &str) -> LiveErrorKind {
    let m = msg.to_ascii_lowercase();
    if m.contains("cannot start") || m.contains("closed its stdout") || m.contains("no such file") {
        LiveErrorKind::DidNotStart
    } else if m.contains("in time")
        || m.contains("budget")
        || m.contains("timed out")
        || m.contains("timeout")
    {
        LiveErrorKind::TimedOut
    } else {
        LiveErrorKind::Failed
    }
}
