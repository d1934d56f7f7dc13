//! Scores the classifier on the project's labelled evaluation set and prints the misses.
//!
//!     cargo run --example eval_set [-- tests/fixtures/eval] [--ignore-annotations]

use std::path::PathBuf;
use toolrisk::classify::{eval, Classifier};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ignore = args.iter().any(|a| a == "--ignore-annotations");
    let dir = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tests/fixtures/eval"));
    let cases = eval::load_cases(&dir)?;
    let score = eval::score(&Classifier::builtin().ignore_annotations(ignore), &cases)?;
    for m in &score.misses {
        println!("  {m}");
    }
    println!("{}", score.summary());
    Ok(())
}
