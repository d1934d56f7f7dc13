//! `toolrisk show SERVER[/TOOL]`: explain a catalogued server's tools, or one tool with its
//! evidence.

use anyhow::Context;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::{report, Classifier};
use toolrisk::model::Server;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  toolrisk show github-mcp-server\n  toolrisk show github-mcp-server/delete_file --format json\n\n\
    Exit status:\n  0  shown\n  2  no such server or tool (the server's tools are listed), or the catalogue could not be read"
)]
pub struct Args {
    /// A server's slug or id, optionally followed by `/TOOL`.
    pub target: String,
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Finds `SERVER[/TOOL]`; server ids may contain `/` themselves (`io.github.o/r`), so the
/// whole target is tried as a server first, then each split from the right.
pub fn resolve(cat: &Catalogue, target: &str) -> anyhow::Result<(Server, Option<String>)> {
    let first_err = match cat.find(target) {
        Ok(s) => return Ok((s, None)),
        Err(e) => e,
    };
    let mut end = target.len();
    while let Some(i) = target[..end].rfind('/') {
        if let Ok(s) = cat.find(&target[..i]) {
            return Ok((s, Some(target[i + 1..].to_string())));
        }
        end = i;
    }
    Err(first_err)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(&args.catalogue);
    let (server, tool) = resolve(&cat, &args.target)?;
    let classifier = Classifier::builtin()
        .with_catalogue_overrides(&args.catalogue)
        .context("loading overrides")?;
    let results = classifier.classify_server(&server);
    match tool {
        Some(name) => {
            let Some(i) = server.tools.iter().position(|t| t.name == name) else {
                let known: Vec<String> = server
                    .tools
                    .iter()
                    .take(20)
                    .map(|t| report::clean(&t.name, 60))
                    .collect();
                anyhow::bail!(
                    "server `{}` has no tool `{}`; its tools: {}",
                    server.slug,
                    report::clean(&name, 80),
                    if known.is_empty() {
                        "(none)".into()
                    } else {
                        known.join(", ")
                    }
                );
            };
            match args.format {
                Format::Json => {
                    let out = serde_json::json!({
                        "server": server.id,
                        "slug": server.slug,
                        "tool": server.tools[i].to_json(),
                        "classification": results[i],
                    });
                    report::emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
                }
                Format::Text => {
                    report::emit(&format!(
                        "{} / {}\n",
                        report::clean(&server.name, 100),
                        server.slug
                    ))?;
                    report::emit(&report::detail(Some(&server.tools[i]), &results[i]))?;
                }
            }
        }
        None => match args.format {
            Format::Json => {
                let out = serde_json::json!({
                    "server": server.id,
                    "slug": server.slug,
                    "name": server.name,
                    "tools": results,
                });
                report::emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
            }
            Format::Text => {
                report::emit(&format!(
                    "{} ({})\n",
                    report::clean(&server.name, 100),
                    report::clean(&server.id, 200)
                ))?;
                if let Some(d) = &server.description {
                    report::emit(&format!("  {}\n", report::clean_block(d, 2000, "  ")))?;
                }
                report::emit(&format!("  crawl: {}\n", server.crawl.status.as_str()))?;
                report::emit("\n")?;
                if results.is_empty() {
                    report::emit("no tools catalogued\n")?;
                } else {
                    report::emit(&report::table(&results))?;
                    report::emit(&format!("\n{}\n", report::summary(&results)))?;
                    report::emit(&format!(
                        "`toolrisk show {}/TOOL{}` explains one tool with its evidence.\n",
                        server.slug,
                        args.catalogue.hint_flag()
                    ))?;
                }
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
