//! `toolrisk build`: render the catalogue as a static website.

use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::site::{self, BuildOptions};

/// `build --help` after the flags (not on `serve`, which shares the flags).
pub const HELP: &str = "Example:\n  toolrisk build --catalogue catalogue --out site --base-url https://toolrisk.example\n\n\
    Exit status:\n  0  built, every catalogue file read\n  \
    1  built, but some catalogue files could not be read (named; left out)\n  \
    2  nothing built (unusable options, unreadable catalogue folder, output not writable)";

#[derive(Debug, clap::Args)]
#[group(id = "build_args")]
pub struct Args {
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// Where to write the site.
    #[arg(long, default_value = "site")]
    pub out: PathBuf,
    /// Absolute URL the site will be served from (for canonical links, the feed and sitemaps).
    /// With a path (`https://owner.github.io/toolrisk/`), every link, asset and fetch goes
    /// under it, and `serve` serves the site there.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8000",
        env = "TOOLRISK_BASE_URL"
    )]
    pub base_url: String,
    /// A folder of templates (and static/ files) that replace the built-in ones by name.
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The catalogue's repository: each tool page's "wrong label?" link opens an issue there.
    #[arg(long, default_value = site::DEFAULT_REPO_URL, env = "TOOLRISK_REPO_URL")]
    pub repo_url: String,
    /// A rules file to use instead of the built-in rules (as `check --rules`).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The report's format: text (on stderr) or json (one document on stdout).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

impl Args {
    pub fn options(&self) -> anyhow::Result<BuildOptions> {
        let url = url::Url::parse(&self.base_url).map_err(|e| {
            anyhow::anyhow!("--base-url `{}` is not an absolute URL: {e}", self.base_url)
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!(
                "--base-url must be an http or https URL, got `{}`",
                self.base_url
            );
        }
        if url.query().is_some() || url.fragment().is_some() {
            anyhow::bail!(
                "--base-url `{}` has a query or a fragment: give the folder the site is served from, e.g. https://owner.github.io/toolrisk/",
                self.base_url
            );
        }
        let repo = url::Url::parse(&self.repo_url).map_err(|e| {
            anyhow::anyhow!("--repo-url `{}` is not an absolute URL: {e}", self.repo_url)
        })?;
        if !matches!(repo.scheme(), "http" | "https") {
            anyhow::bail!(
                "--repo-url must be an http or https URL, got `{}`",
                self.repo_url
            );
        }
        Ok(BuildOptions {
            catalogue: self.catalogue.path().to_path_buf(),
            out: self.out.clone(),
            base_url: self.base_url.clone(),
            templates: self.templates.clone(),
            retain_bytes: site::RETAIN_BYTES,
            rules: self.rules.clone(),
            repo_url: self.repo_url.clone(),
        })
    }
}

/// `build --format json`: the report as one JSON document.
fn report_json(r: &site::BuildReport) -> serde_json::Value {
    serde_json::json!({
        "servers": r.servers,
        "tools": r.tools,
        "pages": r.pages,
        "written": r.written,
        "unchanged": r.unchanged,
        "removed": r.removed,
        "seconds": r.seconds,
        "errors": r.errors.iter().map(|e| serde_json::json!({
            "file": e.path.display().to_string(),
            "message": e.message,
        })).collect::<Vec<_>>(),
    })
}

/// Exit 0 when every catalogue file was read, 1 when some were skipped (the rest is built).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    toolrisk::catalogue::Catalogue::new(&args.catalogue).require()?;
    let report = site::build(&args.options()?)?;
    match args.format {
        Format::Json => toolrisk::classify::report::emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report_json(&report))?
        ))?,
        Format::Text if crate::ui::quiet() => {
            for e in &report.errors {
                eprintln!("warning: skipped {e}");
            }
        }
        Format::Text => site::serve::print_report(&report),
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
