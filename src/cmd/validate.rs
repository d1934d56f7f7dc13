//! `toolrisk validate`: load every catalogue file (records and overrides.yaml) and report all
//! errors at the end, including what no single file shows: two records with one server id.

use std::collections::BTreeMap;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::overrides::Overrides;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  toolrisk validate --catalogue catalogue --format json\n\n\
    Exit status:\n  0  every file loads and no two records share a server id\n  \
    1  some files have errors (all are listed; the others were still checked)\n  \
    2  the catalogue folder could not be read at all"
)]
pub struct Args {
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// Output format: text (errors on stderr, a summary on stdout) or json (one document).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(&args.catalogue);
    let loaded = cat.load()?;
    let tools: usize = loaded.servers.iter().map(|s| s.tools.len()).sum();
    let mut errors: Vec<(String, String)> = loaded
        .errors
        .iter()
        .map(|e| (e.path.display().to_string(), e.message.clone()))
        .collect();
    // One id, two records: exports keyed by id cannot hold both.
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &loaded.servers {
        by_id
            .entry(s.id.as_str())
            .or_default()
            .push(s.slug.as_str());
    }
    let mut duplicates = 0;
    for (id, slugs) in by_id.iter().filter(|(_, v)| v.len() > 1) {
        duplicates += 1;
        for slug in slugs {
            errors.push((
                cat.server_path(slug).display().to_string(),
                format!(
                    "field `id`: `{}` is also the id of {}",
                    toolrisk::classify::report::clean(id, 200),
                    slugs
                        .iter()
                        .filter(|s| s != &slug)
                        .map(|s| format!("servers/{s}.yaml"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let overrides_path = cat.root.join("overrides.yaml");
    let overrides = match Overrides::load(&overrides_path) {
        Ok(o) => Some(o.list.len()),
        Err(e) => {
            let file = overrides_path.display().to_string();
            let msg = format!("{e:#}");
            let msg = msg
                .strip_prefix(&format!("{file}: "))
                .unwrap_or(&msg)
                .to_string();
            errors.push((file, msg));
            None
        }
    };
    errors.sort();
    let files_with_errors = {
        let mut f: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        f.dedup();
        f.len()
    };
    match args.format {
        Format::Json => {
            let out = serde_json::json!({
                "catalogue": cat.root.display().to_string(),
                "servers": loaded.servers.len(),
                "tools": tools,
                "overrides": overrides,
                "duplicate_ids": duplicates,
                "files_with_errors": files_with_errors,
                "errors": errors.iter().map(|(file, message)| serde_json::json!({
                    "file": file, "message": message,
                })).collect::<Vec<_>>(),
            });
            toolrisk::classify::report::emit(&format!(
                "{}\n",
                serde_json::to_string_pretty(&out)?
            ))?;
        }
        Format::Text => {
            for (file, message) in &errors {
                eprintln!("error: {file}: {message}");
            }
            toolrisk::classify::report::emit(&format!(
                "{} servers, {} tools loaded; {} file(s) with errors\n",
                loaded.servers.len(),
                tools,
                files_with_errors
            ))?;
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
