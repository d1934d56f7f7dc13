//! `toolrisk serve`: build, preview on 127.0.0.1, rebuild on changes.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub build: super::build::Args,
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut opts = args.build.options()?;
    if args.build.base_url == "http://127.0.0.1:8000" {
        opts.base_url = format!("http://127.0.0.1:{}", args.port);
    }
    toolrisk::site::serve::serve(&opts, args.port)?;
    Ok(ExitCode::SUCCESS)
}
