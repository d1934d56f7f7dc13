//! `toolrisk export`: the classified catalogue as a SQLite database or JSON Lines.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::Classifier;
use toolrisk::export;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    /// The catalogue folder.
    #[arg(
        long,
        global = true,
        default_value = "catalogue",
        env = "TOOLRISK_CATALOGUE"
    )]
    pub catalogue: PathBuf,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// A SQLite database (schema in docs/query.md), for sqlite3 or Datasette.
    Sqlite {
        /// The database file to write (replaced atomically).
        file: PathBuf,
    },
    /// One classified tool per line: {"server":…, "tool":…, "classification":…}.
    Jsonl {
        /// The file to write; standard output when absent or `-`.
        file: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(&args.catalogue);
    // The catalogue's own overrides apply, as in `policy` and the site.
    let classifier = Classifier::builtin().with_catalogue_overrides(&cat.root)?;
    let summary = match args.what {
        What::Sqlite { file } => {
            let sum = export::write_sqlite(&cat, &classifier, &file)?;
            eprintln!(
                "exported {} servers, {} tools to {}",
                sum.servers,
                sum.tools,
                file.display()
            );
            sum
        }
        What::Jsonl { file } => match file.filter(|f| f.as_os_str() != "-") {
            Some(path) => {
                let sum = export::write_jsonl_file(&cat, &classifier, &path)?;
                eprintln!("exported {} tools to {}", sum.tools, path.display());
                sum
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let r = export::write_jsonl(&cat, &classifier, &mut out).and_then(|sum| {
                    out.flush()
                        .map(|()| sum)
                        .context("writing to standard output")
                });
                match r {
                    Ok(sum) => sum,
                    // `toolrisk export jsonl | head` closes the pipe early: not an error.
                    Err(e) if broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
                    Err(e) => return Err(e),
                }
            }
        },
    };
    for e in &summary.errors {
        eprintln!("warning: left out {e}");
    }
    Ok(if summary.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}
