//! `toolrisk validate`: load every catalogue file and report all errors at the end.

use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The catalogue folder.
    #[arg(long, default_value = "catalogue")]
    pub catalogue: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let loaded = Catalogue::new(&args.catalogue).load()?;
    let tools: usize = loaded.servers.iter().map(|s| s.tools.len()).sum();
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    println!(
        "{} servers, {} tools loaded; {} file(s) with errors",
        loaded.servers.len(),
        tools,
        loaded.errors.len()
    );
    Ok(if loaded.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
