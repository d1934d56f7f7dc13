//! `toolrisk scan` (DESIGN §5b): the MCP client configurations on this machine and in this
//! project — which servers an agent can reach, what their tools do, and what is wrong with the
//! setup itself. Offline and deterministic: nothing is launched or contacted unless asked.
//!
//! Stages, one file each: [`discover`] finds the config files of each client, [`parse`] reads
//! them with a real parser of their format, [`identify`] tells which package or endpoint a
//! server entry runs, [`matching`] finds it in the catalogue, [`findings`] judges the setup,
//! [`render`] prints it. Everything read is private: secret values are kept in memory only to
//! tell a literal from a reference, and never printed.

pub mod discover;
pub mod drift;
pub mod findings;
pub mod identify;
pub mod launch;
pub mod matching;
pub mod parse;
pub mod render;

use crate::model::{Classification, Severity};
use serde::Serialize;
use std::path::PathBuf;

/// An MCP client whose configuration toolrisk reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    ClaudeDesktop,
    ClaudeCode,
    Cursor,
    Vscode,
    Windsurf,
    Codex,
    GeminiCli,
}

impl Client {
    pub fn all() -> &'static [Client] {
        &[
            Client::ClaudeDesktop,
            Client::ClaudeCode,
            Client::Cursor,
            Client::Vscode,
            Client::Windsurf,
            Client::Codex,
            Client::GeminiCli,
        ]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Client::ClaudeDesktop => "claude-desktop",
            Client::ClaudeCode => "claude-code",
            Client::Cursor => "cursor",
            Client::Vscode => "vscode",
            Client::Windsurf => "windsurf",
            Client::Codex => "codex",
            Client::GeminiCli => "gemini-cli",
        }
    }

    /// The policy format this client reads, if toolrisk emits one.
    pub fn policy_target(self) -> Option<crate::classify::policy::Target> {
        use crate::classify::policy::Target;
        match self {
            Client::ClaudeCode => Some(Target::ClaudeCode),
            Client::Cursor => Some(Target::Cursor),
            Client::Vscode => Some(Target::Vscode),
            Client::Codex => Some(Target::Codex),
            Client::GeminiCli => Some(Target::GeminiCli),
            Client::ClaudeDesktop | Client::Windsurf => None,
        }
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The syntax of a config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    /// Strict JSON (serde_json).
    Json,
    /// JSON with comments and trailing commas (jsonc-parser).
    Jsonc,
    /// TOML (toml_edit).
    Toml,
}

/// What a config file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `{"mcpServers": {...}}` (Claude Desktop, Cursor, Windsurf, Claude Code `.mcp.json`,
    /// Gemini CLI settings).
    McpServers,
    /// `~/.claude.json`: `mcpServers` and `projects.<path>.mcpServers`.
    ClaudeJson,
    /// VS Code `mcp.json`: `{"servers": {...}, "inputs": [...]}`.
    VscodeServers,
    /// Codex `config.toml`: `[mcp_servers.<name>]`.
    CodexToml,
}

/// A config file to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigFile {
    pub client: Client,
    pub path: PathBuf,
    /// `user` or `project`.
    pub scope: &'static str,
    pub syntax: Syntax,
    pub layout: Layout,
}

/// How a configured server is reached. Values (env, headers, args) stay in memory to tell
/// literals from references; no output prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    Remote {
        url: String,
        headers: Vec<(String, String)>,
    },
}

/// Which tools of a server the client offers (Codex `enabled_tools` / `disabled_tools`,
/// Gemini CLI `includeTools` / `excludeTools`, Windsurf `disabledTools`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ToolFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl ToolFilter {
    pub fn offers(&self, tool: &str) -> bool {
        !self.exclude.iter().any(|t| t == tool)
            && self
                .include
                .as_ref()
                .is_none_or(|inc| inc.iter().any(|t| t == tool))
    }
}

/// One server entry of one config file.
#[derive(Debug, Clone)]
pub struct ConfiguredServer {
    pub client: Client,
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The name the user gave it (the key in the config).
    pub name: String,
    /// For Claude Code local / project servers: the project folder they belong to. Servers
    /// without one are reachable from every project of the client.
    pub project: Option<String>,
    pub launch: Launch,
    /// Switched off in the config (`disabled: true`, Codex `enabled = false`).
    pub disabled: bool,
    pub filter: ToolFilter,
}

/// A problem with the setup or with a config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupFinding {
    /// `config_error`, `unknown_key`, `secret_in_config`, `unpinned_package`, `shadowed_tool`,
    /// `lethal_trifecta`, `unknown_server`, `name_not_expressible`, …
    pub kind: String,
    pub severity: Severity,
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    pub message: String,
}

/// How a server was told apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerReport {
    pub client: Client,
    pub name: String,
    pub file: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// `stdio` or `remote`.
    pub transport: &'static str,
    /// What it runs, without secrets: `npm @scope/pkg@1.2.3`, `remote https://host/path`, ….
    pub identity: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The catalogue record it matched, and by what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<matching::Matched>,
    /// `catalogue`, `launched`, `live` or `unknown`.
    pub tools_from: &'static str,
    /// Verdicts of the tools the client offers.
    pub tools: Vec<Classification>,
    /// Environment and header names set in the config (never their values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_keys: Vec<String>,
}

/// A config file and how reading it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    pub client: Client,
    pub path: PathBuf,
    pub scope: &'static str,
    /// `read` or `error`.
    pub status: &'static str,
    pub servers: usize,
}

/// Everything `scan` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub servers: Vec<ServerReport>,
    pub findings: Vec<SetupFinding>,
}

impl Report {
    /// Whether any config file could be read.
    pub fn read_any(&self) -> bool {
        self.files.iter().any(|f| f.status == "read")
    }

    /// The highest severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// A check run on the whole setup after the built-in ones. Lock-file drift (issue 10) plugs
/// in here: it gets the servers as identified and returns its findings.
pub type SetupCheck = Box<dyn Fn(&[ConfiguredServer], &[ServerReport]) -> Vec<SetupFinding>>;

/// Scan settings.
pub struct Options {
    /// Home folder whose user configs are read.
    pub home: Option<PathBuf>,
    /// Project folder whose project configs are read.
    pub project: Option<PathBuf>,
    /// Explicit files or project folders (instead of discovery).
    pub paths: Vec<PathBuf>,
    /// Only these clients (all when empty).
    pub clients: Vec<Client>,
    /// The catalogue folder.
    pub catalogue: PathBuf,
    /// Start unknown stdio servers (exactly as `crawl --stdio` does).
    pub launch: bool,
    /// Connect to unknown remote servers.
    pub live: bool,
    /// Further checks (lock-file drift, …).
    pub checks: Vec<SetupCheck>,
}

/// Runs a scan.
pub fn scan(opts: &Options) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let files = discover::files(opts, &mut report.findings);
    let mut configured = vec![];
    for f in &files {
        match parse::read(f) {
            Ok(parsed) => {
                report.files.push(FileReport {
                    client: f.client,
                    path: f.path.clone(),
                    scope: f.scope,
                    status: "read",
                    servers: parsed.servers.len(),
                });
                report.findings.extend(parsed.findings);
                configured.extend(parsed.servers);
            }
            Err(finding) => {
                report.files.push(FileReport {
                    client: f.client,
                    path: f.path.clone(),
                    scope: f.scope,
                    status: "error",
                    servers: 0,
                });
                report.findings.push(*finding);
            }
        }
    }
    let catalogue = matching::Index::load(&opts.catalogue, &mut report.findings)?;
    let mut launcher = launch::Launcher::new(opts.launch, opts.live);
    // One record configured in many places is classified once.
    let mut verdicts: std::collections::HashMap<String, Vec<Classification>> =
        std::collections::HashMap::new();
    for s in &configured {
        let id = identify::identify(&s.launch);
        report.findings.extend(findings::config_findings(s, &id));
        let matched = catalogue.find(&id);
        let (tools, from) = match &matched {
            Some((m, server)) => (
                verdicts
                    .entry(m.slug.clone())
                    .or_insert_with(|| catalogue.classify(server))
                    .clone(),
                "catalogue",
            ),
            None => match launcher.tools(s, &id, &catalogue) {
                Ok(Some((tools, from))) => (tools, from),
                Ok(None) => {
                    report.findings.push(findings::unknown_server(s, &id, opts));
                    (vec![], "unknown")
                }
                Err(e) => {
                    report.findings.push(SetupFinding {
                        kind: "launch_failed".into(),
                        severity: Severity::Warning,
                        file: s.file.clone(),
                        line: s.line,
                        client: Some(s.client),
                        server: Some(s.name.clone()),
                        message: format!(
                            "could not list its tools: {}",
                            crate::classify::report::clean(&e.to_string(), 300)
                        ),
                    });
                    (vec![], "unknown")
                }
            },
        };
        let offered: Vec<Classification> = tools
            .into_iter()
            .filter(|c| s.filter.offers(&c.name))
            .collect();
        report.servers.push(ServerReport {
            client: s.client,
            name: s.name.clone(),
            file: s.file.clone(),
            line: s.line,
            project: s.project.clone(),
            transport: match s.launch {
                Launch::Stdio { .. } => "stdio",
                Launch::Remote { .. } => "remote",
            },
            identity: id.describe(),
            disabled: s.disabled,
            catalogue: matched.map(|(m, _)| m),
            tools_from: from,
            tools: offered,
            env_keys: match &s.launch {
                Launch::Stdio { env, .. } => env.iter().map(|(k, _)| k.clone()).collect(),
                Launch::Remote { headers, .. } => headers.iter().map(|(k, _)| k.clone()).collect(),
            },
        });
    }
    report
        .findings
        .extend(findings::setup_findings(&report.servers));
    for check in &opts.checks {
        report.findings.extend(check(&configured, &report.servers));
    }
    Ok(report)
}

/// One name in two scopes is one server to the client: the later file (project over user,
/// as discovery orders them) wins.
fn dedup(members: Vec<&ServerReport>) -> Vec<&ServerReport> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<&ServerReport> = members
        .into_iter()
        .rev()
        .filter(|s| seen.insert(s.name.clone()))
        .collect();
    kept.reverse();
    kept
}

/// The reachable sets of one client: for Claude Code, one per project (user servers plus
/// that project's), for the others one. Disabled servers are left out.
pub fn contexts(servers: &[ServerReport]) -> Vec<(Client, Option<String>, Vec<&ServerReport>)> {
    let mut out = vec![];
    for &client in Client::all() {
        let of: Vec<&ServerReport> = servers
            .iter()
            .filter(|s| s.client == client && !s.disabled)
            .collect();
        if of.is_empty() {
            continue;
        }
        let mut projects: Vec<&String> = of.iter().filter_map(|s| s.project.as_ref()).collect();
        projects.sort();
        projects.dedup();
        if projects.is_empty() {
            out.push((client, None, dedup(of)));
            continue;
        }
        for p in projects {
            let members = of
                .iter()
                .copied()
                .filter(|s| s.project.as_ref().is_none_or(|q| q == p))
                .collect();
            out.push((client, Some(p.clone()), dedup(members)));
        }
    }
    out
}
