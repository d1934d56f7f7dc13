//! The toolrisk binary: parse arguments, dispatch to a command, turn errors into exit codes.

mod cli;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

// Building the site allocates many small strings on every core at once; glibc's allocator
// spent about a quarter of the build in malloc/free, mimalloc far less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
