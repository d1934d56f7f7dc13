//! The one clap definition. Each subcommand's flags live beside its code in `cmd/<name>.rs`.

use crate::cmd;
use clap::{Parser, Subcommand};

/// Catalogue the tools MCP servers give AI agents: what each can do, how risky that is, and
/// which gateway rule to put on it, with the evidence.
#[derive(Debug, Parser)]
#[command(name = "toolrisk", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify a server's tools (a tools/list file, stdin, --stdio or --url): what a server
    /// author runs in CI (table, JSON, SARIF or GitHub annotations).
    Check(Box<cmd::check::Args>),
    /// Pin a server's tool definitions in a lock file for `check --baseline`.
    Lock(cmd::lock::Args),
    /// Explain a catalogued server's tools, or one tool with its evidence.
    Show(cmd::show::Args),
    /// Print a catalogued server's recommended gateway policy.
    Policy(cmd::policy::Args),
    /// Collect tool definitions from registries, live servers or launched packages.
    Crawl(Box<cmd::crawl::Args>),
    /// Render the catalogue as a static website.
    Build(cmd::build::Args),
    /// Preview the site on 127.0.0.1, rebuilding when the catalogue or templates change.
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
}
