//! `toolrisk show SERVER[/TOOL]`: explain a catalogued server's tools, or one tool with its
//! evidence.

use anyhow::Context;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::{report, Classifier};
use toolrisk::model::{CrawlStatus, Server};

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
                    "crawl_status": server.crawl.status.as_str(),
                    "tools_known": server.crawl.status != CrawlStatus::ToolsUnknown,
                    "sources": server.provenance.iter().map(|p| p.source.as_str()).collect::<Vec<_>>(),
                    "registry_metadata": server.registry_metadata,
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
                report::emit(&sources_text(&server))?;
                report::emit("\n")?;
                if server.crawl.status == CrawlStatus::ToolsUnknown {
                    report::emit(
                        "tools not known: a registry lists this server without its tools, and none were fetched from it\n",
                    )?;
                } else if results.is_empty() {
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

/// Where the record's facts come from, what registries say (category, tags, environment)
/// and where its sources disagree; everything from outside escaped and cut.
fn sources_text(server: &Server) -> String {
    use report::clean;
    let mut out = String::new();
    if !server.provenance.is_empty() {
        let list: Vec<String> = server
            .provenance
            .iter()
            .map(|p| {
                let s = clean(&p.source, 40);
                if p.tools {
                    format!("{s} (tools)")
                } else {
                    s
                }
            })
            .collect();
        out.push_str(&format!("  sources: {}\n", list.join(", ")));
    }
    let Some(meta) = &server.registry_metadata else {
        return out;
    };
    for e in &meta.entries {
        let mut facts = Vec::new();
        if let Some(c) = &e.category {
            facts.push(format!("category {}", clean(c, 60)));
        }
        if !e.tags.is_empty() {
            let tags: Vec<String> = e.tags.iter().take(12).map(|t| clean(t, 40)).collect();
            facts.push(format!("tags {}", tags.join(", ")));
        }
        out.push_str(&format!(
            "  {} lists it as {}{}{}\n",
            clean(&e.source, 40),
            clean(&e.id, 120),
            if facts.is_empty() { "" } else { ": " },
            facts.join("; ")
        ));
        for v in e.env.iter().take(40) {
            out.push_str(&format!(
                "    env {}{}{}\n",
                clean(&v.name, 80),
                if v.required { " (required)" } else { "" },
                if v.secret { " (secret)" } else { "" }
            ));
        }
    }
    for d in &meta.disagreements {
        let vals: Vec<String> = d
            .values
            .iter()
            .map(|v| format!("{} says {}", clean(&v.source, 40), clean(&v.value, 200)))
            .collect();
        out.push_str(&format!(
            "  sources disagree on {}: {}{}\n",
            clean(&d.field, 40),
            vals.join(", "),
            d.detail
                .as_deref()
                .map(|x| format!(" ({})", clean(x, 400)))
                .unwrap_or_default()
        ));
    }
    out
}
