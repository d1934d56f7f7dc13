//! `toolrisk check`: classify a `tools/list` result from a file or stdin — what a server
//! author runs in CI. Exit 0; 1 when `--fail-on` is met; 2 on unusable input.

use anyhow::Context;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::classify::{input, report, Classifier, ServerContext};
use toolrisk::model::Risk;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A tools/list result: `{"tools":[…]}`, an array of tools, or a JSON-RPC response.
    /// `-` or nothing reads stdin.
    pub file: Option<PathBuf>,
    /// The server's name (server context for the rules, and the key for overrides).
    #[arg(long)]
    pub server: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Classify on name, description and schema alone, ignoring the author's annotations.
    #[arg(long)]
    pub ignore_annotations: bool,
    /// Exit 1 when any tool's risk is at least this (low, medium, high, critical).
    #[arg(long, value_name = "RISK")]
    pub fail_on: Option<Risk>,
    /// Extra rules (YAML, same format as the built-in rules.yaml): added, or replacing
    /// built-in rules with the same id.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Human overrides (overrides.yaml format) to apply.
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (source, text) = match args.file.as_deref() {
        None => ("<stdin>".to_string(), read_stdin()?),
        Some(p) if p.as_os_str() == "-" => ("<stdin>".to_string(), read_stdin()?),
        Some(p) => {
            let meta = std::fs::metadata(p).with_context(|| format!("reading {}", p.display()))?;
            if meta.len() > input::MAX_INPUT_BYTES as u64 {
                anyhow::bail!(
                    "{}: {} bytes, over the {}-byte limit",
                    p.display(),
                    meta.len(),
                    input::MAX_INPUT_BYTES
                );
            }
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not UTF-8 (invalid byte at offset {})",
                    p.display(),
                    e.utf8_error().valid_up_to()
                )
            })?;
            (p.display().to_string(), text)
        }
    };
    let tools = input::parse_tool_list(&source, &text).map_err(anyhow::Error::msg)?;

    let mut classifier = match &args.rules {
        Some(path) => Classifier::with_rules_file(path)?,
        None => Classifier::builtin(),
    };
    if let Some(path) = &args.overrides {
        if !path.is_file() {
            anyhow::bail!("overrides file {} does not exist", path.display());
        }
        classifier =
            classifier.with_overrides(toolrisk::classify::overrides::Overrides::load(path)?);
    }
    let classifier = classifier.ignore_annotations(args.ignore_annotations);
    let name = args.server.clone().unwrap_or_default();
    let ctx = ServerContext {
        id: name.clone(),
        slug: toolrisk::slug::slugify(&name),
        name,
        description: None,
    };
    let results = classifier.classify_tools(&ctx, &tools);

    match args.format {
        Format::Json => {
            report::emit(&format!("{}\n", serde_json::to_string_pretty(&results)?))?;
        }
        Format::Table => {
            report::emit(&report::table(&results))?;
            report::emit(&format!("\n{}\n", report::summary(&results)))?;
        }
    }
    let failed = args
        .fail_on
        .is_some_and(|level| results.iter().any(|c| c.risk >= level));
    if failed {
        let level = args.fail_on.map(|r| r.as_str()).unwrap_or_default();
        let names: Vec<String> = results
            .iter()
            .filter(|c| args.fail_on.is_some_and(|l| c.risk >= l))
            .take(10)
            .map(|c| format!("{} ({})", report::clean(&c.name, 60), c.risk))
            .collect();
        eprintln!(
            "check failed: risk at or above {level}: {}",
            names.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> anyhow::Result<String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(input::MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .context("reading stdin")?;
    String::from_utf8(buf).map_err(|e| {
        anyhow::anyhow!(
            "<stdin>: not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
