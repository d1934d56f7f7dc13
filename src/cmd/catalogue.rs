//! `toolrisk catalogue path|install|update|normalise`: the catalogue an installed toolrisk
//! reads when run outside a checkout. `install` copies a catalogue folder (by default the one
//! in the source checkout the binary was built from) into the user data folder, checking every
//! record on the way; `update` copies again from where the last install came from.
//! `normalise` rewrites every record through the record store's writer (`--check`: only says
//! which would change).

use crate::cli::{installed_dir, CatalogueArg, Found};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use toolrisk::catalogue::{
    load_server, normalised_record, write_atomic, Catalogue, MAX_FILE_BYTES,
};

/// The file in an installed catalogue naming the folder it was copied from.
const SOURCE_FILE: &str = ".toolrisk-source";

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Where toolrisk looks for a catalogue, first match wins:\n  \
    1. --catalogue DIR or TOOLRISK_CATALOGUE\n  \
    2. catalogue/ (with servers/) in the working folder or a folder above it\n  \
    3. the installed catalogue: $TOOLRISK_DATA_DIR/catalogue, $XDG_DATA_HOME/toolrisk/catalogue\n     \
       or ~/.local/share/toolrisk/catalogue\n\n\
    Examples:\n  toolrisk catalogue install\n  toolrisk catalogue install --from ~/src/toolrisk/catalogue\n  \
    toolrisk catalogue path\n  toolrisk catalogue normalise --check\n\n\
    Exit status: 0 done; 1 some records were left out (named on stderr), or for\n  \
    `normalise --check` some records would change (listed on stdout); 2 failed."
)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Print the catalogue folder commands would use, and why.
    Path {
        #[command(flatten)]
        catalogue: CatalogueArg,
    },
    /// Copy a catalogue folder into the user data folder (replacing what is there).
    Install {
        /// The catalogue folder to copy (default: the source checkout's catalogue/).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
    /// Copy again from where the installed catalogue came from.
    Update,
    /// Rewrite every record in servers/ as the record store writes it (YAML 1.1-safe quoting,
    /// stable key order), without changing what it says.
    Normalise {
        #[command(flatten)]
        catalogue: CatalogueArg,
        /// Write nothing: list the records that would change and exit 1 if any would (for CI).
        #[arg(long)]
        check: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Path { catalogue } => {
            let (dir, found) = catalogue.resolve();
            println!("{}", dir.display());
            crate::ui::note!("({})", found.describe());
            Ok(if *found == Found::Nowhere {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        What::Install { from } => {
            let from = match from {
                Some(f) => f,
                None => built_from().ok_or_else(|| {
                    anyhow::anyhow!(
                        "the source checkout this toolrisk was built from has no catalogue/; \
                         give one with --from DIR (a checkout's catalogue/ folder)"
                    )
                })?,
            };
            install(&from)
        }
        What::Update => {
            let dest = dest()?;
            let recorded = toolrisk::bounded::read_text(&dest.join(SOURCE_FILE), 4096)
                .with_context(|| {
                    format!(
                        "no installed catalogue to update at {} (run `toolrisk catalogue install`)",
                        dest.display()
                    )
                })?;
            install(Path::new(recorded.trim_end()))
        }
        What::Normalise { catalogue, check } => normalise(&catalogue, check),
    }
}

/// `catalogue normalise [--check]`. A record that does not parse is named with its error and
/// left untouched; the others are still done, and the exit status is 1.
fn normalise(arg: &CatalogueArg, check: bool) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(arg.path());
    cat.require()?;
    // Not while a crawl writes: it would rewrite a record from before the crawl's change.
    let _lock = if check {
        None
    } else {
        Some(cat.lock_for_writing(|p| {
            crate::ui::note!("waiting for another writer (lock {})", p.display())
        })?)
    };
    let files = cat.server_files()?;
    let (mut changed, mut failed) = (0usize, 0usize);
    for f in &files {
        match normalised_record(f) {
            Ok(None) => {}
            Ok(Some(_)) if check => {
                changed += 1;
                println!("{}", f.display());
            }
            Ok(Some(text)) => match write_atomic(f, text.as_bytes()) {
                Ok(()) => {
                    changed += 1;
                    crate::ui::note!("normalised {}", f.display());
                }
                // As with a record that does not parse: named, and the run goes on.
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e:#}");
                }
            },
            Err(e) => {
                failed += 1;
                eprintln!("error: {e} (left untouched)");
            }
        }
    }
    let verb = if check { "would change" } else { "rewritten" };
    crate::ui::note!(
        "{} records: {changed} {verb}, {} already normal, {failed} not done (named above)",
        files.len(),
        files.len() - changed - failed
    );
    Ok(if failed > 0 || (check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The catalogue of the checkout the binary was compiled from, if it is still there.
fn built_from() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue");
    p.join("servers").is_dir().then_some(p)
}

fn dest() -> anyhow::Result<PathBuf> {
    installed_dir().ok_or_else(|| {
        anyhow::anyhow!("no user data folder: set HOME, XDG_DATA_HOME or TOOLRISK_DATA_DIR")
    })
}

/// Copies `from` (checked record by record) into a fresh folder beside the destination, then
/// swaps it in with renames: a reader sees the old catalogue or the new one, never a mix.
fn install(from: &Path) -> anyhow::Result<ExitCode> {
    let src = Catalogue::new(from);
    let files = src.server_files()?;
    let dest = dest()?;
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    // The overrides must load too, or the installed catalogue would fail every command.
    toolrisk::classify::overrides::Overrides::load(&from.join("overrides.yaml"))
        .context("nothing installed")?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let staged = parent.join(format!(".catalogue.new-{}-{stamp}", std::process::id()));
    let r = stage(from, &files, &staged);
    let skipped = match r {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(e);
        }
    };
    let old = parent.join(format!(".catalogue.old-{}", std::process::id()));
    let had_old = dest.exists();
    if had_old {
        std::fs::rename(&dest, &old).with_context(|| format!("moving {} aside", dest.display()))?;
    }
    if let Err(e) = std::fs::rename(&staged, &dest) {
        if had_old {
            let _ = std::fs::rename(&old, &dest);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("installing into {}", dest.display()));
    }
    if had_old {
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    crate::ui::note!(
        "installed {} records from {} into {}",
        files.len() - skipped,
        from.display(),
        dest.display()
    );
    Ok(if skipped == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Copies the records that load, and the overrides and schema, into `staged`; returns how
/// many records were left out.
fn stage(from: &Path, files: &[PathBuf], staged: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(staged.join("servers"))
        .with_context(|| format!("creating {}", staged.display()))?;
    let mut skipped = 0usize;
    for f in files {
        // Only records that load are installed; the rest are named.
        if let Err(e) = load_server(f) {
            eprintln!("warning: left out {e}");
            skipped += 1;
            continue;
        }
        let bytes = toolrisk::bounded::read_bytes(f, MAX_FILE_BYTES)?;
        let name = f.file_name().unwrap_or_default();
        std::fs::write(staged.join("servers").join(name), bytes)?;
    }
    for extra in ["overrides.yaml", "schema.json"] {
        let p = from.join(extra);
        match toolrisk::bounded::read_bytes(&p, MAX_FILE_BYTES) {
            Ok(bytes) => std::fs::write(staged.join(extra), bytes)?,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let abs = std::fs::canonicalize(from).unwrap_or_else(|_| from.to_path_buf());
    std::fs::write(staged.join(SOURCE_FILE), format!("{}\n", abs.display()))?;
    Ok(skipped)
}
