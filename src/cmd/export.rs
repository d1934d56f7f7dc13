//! `toolrisk export`: the classified catalogue as a SQLite database or JSON Lines.

use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::Classifier;
use toolrisk::export;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  toolrisk export sqlite toolrisk.db\n  toolrisk export jsonl | jq -r .tool\n\n\
    Exit status:\n  0  exported every record\n  1  exported, but some catalogue files could not be read (named; left out)\n  2  nothing exported"
)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
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
            crate::ui::note!(
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
                crate::ui::note!("exported {} tools to {}", sum.tools, path.display());
                sum
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                // A closed pipe (`toolrisk export jsonl | head`) is handled once, in main.
                let sum = export::write_jsonl(&cat, &classifier, &mut out)?;
                out.flush().context("writing to standard output")?;
                sum
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
