//! Measures the classifier against authors' annotations with the annotations withheld:
//! read-only-vs-not agreement with `readOnlyHint`, and whether every `destructiveHint: true`
//! tool is classed non-read. Input: a TSV with columns server, tool_name, description,
//! readOnlyHint, destructiveHint (as in the shared dev set).
//!
//!     cargo run --example eval_annotated -- /work/shared/annotated-tools.tsv

use std::process::ExitCode;
use toolrisk::classify::{Classifier, ServerContext};
use toolrisk::model::{Access, Tool};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: eval_annotated FILE.tsv");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: reading {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let classifier = Classifier::builtin().ignore_annotations(true);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(c_server), Some(c_name), Some(c_desc), Some(c_ro), Some(c_de)) = (
        col("server"),
        col("tool_name"),
        col("description"),
        col("readOnlyHint"),
        col("destructiveHint"),
    ) else {
        eprintln!("error: {path}: expected columns server, tool_name, description, readOnlyHint, destructiveHint");
        return ExitCode::from(2);
    };
    let (mut n, mut agree, mut destructive, mut destructive_ok) = (0, 0, 0, 0);
    let mut misses = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() <= c_de {
            continue;
        }
        let tool = Tool {
            name: f[c_name].to_string(),
            description: Some(f[c_desc].to_string()).filter(|d| !d.is_empty()),
            ..Tool::default()
        };
        let ctx = ServerContext {
            id: f[c_server].to_string(),
            name: f[c_server].to_string(),
            ..ServerContext::default()
        };
        let c = classifier.classify_tool(&ctx, &tool);
        let read = c.access == Access::Read;
        match f[c_ro] {
            "true" | "false" => {
                n += 1;
                let expected = f[c_ro] == "true";
                if expected == read {
                    agree += 1;
                } else {
                    misses.push(format!(
                        "  {:<45} hint={:<5} got={:<7} {}  [{}]",
                        tool.name,
                        f[c_ro],
                        c.access.as_str(),
                        f[c_desc].chars().take(70).collect::<String>(),
                        c.evidence
                            .iter()
                            .map(|e| e.rule.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    ));
                }
            }
            _ => {}
        }
        if f[c_de] == "true" {
            destructive += 1;
            if !read {
                destructive_ok += 1;
            } else {
                misses.push(format!("  DESTRUCTIVE classed read: {}", tool.name));
            }
        }
    }
    println!(
        "read-only agreement: {agree}/{n} = {:.4}",
        agree as f64 / n.max(1) as f64
    );
    println!("destructiveHint:true classed non-read: {destructive_ok}/{destructive}");
    println!("misses:");
    for m in &misses {
        println!("{m}");
    }
    ExitCode::SUCCESS
}
