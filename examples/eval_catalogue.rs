//! Classifies every tool of a catalogue and prints one line per tool (for reviewing a class
//! by eye) and the count per class.
//!
//!     cargo run --release --example eval_catalogue [-- catalogue] [--class financial]
//!     cargo run --release --example eval_catalogue -- --repeat 20   (time only, for profiling)

use std::collections::BTreeMap;
use std::path::PathBuf;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::Classifier;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let class = args
        .iter()
        .position(|a| a == "--class")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let dir = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with("--")
                && (*i == 0 || !["--class", "--repeat"].contains(&args[i - 1].as_str()))
        })
        .map(|(_, a)| PathBuf::from(a))
        .unwrap_or_else(|| PathBuf::from("catalogue"));
    let loaded = Catalogue::new(&dir).load()?;
    let classifier = Classifier::builtin().with_catalogue_overrides(&dir)?;
    if let Some(n) = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<usize>().ok())
    {
        let tools: usize = loaded.servers.iter().map(|s| s.tools.len()).sum();
        let start = std::time::Instant::now();
        for _ in 0..n {
            for server in &loaded.servers {
                std::hint::black_box(classifier.classify_server(server));
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{} tools in {secs:.3}s: {:.0} tools/s",
            tools * n,
            (tools * n) as f64 / secs
        );
        return Ok(());
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for server in &loaded.servers {
        let cs = classifier.classify_server(server);
        for (tool, c) in server.tools.iter().zip(&cs) {
            let cl = format!("{:?}", c.class).to_lowercase();
            *counts.entry(cl.clone()).or_default() += 1;
            if class
                .as_deref()
                .is_some_and(|want| want == cl || want == "all")
            {
                let effects: Vec<String> = c
                    .effects
                    .iter()
                    .map(|e| format!("{e:?}").to_lowercase())
                    .collect();
                let desc: String = tool
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(160)
                    .collect::<String>()
                    .replace(['\n', '\t'], " ");
                println!(
                    "{}\t{}\t{}\t{:?}\t{}\t{}",
                    server.slug,
                    tool.name,
                    cl,
                    c.access,
                    effects.join(","),
                    desc
                );
            }
        }
    }
    let total: usize = counts.values().sum();
    let line: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("# {total} tools: {}", line.join(", "));
    Ok(())
}
