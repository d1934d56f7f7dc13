//! `toolrisk policy SERVER`: print a catalogued server's recommended policy in the format a
//! client or gateway reads (docs/policies.md), or merge it into that file with `--write`.

use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::policy::{self, ServerPolicy, Target};
use toolrisk::classify::{report, Classifier};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's slug or id.
    pub server: String,
    /// Output format: the file of which client or gateway.
    #[arg(long, value_enum, default_value = "native")]
    pub format: Target,
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
    /// The name the server has in your client's configuration (default: its slug).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Merge the policy into FILE (keeping its other settings and comments, with a backup
    /// beside it) and print the diff, instead of printing the policy.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(&args.catalogue);
    let server = cat.find(&args.server)?;
    let classifier = Classifier::for_catalogue(&args.catalogue, None)?;
    let results = classifier.classify_server(&server);
    let key = args.name.clone().unwrap_or_else(|| server.slug.clone());
    let servers = [ServerPolicy {
        key: &key,
        tools: &results,
    }];
    let emitted = policy::emit_setup(args.format, &servers)?;
    for n in &emitted.notes {
        eprintln!("note: {}", report::clean(n, 400));
    }
    match &args.write {
        None => report::emit(&emitted.text)?,
        Some(path) => {
            let w = policy::write::write(args.format, path, &emitted, &servers)?;
            report::emit(&report_clean_diff(&w.diff))?;
            match &w.backup {
                Some(b) => eprintln!("wrote {} (backup: {})", w.path.display(), b.display()),
                None if w.diff.is_empty() => eprintln!("{}: already up to date", w.path.display()),
                None => eprintln!("wrote {}", w.path.display()),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A diff as printed: headers, hunk markers and the changed lines, escaped for the terminal.
/// Unchanged context lines are left out, and a changed line whose key names a secret shows
/// the key only: the file is the user's and may hold credentials.
pub fn report_clean_diff(diff: &str) -> String {
    let mut out = String::new();
    for l in diff.lines() {
        if l.starts_with(' ') {
            continue;
        }
        let shown = if (l.starts_with('+') || l.starts_with('-'))
            && !l.starts_with("+++")
            && !l.starts_with("---")
        {
            redact_line(l)
        } else {
            l.to_string()
        };
        out.push_str(&report::clean(&shown, 4000));
        out.push('\n');
    }
    out
}

fn redact_line(l: &str) -> String {
    let Some(i) = l.find(['=', ':']) else {
        return l.to_string();
    };
    let key = l[1..i].trim().trim_matches(['"', '\'', ' ']);
    if toolrisk::scan::findings::secret_name(key) {
        format!("{}{} (value not shown)", &l[..i], &l[i..i + 1])
    } else {
        l.to_string()
    }
}
