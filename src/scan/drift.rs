//! Lock-file drift in a user's setup (`scan --locks DIR`): a server the operator approved and
//! pinned with `toolrisk lock --out DIR/<name>.lock` is compared with the definitions the
//! catalogue holds for it now, and every change since the lock is a finding.

use super::{ConfiguredServer, ServerReport, SetupCheck, SetupFinding};
use crate::catalogue::Catalogue;
use crate::check::lock::{self, Lock};
use crate::classify::Classifier;
use crate::model::Severity;
use std::path::{Path, PathBuf};

/// The lock file of a server, by the name the user gave it; `None` for a name that is not a
/// plain file name (it could point outside the folder).
pub fn lock_path(dir: &Path, server_name: &str) -> Option<PathBuf> {
    let plain = !server_name.is_empty()
        && !server_name.starts_with('.')
        && server_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'));
    plain.then(|| dir.join(format!("{server_name}.lock")))
}

/// The drift check, for `Options::checks`.
pub fn lock_drift(locks: PathBuf, catalogue: PathBuf) -> SetupCheck {
    Box::new(
        move |_configured: &[ConfiguredServer], servers: &[ServerReport]| {
            drift_findings(&locks, &catalogue, servers)
        },
    )
}

fn drift_findings(locks: &Path, catalogue: &Path, servers: &[ServerReport]) -> Vec<SetupFinding> {
    let mut out = vec![];
    let cat = Catalogue::new(catalogue);
    let classifier = Classifier::for_catalogue(catalogue, None).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for s in servers {
        let Some(path) = lock_path(locks, &s.name) else {
            continue;
        };
        if !path.exists() || !seen.insert(path.clone()) {
            continue;
        }
        let finding = |kind: &str, severity, message: String| SetupFinding {
            kind: kind.into(),
            severity,
            file: path.clone(),
            line: None,
            client: Some(s.client),
            server: Some(s.name.clone()),
            message,
        };
        let locked = match Lock::load(&path) {
            Ok(l) => l,
            Err(e) => {
                out.push(finding("lock_error", Severity::Warning, format!("{e:#}")));
                continue;
            }
        };
        let Some(record) = s.catalogue.as_ref().and_then(|m| cat.find(&m.slug).ok()) else {
            out.push(finding(
                "lock_unverified",
                Severity::Info,
                format!(
                    "server `{}` has a lock but no catalogued definitions to compare it with",
                    crate::classify::report::clean(&s.name, 200)
                ),
            ));
            continue;
        };
        let results = classifier.classify_server(&record);
        let now = Lock::from_tools(&s.name, &record.tools, &results);
        for change in lock::diff(&locked, &now) {
            let severity = if change.kind.fails() {
                Severity::Warning
            } else {
                Severity::Info
            };
            let text = change.render().lines().collect::<Vec<_>>().join("; ");
            out.push(finding(
                "lock_drift",
                severity,
                format!(
                    "server `{}` drifted from its lock: {text}",
                    crate::classify::report::clean(&s.name, 200)
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_never_leave_the_locks_folder() {
        let d = Path::new("/locks");
        assert_eq!(
            lock_path(d, "github"),
            Some(PathBuf::from("/locks/github.lock"))
        );
        assert_eq!(lock_path(d, "../etc/passwd"), None);
        assert_eq!(lock_path(d, ".hidden"), None);
        assert_eq!(lock_path(d, "a/b"), None);
        assert_eq!(lock_path(d, ""), None);
    }
}
