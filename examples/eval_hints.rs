//! Measures the classifier against the authors' hints in a catalogue (the shipped one by
//! default), with the hints withheld, on two fixed halves of its servers: `dev` (tuned on)
//! and `held-out` (never looked at while tuning; see `eval::held_out`). Prints pooled and
//! per-server-mean agreement for each. `--misses` prints the dev disagreements; held-out
//! disagreements are printed only with `--misses-held-out` (for a final review, not tuning).
//!
//!     cargo run --release --example eval_hints [-- catalogue] [--misses]
//!     cargo run --release --example eval_hints -- --tsv /work/shared/annotated-tools.tsv

use toolrisk::catalogue::Catalogue;
use toolrisk::classify::eval::{self, HintCase};
use toolrisk::classify::Classifier;
use toolrisk::model::Tool;

fn tsv_cases(path: &str) -> anyhow::Result<Vec<HintCase>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| anyhow::anyhow!("{path}: no column `{name}`"))
    };
    let (cs, cn, cd, cr, ce) = (
        col("server")?,
        col("tool_name")?,
        col("description")?,
        col("readOnlyHint")?,
        col("destructiveHint")?,
    );
    let mut out = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() <= cs.max(cn).max(cd).max(cr).max(ce) {
            continue;
        }
        let mut ann = serde_json::Map::new();
        for (c, k) in [(cr, "readOnlyHint"), (ce, "destructiveHint")] {
            if let Ok(b) = f[c].parse::<bool>() {
                ann.insert(k.into(), b.into());
            }
        }
        out.push(HintCase {
            server: f[cs].to_string(),
            tool: Tool {
                name: f[cn].to_string(),
                description: Some(f[cd].to_string()).filter(|d| !d.is_empty()),
                annotations: Some(serde_json::Value::Object(ann)),
                ..Tool::default()
            },
        });
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let tsv = args
        .iter()
        .position(|a| a == "--tsv")
        .and_then(|i| args.get(i + 1));
    let cases: Vec<HintCase> = match tsv {
        Some(path) => tsv_cases(path)?,
        None => {
            let dir = args
                .iter()
                .find(|a| !a.starts_with("--"))
                .cloned()
                .unwrap_or_else(|| "catalogue".into());
            let loaded = Catalogue::new(&dir).load()?;
            loaded
                .servers
                .into_iter()
                .flat_map(|s| {
                    let id = s.id.clone();
                    s.tools.into_iter().map(move |tool| HintCase {
                        server: id.clone(),
                        tool,
                    })
                })
                .collect()
        }
    };
    let classifier = Classifier::builtin();
    let (held, dev): (Vec<HintCase>, Vec<HintCase>) =
        cases.into_iter().partition(|c| eval::held_out(&c.server));
    for (label, set, show) in [
        ("dev", &dev, flag("--misses")),
        ("held-out", &held, flag("--misses-held-out")),
    ] {
        let s = eval::score_hints(&classifier, set);
        if show {
            for m in &s.misses {
                println!("  {m}");
            }
        }
        println!("{label}: {}", s.summary());
    }
    Ok(())
}
