//! One module per subcommand: flags, validation, and a call into the library.

pub mod build;
pub mod catalogue;
pub mod check;
pub mod completions;
pub mod crawl;
pub mod export;
pub mod lock;
pub mod policy;
pub mod query;
pub mod scan;
pub mod schema;
pub mod serve;
pub mod show;
pub mod validate;
pub mod version;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs the chosen command. `Err` means unusable input or a failed run (exit 2).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(a) => check::run(*a),
        Command::Lock(a) => lock::run(a),
        Command::Show(a) => show::run(a),
        Command::Policy(a) => policy::run(a),
        Command::Crawl(a) => crawl::run(*a),
        Command::Build(a) => build::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Query(a) => query::run(a),
        Command::Scan(a) => scan::run(*a),
        Command::Export(a) => export::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Schema(a) => schema::run(a),
        Command::Catalogue(a) => catalogue::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => completions::man(a),
    }
}
