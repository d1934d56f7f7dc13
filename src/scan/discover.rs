//! Where each client keeps its MCP configuration (docs/scan.md lists the sources each
//! location was checked against). Per-OS locations are all looked at, whatever the OS, so a
//! copied home folder scans the same anywhere.

use super::{Client, ConfigFile, Layout, Options, SetupFinding, Syntax};
use crate::model::Severity;
use std::path::{Path, PathBuf};

/// A location relative to a home or project folder.
struct Location {
    client: Client,
    rel: &'static str,
    syntax: Syntax,
    layout: Layout,
}

const fn loc(client: Client, rel: &'static str, syntax: Syntax, layout: Layout) -> Location {
    Location {
        client,
        rel,
        syntax,
        layout,
    }
}

/// User-level configs, relative to the home folder.
const USER: &[Location] = &[
    loc(
        Client::ClaudeDesktop,
        ".config/Claude/claude_desktop_config.json",
        Syntax::Json,
        Layout::McpServers,
    ),
    loc(
        Client::ClaudeDesktop,
        "Library/Application Support/Claude/claude_desktop_config.json",
        Syntax::Json,
        Layout::McpServers,
    ),
    loc(
        Client::ClaudeDesktop,
        "AppData/Roaming/Claude/claude_desktop_config.json",
        Syntax::Json,
        Layout::McpServers,
    ),
    loc(
        Client::ClaudeCode,
        ".claude.json",
        Syntax::Json,
        Layout::ClaudeJson,
    ),
    loc(
        Client::Cursor,
        ".cursor/mcp.json",
        Syntax::Jsonc,
        Layout::McpServers,
    ),
    loc(
        Client::Vscode,
        ".config/Code/User/mcp.json",
        Syntax::Jsonc,
        Layout::VscodeServers,
    ),
    loc(
        Client::Vscode,
        "Library/Application Support/Code/User/mcp.json",
        Syntax::Jsonc,
        Layout::VscodeServers,
    ),
    loc(
        Client::Vscode,
        "AppData/Roaming/Code/User/mcp.json",
        Syntax::Jsonc,
        Layout::VscodeServers,
    ),
    loc(
        Client::Windsurf,
        ".codeium/windsurf/mcp_config.json",
        Syntax::Json,
        Layout::McpServers,
    ),
    loc(
        Client::Codex,
        ".codex/config.toml",
        Syntax::Toml,
        Layout::CodexToml,
    ),
    loc(
        Client::GeminiCli,
        ".gemini/settings.json",
        Syntax::Jsonc,
        Layout::McpServers,
    ),
];

/// Project-level configs, relative to the project folder.
const PROJECT: &[Location] = &[
    loc(
        Client::ClaudeCode,
        ".mcp.json",
        Syntax::Json,
        Layout::McpServers,
    ),
    loc(
        Client::Cursor,
        ".cursor/mcp.json",
        Syntax::Jsonc,
        Layout::McpServers,
    ),
    loc(
        Client::Vscode,
        ".vscode/mcp.json",
        Syntax::Jsonc,
        Layout::VscodeServers,
    ),
    loc(
        Client::Codex,
        ".codex/config.toml",
        Syntax::Toml,
        Layout::CodexToml,
    ),
    loc(
        Client::GeminiCli,
        ".gemini/settings.json",
        Syntax::Jsonc,
        Layout::McpServers,
    ),
];

fn exists(p: &Path) -> bool {
    // A dangling symlink or a loop is still listed: reading it reports the problem.
    std::fs::symlink_metadata(p).is_ok()
}

fn wanted(opts: &Options, c: Client) -> bool {
    opts.clients.is_empty() || opts.clients.contains(&c)
}

fn under(base: &Path, locs: &[Location], scope: &'static str, opts: &Options) -> Vec<ConfigFile> {
    locs.iter()
        .filter(|l| wanted(opts, l.client))
        .map(|l| ConfigFile {
            client: l.client,
            path: base.join(l.rel),
            scope,
            syntax: l.syntax,
            layout: l.layout,
        })
        .filter(|f| exists(&f.path))
        .collect()
}

/// The home folder: `--home`, else `$HOME`.
pub fn home(opts: &Options) -> Option<PathBuf> {
    opts.home
        .clone()
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
}

/// The config files to read.
pub fn files(opts: &Options, findings: &mut Vec<SetupFinding>) -> Vec<ConfigFile> {
    let mut out = vec![];
    if opts.paths.is_empty() {
        if let Some(h) = home(opts) {
            out.extend(under(&h, USER, "user", opts));
        }
        let project = opts
            .project
            .clone()
            .or_else(|| std::env::current_dir().ok());
        if let Some(p) = project {
            out.extend(under(&p, PROJECT, "project", opts));
        }
    } else {
        for p in &opts.paths {
            match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => {
                    let found = under(p, PROJECT, "project", opts);
                    if found.is_empty() {
                        findings.push(not_config(
                            p,
                            "no MCP client configuration found in this folder",
                        ));
                    }
                    out.extend(found);
                }
                _ if exists(p) => match classify_file(p, opts) {
                    Some(f) => out.push(f),
                    None => findings.push(not_config(
                        p,
                        "cannot tell which client reads this file; name it with --client",
                    )),
                },
                _ => findings.push(not_config(p, "no such file or folder")),
            }
        }
    }
    // The same file reached twice (a project folder that is also the home) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone())));
    out
}

fn not_config(p: &Path, message: &str) -> SetupFinding {
    SetupFinding {
        kind: "config_error".into(),
        severity: Severity::Warning,
        file: p.to_path_buf(),
        line: None,
        client: None,
        server: None,
        message: message.into(),
    }
}

/// Which client reads a file given by path, from its name and folder.
pub fn classify_file(p: &Path, opts: &Options) -> Option<ConfigFile> {
    let name = p.file_name()?.to_str()?;
    let parent = p
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let mk = |client, scope, syntax, layout| ConfigFile {
        client,
        path: p.to_path_buf(),
        scope,
        syntax,
        layout,
    };
    let by_name = match (name, parent) {
        ("claude_desktop_config.json", _) => Some(mk(
            Client::ClaudeDesktop,
            "user",
            Syntax::Json,
            Layout::McpServers,
        )),
        (".claude.json", _) => Some(mk(
            Client::ClaudeCode,
            "user",
            Syntax::Json,
            Layout::ClaudeJson,
        )),
        (".mcp.json", _) => Some(mk(
            Client::ClaudeCode,
            "project",
            Syntax::Json,
            Layout::McpServers,
        )),
        ("mcp_config.json", _) => Some(mk(
            Client::Windsurf,
            "user",
            Syntax::Json,
            Layout::McpServers,
        )),
        ("config.toml", _) => Some(mk(Client::Codex, "user", Syntax::Toml, Layout::CodexToml)),
        ("mcp.json", ".cursor") => Some(mk(
            Client::Cursor,
            "project",
            Syntax::Jsonc,
            Layout::McpServers,
        )),
        ("mcp.json", ".vscode") => Some(mk(
            Client::Vscode,
            "project",
            Syntax::Jsonc,
            Layout::VscodeServers,
        )),
        ("mcp.json", "User") => Some(mk(
            Client::Vscode,
            "user",
            Syntax::Jsonc,
            Layout::VscodeServers,
        )),
        ("settings.json", ".gemini") => Some(mk(
            Client::GeminiCli,
            "user",
            Syntax::Jsonc,
            Layout::McpServers,
        )),
        _ => None,
    };
    if let [only] = opts.clients.as_slice() {
        let (syntax, layout) = match only {
            Client::Codex => (Syntax::Toml, Layout::CodexToml),
            Client::Vscode => (Syntax::Jsonc, Layout::VscodeServers),
            Client::Cursor | Client::GeminiCli => (Syntax::Jsonc, Layout::McpServers),
            Client::ClaudeCode if name == ".claude.json" => (Syntax::Json, Layout::ClaudeJson),
            _ => (Syntax::Json, Layout::McpServers),
        };
        return Some(mk(
            *only,
            by_name.as_ref().map_or("user", |f| f.scope),
            syntax,
            layout,
        ));
    }
    by_name.filter(|f| wanted(opts, f.client))
}
