//! Classifies every tool of a catalogue and prints one line per tool (for reviewing a class
//! by eye) and the count per class.
//!
//!     cargo run --release --example eval_catalogue [-- catalogue] [--class financial]

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
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--class"))
        .map(|(_, a)| PathBuf::from(a))
        .unwrap_or_else(|| PathBuf::from("catalogue"));
    let loaded = Catalogue::new(&dir).load()?;
    let classifier = Classifier::builtin().with_catalogue_overrides(&dir)?;
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
