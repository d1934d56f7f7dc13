//! `toolrisk build`: render the catalogue as a static website.

use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::site::{self, BuildOptions};

#[derive(Debug, clap::Args)]
#[group(id = "build_args")]
pub struct Args {
    /// The catalogue folder (holds servers/*.yaml).
    #[arg(long, default_value = "catalogue")]
    pub catalogue: PathBuf,
    /// Where to write the site.
    #[arg(long, default_value = "site")]
    pub out: PathBuf,
    /// Absolute URL the site will be served from (for canonical links, the feed and sitemaps).
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
            catalogue: self.catalogue.clone(),
            out: self.out.clone(),
            base_url: self.base_url.clone(),
            templates: self.templates.clone(),
            retain_bytes: site::RETAIN_BYTES,
            rules: self.rules.clone(),
            repo_url: self.repo_url.clone(),
        })
    }
}

/// Exit 0 when every catalogue file was read, 1 when some were skipped (the rest is built).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report = site::build(&args.options()?)?;
    site::serve::print_report(&report);
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
