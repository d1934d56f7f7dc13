//! `toolrisk check`: classify a server's tools — from a `tools/list` file, stdin, a launched
//! command (`--stdio`) or a URL (`--url`) — and report for CI: a table, JSON, SARIF or GitHub
//! annotations, with suppressions from toolrisk.toml and drift from a lock (`--baseline`).
//! Exit 0; 1 when `--fail-on` is met or the server drifted from the lock; 2 on unusable input.

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use toolrisk::check::{self, live, locate::Source, lock, suppress::Suppressions, Item, Thresholds};
use toolrisk::classify::{input, report, Classifier, ServerContext};
use toolrisk::model::{Classification, Risk, Tool};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: inline annotations on the pull request.
    Github,
}

/// Where the tools come from (shared by `check` and `lock`).
#[derive(Debug, clap::Args)]
pub struct Input {
    /// A tools/list result: `{"tools":[…]}`, an array of tools, or a JSON-RPC response.
    /// `-` or nothing (and no --stdio / --url) reads stdin.
    pub file: Option<PathBuf>,
    /// Start this stdio server and list its tools, like `crawl --stdio` (same client, limits
    /// and isolation). The command line, quoted.
    #[arg(long, value_name = "COMMAND", conflicts_with_all = ["file", "url"])]
    pub stdio: Option<String>,
    /// Connect to this server (Streamable HTTP or legacy SSE) and list its tools.
    #[arg(long, value_name = "URL", conflicts_with = "file")]
    pub url: Option<String>,
    /// Environment for the --stdio server, K=V (repeatable). Use dummy values.
    #[arg(long = "env", value_name = "K=V")]
    pub env: Vec<String>,
    /// The server's name (server context for the rules, the key for overrides, and the name in
    /// SARIF locations and the lock).
    #[arg(long)]
    pub server: Option<String>,
    /// Seconds for the first answer of a --stdio / --url server.
    #[arg(long, default_value_t = toolrisk::crawl::Limits::default().init_timeout.as_secs())]
    pub init_timeout: u64,
    /// Seconds for the whole listing of a --stdio / --url server.
    #[arg(long, default_value_t = toolrisk::crawl::Limits::default().server_timeout.as_secs())]
    pub server_timeout: u64,
    /// Run a --stdio server WITHOUT the bubblewrap sandbox, with your user's rights (it can
    /// read your files and reach the network). Only for a throw-away container or VM.
    #[arg(long)]
    pub no_sandbox: bool,
}

/// How to classify (shared by `check` and `lock`).
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// Classify on name, description and schema alone, ignoring the author's annotations.
    #[arg(long)]
    pub ignore_annotations: bool,
    /// Extra rules (YAML, same format as the built-in rules.yaml): added, or replacing
    /// built-in rules with the same id.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Human overrides (overrides.yaml format) to apply.
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: Input,
    #[command(flatten)]
    pub classify: ClassifyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when any tool's risk is at least this (low, medium, high, critical). Also the
    /// threshold of the tool results in SARIF / GitHub output (default there: medium).
    #[arg(long, value_name = "RISK")]
    pub fail_on: Option<Risk>,
    /// The file that defines the tools (a tools.json, or the server source holding the
    /// descriptions): SARIF and GitHub results point at the lines there. Default: FILE.
    #[arg(long, value_name = "FILE")]
    pub source: Option<PathBuf>,
    /// A lock from `toolrisk lock`: exit 1 when a tool was added or removed, its definition
    /// changed or its risk rose, and say what changed.
    #[arg(long, value_name = "LOCK")]
    pub baseline: Option<PathBuf>,
    /// Settings and suppressions (default: ./toolrisk.toml when it exists; see docs/ci.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also write SARIF to this file (whatever --format prints).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
}

/// Tools and the name of the server they came from.
pub(crate) struct Acquired {
    pub server: String,
    pub tools: Vec<Tool>,
    /// The input file, when the tools came from one.
    pub file: Option<PathBuf>,
}

/// Reads or lists the tools. Every failure is an error (exit 2) saying what failed.
pub(crate) fn acquire(input: &Input) -> anyhow::Result<Acquired> {
    let sandbox = if input.no_sandbox {
        if input.stdio.is_some() {
            eprintln!("{}", toolrisk::crawl::sandbox::NO_SANDBOX_WARNING);
        }
        toolrisk::crawl::sandbox::SandboxMode::Unconfined
    } else {
        toolrisk::crawl::sandbox::SandboxMode::Bubblewrap
    };
    let opts = || live::LiveOptions {
        sandbox,
        limits: toolrisk::crawl::Limits {
            init_timeout: Duration::from_secs(input.init_timeout),
            server_timeout: Duration::from_secs(input.server_timeout),
            ..toolrisk::crawl::Limits::default()
        },
        package_cache: toolrisk::crawl::targets::default_package_cache(),
    };
    if let Some(cmd) = &input.stdio {
        let env = toolrisk::crawl::targets::parse_env(&input.env)?;
        let target = toolrisk::crawl::targets::stdio_target(cmd, None, env)?;
        return listed(input, live::list_tools(target, &opts())?);
    }
    if !input.env.is_empty() {
        anyhow::bail!("--env is for a --stdio server");
    }
    if let Some(url) = &input.url {
        let target = toolrisk::crawl::targets::url_target(url, None)?;
        return listed(input, live::list_tools(target, &opts())?);
    }
    let (source, text, file) = match input.file.as_deref() {
        None => ("<stdin>".to_string(), read_stdin()?, None),
        Some(p) if p.as_os_str() == "-" => ("<stdin>".to_string(), read_stdin()?, None),
        Some(p) => {
            let text = toolrisk::bounded::read_text(p, input::MAX_INPUT_BYTES as u64)?;
            (p.display().to_string(), text, Some(p.to_path_buf()))
        }
    };
    // Memory stays near linear in the input: more JSON nodes than a real tools/list has are
    // refused before anything is built from them.
    check_shape(&source, &text)?;
    let tools = input::parse_tool_list(&source, &text)?;
    drop(text);
    if tools.len() > MAX_TOOLS {
        anyhow::bail!(
            "{source}: {} tools, over the {MAX_TOOLS} classified at once: split the tool list",
            tools.len()
        );
    }
    Ok(Acquired {
        server: input.server.clone().unwrap_or_default(),
        tools,
        file,
    })
}

fn listed(input: &Input, l: live::Listed) -> anyhow::Result<Acquired> {
    if let Some(p) = &l.partial {
        eprintln!(
            "warning: the tool list may be incomplete: {}",
            report::clean(p, 300)
        );
    }
    Ok(Acquired {
        server: input
            .server
            .clone()
            .unwrap_or_else(|| l.server.name.clone()),
        tools: l.tools,
        file: None,
    })
}

pub(crate) fn classifier(a: &ClassifyArgs) -> anyhow::Result<Classifier> {
    let mut classifier = match &a.rules {
        Some(path) => Classifier::with_rules_file(path)?,
        None => Classifier::builtin(),
    };
    if let Some(path) = &a.overrides {
        if !path.is_file() {
            anyhow::bail!("overrides file {} does not exist", path.display());
        }
        classifier =
            classifier.with_overrides(toolrisk::classify::overrides::Overrides::load(path)?);
    }
    Ok(classifier.ignore_annotations(a.ignore_annotations))
}

pub(crate) fn classify(c: &Classifier, server: &str, tools: &[Tool]) -> Vec<Classification> {
    let ctx = ServerContext {
        id: server.to_string(),
        slug: toolrisk::slug::slugify(server),
        name: server.to_string(),
        description: None,
    };
    c.classify_tools(&ctx, tools)
}

fn load_config(explicit: Option<&Path>) -> anyhow::Result<Suppressions> {
    match explicit {
        Some(p) => Suppressions::load(p),
        None => {
            let p = Path::new("toolrisk.toml");
            match Suppressions::load(p) {
                Err(e)
                    if e.downcast_ref::<toolrisk::bounded::ReadError>()
                        .is_some_and(|r| r.is_not_found()) =>
                {
                    Ok(Suppressions::default())
                }
                other => other,
            }
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let got = acquire(&args.input)?;
    let classifier = classifier(&args.classify)?;
    let results = classify(&classifier, &got.server, &got.tools);
    let config = load_config(args.config.as_deref())?;
    let fail_on = args.fail_on.or(config.fail_on);

    let changes = match &args.baseline {
        Some(path) => {
            let locked = lock::Lock::load(path)?;
            let now = lock::Lock::from_tools(&got.server, &got.tools, &results);
            lock::diff(&locked, &now)
        }
        None => Vec::new(),
    };
    let mut items = check::items(
        &got.server,
        &results,
        &changes,
        Thresholds::new(fail_on),
        &config,
    );
    let source_path = args.source.clone().or(got.file.clone());
    let wants_sarif = args.format == Format::Sarif || args.sarif.is_some();
    match &source_path {
        Some(p) => {
            let src = Source::load(p).context("reading the --source file")?;
            for it in items.iter_mut() {
                let tool = got.tools.iter().find(|t| t.name == it.tool);
                it.location = Some(src.locate(tool, &it.tool, it.anchor));
            }
        }
        None if wants_sarif => eprintln!(
            "note: no --source file: SARIF results carry no file location, and GitHub code scanning needs one (pass --source FILE)"
        ),
        None => {}
    }
    let used: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i.tool.as_str(), i.rule_id.as_str()))
        .collect();
    for (i, e) in config.unused(&used) {
        eprintln!(
            "note: {}: suppress[{i}] (tool `{}`, id `{}`) matched no result",
            config.source,
            report::clean(&e.tool, 100),
            report::clean(&e.id, 100)
        );
    }

    let sarif_text = || -> anyhow::Result<String> {
        Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&check::sarif::log(&items, classifier.rules()))?
        ))
    };
    if let Some(path) = &args.sarif {
        toolrisk::catalogue::write_atomic(path, sarif_text()?.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let changes_text = render_changes(&changes, args.baseline.as_deref());
    match args.format {
        Format::Json => {
            report::emit(&format!("{}\n", serde_json::to_string_pretty(&results)?))?;
            eprint!("{changes_text}");
        }
        Format::Table => {
            report::emit(&report::table(&results))?;
            report::emit(&format!("\n{}\n", report::summary(&results)))?;
            report::emit(&suppressed_text(&items))?;
            report::emit(&changes_text)?;
        }
        Format::Sarif => report::emit(&sarif_text()?)?,
        Format::Github => {
            report::emit(&check::github::commands(&items))?;
            report::emit(&format!("{}\n", report::summary(&results)))?;
        }
    }
    fail_message(&items, &results, fail_on, args.baseline.as_deref())
}

fn render_changes(changes: &[lock::Change], baseline: Option<&Path>) -> String {
    let Some(path) = baseline else {
        return String::new();
    };
    if changes.is_empty() {
        return format!("\nno changes against {}\n", path.display());
    }
    let mut out = format!(
        "\n{} change(s) against {}:\n",
        changes.len(),
        path.display()
    );
    for c in changes {
        out.push_str(&format!("{}\n", c.render()));
    }
    out
}

fn suppressed_text(items: &[Item]) -> String {
    let sup: Vec<&Item> = items.iter().filter(|i| i.suppressed.is_some()).collect();
    if sup.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{} suppressed:\n", sup.len());
    for i in sup {
        out.push_str(&format!(
            "  {} {}: {}\n",
            report::clean(&i.tool, 60),
            i.rule_id,
            report::clean(i.suppressed.as_deref().unwrap_or_default(), 300)
        ));
    }
    out
}

fn fail_message(
    items: &[Item],
    results: &[Classification],
    fail_on: Option<Risk>,
    baseline: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let failing: Vec<&Item> = items.iter().filter(|i| i.failing()).collect();
    if failing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let risky: Vec<String> = failing
        .iter()
        .filter(|i| i.rule_id.starts_with("risk/"))
        .take(10)
        .map(|i| {
            let risk = results
                .iter()
                .find(|c| c.name == i.tool)
                .map(|c| c.risk.as_str())
                .unwrap_or("?");
            format!("{} ({risk})", report::clean(&i.tool, 60))
        })
        .collect();
    if !risky.is_empty() {
        eprintln!(
            "check failed: risk at or above {}: {}",
            fail_on.map(|r| r.as_str()).unwrap_or_default(),
            risky.join(", ")
        );
    }
    let drift = failing
        .iter()
        .filter(|i| i.rule_id.starts_with("lock/"))
        .count();
    if drift > 0 {
        eprintln!(
            "check failed: {drift} tool(s) differ from {}",
            baseline
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::from(1))
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
