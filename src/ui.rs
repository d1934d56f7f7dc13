//! Terminal manners for every command: colour (`--color`, `NO_COLOR`, a terminal or not),
//! quiet and verbose, and a closed output pipe treated as the reader having seen enough.

use crate::cli::ColorChoice;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

static COLOR: AtomicU8 = AtomicU8::new(0);
static LEVEL: AtomicU8 = AtomicU8::new(1);

/// Settles colour and verbosity from the command line and the environment.
pub fn init(choice: ColorChoice, quiet: bool, verbose: bool) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        // https://no-color.org: a non-empty NO_COLOR turns colour off, whatever the terminal.
        ColorChoice::Auto => {
            !no_color
                && std::io::stdout().is_terminal()
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    };
    COLOR.store(on as u8, Ordering::Relaxed);
    LEVEL.store(
        if quiet {
            0
        } else if verbose {
            2
        } else {
            1
        },
        Ordering::Relaxed,
    );
}

/// Whether standard output gets colour.
pub fn color() -> bool {
    COLOR.load(Ordering::Relaxed) == 1
}

/// `-q`: notes, progress and summaries on stderr are left out.
pub fn quiet() -> bool {
    LEVEL.load(Ordering::Relaxed) == 0
}

/// `-v`: say more.
pub fn verbose() -> bool {
    LEVEL.load(Ordering::Relaxed) == 2
}

/// A note on stderr, unless `-q`.
macro_rules! note {
    ($($t:tt)*) => {
        if !$crate::ui::quiet() {
            eprintln!($($t)*);
        }
    };
}
pub(crate) use note;

/// `s` in an SGR colour when colour is on. `code` is an SGR parameter (`31` red, `1;31` bold).
pub fn paint(s: &str, code: &str) -> String {
    if color() {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The colour of a risk level's name: critical and high stand out, low stays quiet.
pub fn risk_code(risk: &str) -> &'static str {
    match risk {
        "critical" => "1;31",
        "high" => "31",
        "medium" => "33",
        _ => "32",
    }
}

/// The colour of a class name.
pub fn class_code(class: &str) -> &'static str {
    match class {
        "destructive" | "financial" => "1;35",
        "execute" => "35",
        "write" => "36",
        _ => "0",
    }
}

/// Whether an error is, somewhere in its chain, a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// `println!` panics when the reader has gone (`toolrisk schema | head`): that panic ends the
/// process with success and without a message; every other panic is reported as before.
pub fn quiet_broken_pipe_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}
