//! `toolrisk completions SHELL` and `toolrisk man [COMMAND]`: generated from the one clap
//! definition, so they never drift from the flags.

use clap::CommandFactory;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  toolrisk completions bash > ~/.local/share/bash-completion/completions/toolrisk\n  \
                         toolrisk completions zsh > ~/.zfunc/_toolrisk"
)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  toolrisk man > ~/.local/share/man/man1/toolrisk.1\n  toolrisk man query | man -l -"
)]
pub struct ManArgs {
    /// A command (its own page, toolrisk-COMMAND(1)); without one, toolrisk(1).
    pub command: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut cmd = crate::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "toolrisk", &mut out);
    emit(&out)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let root = crate::cli::Cli::command();
    let page = match &args.command {
        None => root,
        Some(name) => {
            let sub = root
                .get_subcommands()
                .find(|c| c.get_name() == name)
                .cloned()
                .ok_or_else(|| {
                    let names: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
                    anyhow::anyhow!("no command `{name}`; commands: {}", names.join(", "))
                })?;
            let title = format!("toolrisk-{name}");
            sub.name(title.clone()).bin_name(title)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page).render(&mut out)?;
    emit(&out)
}

fn emit(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    o.write_all(bytes)?;
    o.flush()?;
    Ok(ExitCode::SUCCESS)
}
