//! `toolrisk --version`: the crate version, and with `--version` the rules fingerprint (a
//! hash of the built-in rules and what they answer for probe tools: two binaries with the same
//! fingerprint classify alike).

pub const SHORT: &str = env!("CARGO_PKG_VERSION");

/// `0.1.0 (rules sha256:…)`.
pub fn long() -> String {
    let fp = toolrisk::index::rules_fingerprint(&toolrisk::classify::Classifier::builtin());
    format!("{SHORT}\nrules fingerprint: {fp}")
}
