//! `toolrisk check`: classify a `tools/list` result from a file or stdin — what a server
//! author runs in CI. Exit 0; 1 when `--fail-on` is met; 2 on unusable input.

use anyhow::Context;
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
            // Bounded: a FIFO or device is refused, at most the limit is read, a BOM dropped.
            let text = toolrisk::bounded::read_text(p, input::MAX_INPUT_BYTES as u64)?;
            (p.display().to_string(), text)
        }
    };
    // Memory stays near linear in the input: more JSON nodes than a real tools/list has are
    // refused before anything is built from them.
    check_shape(&source, &text)?;
    let tools = input::parse_tool_list(&source, &text).map_err(anyhow::Error::msg)?;
    drop(text);
    if tools.len() > MAX_TOOLS {
        anyhow::bail!(
            "{source}: {} tools, over the {MAX_TOOLS} classified at once: split the tool list",
            tools.len()
        );
    }

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
    let buf =
        toolrisk::bounded::read_stdin(input::MAX_INPUT_BYTES as u64).context("reading stdin")?;
    let buf = match buf.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => buf,
    };
    String::from_utf8(buf).map_err(|e| {
        anyhow::anyhow!(
            "<stdin>: not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Most JSON objects in a `check` input (a tool with a rich schema is a few dozen; the
/// largest real servers list a few hundred tools).
pub const MAX_OBJECTS: usize = 1_000_000;
/// Most JSON values (objects, arrays and scalars) in a `check` input.
pub const MAX_VALUES: usize = 8_000_000;
/// Most tools classified at once.
pub const MAX_TOOLS: usize = 100_000;

/// Counts objects and values in one pass without allocating (an upper bound: commas and
/// brackets outside strings), and refuses input over [`MAX_OBJECTS`] / [`MAX_VALUES`].
fn check_shape(source: &str, text: &str) -> anyhow::Result<()> {
    let (mut objects, mut values) = (0usize, 1usize);
    let (mut in_str, mut esc) = (false, false);
    for &b in text.as_bytes() {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => {
                objects += 1;
                values += 1;
            }
            b'[' | b',' | b':' => values += 1,
            _ => {}
        }
    }
    if objects > MAX_OBJECTS || values > MAX_VALUES {
        anyhow::bail!(
            "{source}: too large to classify at once ({objects} JSON objects, {values} values; \
             the limits are {MAX_OBJECTS} and {MAX_VALUES}): split the tool list"
        );
    }
    Ok(())
}
