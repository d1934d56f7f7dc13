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
    let data = export::classify_catalogue(&cat, &Classifier::builtin())?;
    for e in &data.errors {
        eprintln!("warning: left out {e}");
    }
    let n = match args.what {
        What::Sqlite { file } => {
            let n = export::write_sqlite(&data, &file)?;
            eprintln!(
                "exported {} servers, {n} tools to {}",
                data.servers.len(),
                file.display()
            );
            n
        }
        What::Jsonl { file } => match file.filter(|f| f.as_os_str() != "-") {
            Some(path) => {
                let n = export::write_jsonl_file(&data, &path)?;
                eprintln!("exported {n} tools to {}", path.display());
                n
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let r = export::write_jsonl(&data, &mut out).and_then(|n| {
                    out.flush()
                        .map(|()| n)
                        .context("writing to standard output")
                });
                match r {
                    Ok(n) => n,
                    Err(e)
                        if e.chain().any(|c| {
                            c.downcast_ref::<std::io::Error>()
                                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                                || c.downcast_ref::<serde_json::Error>()
                                    .and_then(|j| j.io_error_kind())
                                    == Some(std::io::ErrorKind::BrokenPipe)
                        }) =>
                    {
                        return Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => return Err(e),
                }
            }
        },
    };
    let _ = n;
    Ok(if data.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
