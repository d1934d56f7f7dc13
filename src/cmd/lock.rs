//! `toolrisk lock`: pin a server's tool definitions (from a file, stdin, `--stdio` or
//! `--url`) into a lock file that `check --baseline` and `scan` compare against.

use super::check::{acquire, classifier, classify, ClassifyArgs, Input};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::check::lock::Lock;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: Input,
    #[command(flatten)]
    pub classify: ClassifyArgs,
    /// Where to write the lock.
    #[arg(long, default_value = "toolrisk.lock")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let got = acquire(&args.input)?;
    let c = classifier(&args.classify)?;
    let results = classify(&c, &got.server, &got.tools);
    let lock = Lock::from_tools(&got.server, &got.tools, &results);
    toolrisk::catalogue::write_atomic(&args.out, lock.to_yaml()?.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote {}: {} tool(s)", args.out.display(), lock.tools.len());
    Ok(ExitCode::SUCCESS)
}
