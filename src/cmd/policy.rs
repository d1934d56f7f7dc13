//! `toolrisk policy SERVER`: print a catalogued server's recommended gateway policy, as the
//! native policy file (DESIGN §5) or a Claude Code settings fragment.

use anyhow::Context;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::{policy, report, Classifier};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `{"version":"1","default":"deny","tools":{…}}`.
    Native,
    /// `{"permissions":{"allow":[…],"ask":[…],"deny":[…]}}` with `mcp__<server>__<tool>`.
    ClaudeCode,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's slug or id.
    pub server: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "native")]
    pub format: Format,
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// The name the server has in your Claude Code configuration (default: its slug).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(&args.catalogue);
    let server = cat.find(&args.server)?;
    let classifier = Classifier::builtin()
        .with_catalogue_overrides(&args.catalogue)
        .context("loading overrides")?;
    let results = classifier.classify_server(&server);
    let out = match args.format {
        Format::Native => policy::native_policy(&results),
        Format::ClaudeCode => {
            let key = args.name.clone().unwrap_or_else(|| server.slug.clone());
            policy::claude_code_settings(&key, &results)
        }
    };
    report::emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    Ok(ExitCode::SUCCESS)
}
