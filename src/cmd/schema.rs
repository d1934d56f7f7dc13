//! `toolrisk schema`: the JSON Schema of catalogue files, for editors.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  toolrisk schema > catalogue/schema.json\n\n\
    Exit status: 0")]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    let schema = toolrisk::catalogue::record_schema();
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}
