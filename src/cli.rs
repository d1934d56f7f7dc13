//! The one clap definition. Each subcommand's flags live beside its code in `cmd/<name>.rs`;
//! flags several commands share (the catalogue folder, colour, verbosity) are defined here once.

use crate::cmd;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Catalogue the tools MCP servers give AI agents: what each can do, how risky that is, and
/// which gateway rule to put on it, with the evidence.
#[derive(Debug, Parser)]
#[command(
    name = "toolrisk",
    version = crate::cmd::version::SHORT,
    about,
    max_term_width = 100,
    after_help = "Examples:\n  toolrisk check tools.json --fail-on high\n  toolrisk query delete --risk high+\n  toolrisk show github-mcp-server\n\n\
                  Exit status: 0 success, 1 the command's own \"no\" (see each command's --help), \
                  2 unusable input or a failed run."
)]
pub struct Cli {
    /// When to colour output: auto (a terminal and no NO_COLOR), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorChoice,
    /// Print only results and errors: no progress, notes or summaries on stderr.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more on stderr (which catalogue is used and why, timings).
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify a server's tools (a tools/list file, stdin, --stdio or --url): what a server
    /// author runs in CI (table, JSON, SARIF or GitHub annotations).
    #[command(after_help = "Examples:\n  toolrisk check tools.json\n  \
        toolrisk check --stdio 'npx -y my-mcp-server@1.2.3' --fail-on high --format sarif\n  \
        toolrisk check tools.json --baseline toolrisk.lock\n\n\
        Exit status:\n  0  classified (and no tool at or above --fail-on, no drift from --baseline)\n  \
        1  some tool's risk is at or above --fail-on, or the definitions drifted from the lock\n  \
        2  unusable input (named, with line and column), or the server could not be listed")]
    Check(Box<cmd::check::Args>),
    /// Pin a server's tool definitions in a lock file for `check --baseline`.
    #[command(
        after_help = "Examples:\n  toolrisk lock tools.json --out toolrisk.lock\n  \
        toolrisk lock --stdio 'npx -y my-mcp-server@1.2.3' --out toolrisk.lock\n\n\
        Exit status:\n  0  written\n  2  unusable input, or the server could not be listed"
    )]
    Lock(cmd::lock::Args),
    /// Explain a catalogued server's tools, or one tool with its evidence.
    Show(cmd::show::Args),
    /// Print a catalogued server's recommended gateway policy.
    #[command(after_help = "Examples:\n  toolrisk policy github-mcp-server\n  \
        toolrisk policy github-mcp-server --format claude-code --name github\n\n\
        Exit status:\n  0  printed\n  2  no such server, or the catalogue could not be read")]
    Policy(cmd::policy::Args),
    /// Collect tool definitions from registries, live servers or launched packages.
    #[command(
        after_help = "Examples:\n  toolrisk crawl --catalogue /tmp/cat --stdio 'npx -y @modelcontextprotocol/server-everything'\n  \
        toolrisk crawl --catalogue /tmp/cat --url http://127.0.0.1:3000/mcp\n\n\
        Exit status:\n  0  every server crawled\n  1  some servers failed (named; the rest landed)\n  \
        2  the run could not start (bad flags, unreadable sources, catalogue not writable)"
    )]
    Crawl(Box<cmd::crawl::Args>),
    /// Render the catalogue as a static website.
    #[command(after_help = cmd::build::HELP)]
    Build(cmd::build::Args),
    /// Preview the site on 127.0.0.1, rebuilding when the catalogue or templates change.
    #[command(after_help = "Example:\n  toolrisk serve --port 8001\n\n\
        Exit status:\n  0  stopped\n  2  could not start (port taken, nothing to build)")]
    Serve(cmd::serve::Args),
    /// Scan this user's and this project's MCP client configs: servers, verdicts, setup findings.
    Scan(Box<cmd::scan::Args>),
    /// Search the catalogue from the command line.
    Query(cmd::query::Args),
    /// Export the classified catalogue (sqlite, jsonl).
    Export(cmd::export::Args),
    /// Check every catalogue file and report all errors.
    Validate(cmd::validate::Args),
    /// Print the JSON Schema of the catalogue record format.
    Schema(cmd::schema::Args),
    /// Install, update or locate the catalogue an installed toolrisk reads.
    Catalogue(cmd::catalogue::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::Args),
    /// Print the man page (roff) of toolrisk or of one of its commands.
    Man(cmd::completions::ManArgs),
}

/// `--catalogue DIR` (or `TOOLRISK_CATALOGUE`): the one definition every command that reads or
/// writes a catalogue flattens in. Without either, the catalogue is found as
/// [`discover`] describes. Derefs to the chosen folder, so `args.catalogue.join(…)` works.
#[derive(Debug, Clone, clap::Args)]
pub struct CatalogueArg {
    /// The catalogue folder (holds servers/*.yaml; its overrides.yaml applies). Default: found
    /// by walking up from the working folder, then the installed one (`toolrisk catalogue
    /// path` says which).
    #[arg(
        long = "catalogue",
        env = "TOOLRISK_CATALOGUE",
        value_name = "DIR",
        global = true
    )]
    pub given: Option<PathBuf>,
    #[arg(skip)]
    resolved: OnceLock<(PathBuf, Found)>,
}

/// How the catalogue folder was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// `--catalogue DIR` or `TOOLRISK_CATALOGUE`.
    Given,
    /// `catalogue/` (with a `servers/` folder) in the working folder or one above it.
    WalkUp,
    /// The user data folder `toolrisk catalogue install` fills.
    Installed,
    /// None found: `./catalogue`, which does not exist (reading it says how to get one;
    /// `crawl` creates it).
    Nowhere,
}

impl Found {
    pub fn describe(self) -> &'static str {
        match self {
            Found::Given => "given by --catalogue or TOOLRISK_CATALOGUE",
            Found::WalkUp => "found above the working folder",
            Found::Installed => "the installed catalogue (`toolrisk catalogue install`)",
            Found::Nowhere => "none found; ./catalogue",
        }
    }
}

impl CatalogueArg {
    /// The folder and how it was chosen, worked out once.
    pub fn resolve(&self) -> &(PathBuf, Found) {
        self.resolved.get_or_init(|| {
            let r = match &self.given {
                Some(p) => (p.clone(), Found::Given),
                None => discover(&std::env::current_dir().unwrap_or_default()),
            };
            if crate::ui::verbose() {
                eprintln!("catalogue: {} ({})", r.0.display(), r.1.describe());
            }
            r
        })
    }

    /// ` --catalogue DIR` when the folder was given (so a command line suggested in a hint
    /// runs against the same catalogue), else nothing.
    pub fn hint_flag(&self) -> String {
        match self.resolve() {
            (p, Found::Given) => {
                let p = p.display().to_string();
                let safe = p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-+@%:".contains(c));
                if safe {
                    format!(" --catalogue {p}")
                } else {
                    format!(" --catalogue '{}'", p.replace('\'', "'\\''"))
                }
            }
            _ => String::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.resolve().0
    }
}

impl std::ops::Deref for CatalogueArg {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.path()
    }
}

impl AsRef<Path> for CatalogueArg {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

impl From<&CatalogueArg> for PathBuf {
    fn from(c: &CatalogueArg) -> PathBuf {
        c.path().to_path_buf()
    }
}

/// Finds a catalogue without `--catalogue`: the first `catalogue/servers/` in `start` or a
/// folder above it (as git finds `.git`), else the installed catalogue in the user data folder
/// ([`installed_dir`]) if it has a `servers/` folder, else `./catalogue` ([`Found::Nowhere`]).
pub fn discover(start: &Path) -> (PathBuf, Found) {
    for dir in start.ancestors() {
        let cand = dir.join("catalogue");
        if cand.join("servers").is_dir() {
            // Relative to the working folder when it is the working folder's own, for
            // shorter messages.
            let shown = if dir == start {
                PathBuf::from("catalogue")
            } else {
                cand
            };
            return (shown, Found::WalkUp);
        }
    }
    if let Some(d) = installed_dir() {
        if d.join("servers").is_dir() {
            return (d, Found::Installed);
        }
    }
    (PathBuf::from("catalogue"), Found::Nowhere)
}

/// Where `toolrisk catalogue install` puts the catalogue: `$TOOLRISK_DATA_DIR/catalogue`,
/// else `$XDG_DATA_HOME/toolrisk/catalogue`, else `~/.local/share/toolrisk/catalogue`.
pub fn installed_dir() -> Option<PathBuf> {
    let nonempty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = nonempty("TOOLRISK_DATA_DIR") {
        return Some(d.join("catalogue"));
    }
    if let Some(d) = nonempty("XDG_DATA_HOME").filter(|d| d.is_absolute()) {
        return Some(d.join("toolrisk").join("catalogue"));
    }
    nonempty("HOME").map(|h| h.join(".local/share/toolrisk/catalogue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_walks_up_to_the_nearest_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("catalogue/servers")).unwrap();
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(
            discover(&deep),
            (dir.path().join("catalogue"), Found::WalkUp)
        );
        assert_eq!(
            discover(dir.path()),
            (PathBuf::from("catalogue"), Found::WalkUp)
        );
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
