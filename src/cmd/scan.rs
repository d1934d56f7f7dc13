//! `toolrisk scan [PATH...]`: the MCP servers this user's clients are configured with, what
//! their tools do, and what is wrong with the setup (docs/scan.md). Exit 0; 1 when
//! `--fail-on` is met; 2 when no config could be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use toolrisk::classify::policy::{self, ServerPolicy, Target};
use toolrisk::classify::report;
use toolrisk::model::Severity;
use toolrisk::scan::{self, render, Client, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config files or project folders to scan (default: this user's and this folder's).
    pub paths: Vec<PathBuf>,
    /// Only these clients (repeatable).
    #[arg(long, value_enum, value_name = "NAME")]
    pub client: Vec<Client>,
    /// Home folder whose user-level configs are read (default: $HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
    /// Project folder whose project-level configs are read (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The catalogue servers are matched against.
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// Start servers the catalogue does not know, exactly as `crawl --stdio` does (same
    /// limits and sandbox), to list their tools. Runs third-party code.
    #[arg(long)]
    pub launch: bool,
    /// A folder of lock files, one per approved server, named by the server's name in your
    /// config (`toolrisk lock --out DIR/<name>.lock`): each drift since the lock is a finding.
    #[arg(long, value_name = "DIR")]
    pub locks: Option<PathBuf>,
    /// Connect to remote servers the catalogue does not know, to list their tools.
    #[arg(long)]
    pub live: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when a finding is at least this severe (info, warning, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Print the policy for the whole setup in this format, servers named as in your configs
    /// (client formats take that client's servers; native, cedar and annotations take all).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub emit: Option<Target>,
    /// With --emit: merge the policy into FILE (default: the file the target reads) keeping its
    /// other settings and comments, with a backup beside it, and print the diff.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = DEFAULT_FILE, requires = "emit")]
    pub write: Option<PathBuf>,
}

/// `--write` given without a file: the file the target reads.
const DEFAULT_FILE: &str = ":default:";

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = scan::Options {
        home: args.home.clone(),
        project: args.project.clone(),
        paths: args.paths.clone(),
        clients: args.client.clone(),
        catalogue: args.catalogue.to_path_buf(),
        launch: args.launch,
        live: args.live,
        checks: match &args.locks {
            Some(dir) => vec![scan::drift::lock_drift(
                dir.clone(),
                args.catalogue.to_path_buf(),
            )],
            None => vec![],
        },
    };
    let r = scan::scan(&opts)?;
    if let Some(target) = args.emit {
        emit(&args, &opts, &r, target)?;
    } else {
        let text = match args.format {
            Format::Table => render::table(&r),
            Format::Json => render::json(&r)?,
            Format::Sarif => render::sarif(&r)?,
        };
        report::emit(&text)?;
    }
    if !r.read_any() {
        eprintln!(
            "scan: no MCP client configuration could be read (give a PATH, --home or --project)"
        );
        return Ok(ExitCode::from(2));
    }
    if let Some(level) = args.fail_on {
        let hits: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.severity >= level)
            .take(10)
            .map(|f| f.kind.clone())
            .collect();
        if !hits.is_empty() {
            eprintln!(
                "scan failed: findings at or above {level}: {}",
                hits.join(", ")
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn emit(args: &Args, opts: &scan::Options, r: &Report, target: Target) -> anyhow::Result<()> {
    let client = Client::all()
        .iter()
        .copied()
        .find(|c| c.policy_target() == Some(target));
    // One name configured in several places (user and project scope, or several clients) is
    // one entry in a policy: the last one read (project over user) is used.
    let mut names = std::collections::BTreeSet::new();
    let mut twice = std::collections::BTreeSet::new();
    let mut chosen = vec![];
    for s in r.servers.iter().rev() {
        if client.is_some_and(|c| c != s.client) || s.disabled {
            continue;
        }
        if s.tools_from == "unknown" {
            eprintln!(
                "note: `{}` ({}) is not in the catalogue; no policy for it",
                report::clean(&s.name, 80),
                s.client
            );
            continue;
        }
        if !names.insert(s.name.as_str()) {
            twice.insert(report::clean(&s.name, 80));
            continue;
        }
        chosen.push(s);
    }
    chosen.reverse();
    if !twice.is_empty() {
        let list: Vec<String> = twice.into_iter().collect();
        eprintln!(
            "note: configured more than once, the project-level (last read) entry is used: {}",
            list.join(", ")
        );
    }
    if chosen.is_empty() {
        eprintln!(
            "note: no catalogued server {} in this scan: the policy is empty",
            match client {
                Some(c) => format!("of {c}"),
                None => "at all".to_string(),
            }
        );
    }
    let servers: Vec<ServerPolicy> = chosen
        .iter()
        .map(|s| ServerPolicy {
            key: &s.name,
            tools: &s.tools,
        })
        .collect();
    let emitted = policy::emit_setup(target, &servers)?;
    for n in &emitted.notes {
        eprintln!("note: {}", report::clean(n, 400));
    }
    let Some(file) = &args.write else {
        report::emit(&emitted.text)?;
        return Ok(());
    };
    let path = if file.as_os_str() == DEFAULT_FILE {
        default_file(target, opts, &chosen)?
    } else {
        file.clone()
    };
    let w = policy::write::write(target, &path, &emitted, &servers)?;
    report::emit(&super::policy::report_clean_diff(&w.diff))?;
    match &w.backup {
        Some(b) => eprintln!("wrote {} (backup: {})", w.path.display(), b.display()),
        None if w.diff.is_empty() => eprintln!("{}: already up to date", w.path.display()),
        None => eprintln!("wrote {}", w.path.display()),
    }
    Ok(())
}

/// The file a target reads, when `--write` names none.
fn default_file(
    target: Target,
    opts: &scan::Options,
    chosen: &[&scan::ServerReport],
) -> anyhow::Result<PathBuf> {
    let home = scan::discover::home(opts)
        .ok_or_else(|| anyhow::anyhow!("no home folder: give --write FILE"))?;
    let from_config = || -> anyhow::Result<PathBuf> {
        let mut files: Vec<&Path> = chosen.iter().map(|s| s.file.as_path()).collect();
        files.sort();
        files.dedup();
        match files.as_slice() {
            [one] => Ok(one.to_path_buf()),
            [] => anyhow::bail!("no configured server to write a policy for"),
            _ => anyhow::bail!(
                "the servers come from {} files: give --write FILE",
                files.len()
            ),
        }
    };
    Ok(match target {
        Target::ClaudeCode => home.join(".claude/settings.json"),
        Target::Cursor => home.join(".cursor/permissions.json"),
        Target::Vscode => home.join(".config/Code/User/settings.json"),
        Target::Codex | Target::GeminiCli => from_config()?,
        other => anyhow::bail!("--write needs a FILE for the {} format", other.as_str()),
    })
}
