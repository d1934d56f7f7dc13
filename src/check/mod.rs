//! `check` for server authors and CI: the results a check reports (tool risk at or above a
//! threshold, definition findings, drift from a lock), with suppressions applied, and their
//! renderings for code review: SARIF 2.1.0 (`sarif`) and GitHub workflow commands (`github`).
//! `live` lists a server's tools through the crawler; `lock` pins definitions; `suppress`
//! reads `toolrisk.toml`; `locate` finds a tool's text in its source file.

pub mod diff;
pub mod github;
pub mod live;
pub mod locate;
pub mod lock;
pub mod rules;
pub mod sarif;
pub mod suppress;

use crate::model::{Classification, Risk, Severity};

/// How loud a result is (SARIF `level`; GitHub `error` / `warning` / `notice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn of_risk(r: Risk) -> Level {
        match r {
            Risk::Critical | Risk::High => Level::Error,
            Risk::Medium => Level::Warning,
            Risk::Low => Level::Note,
        }
    }

    pub fn of_severity(s: Severity) -> Level {
        match s {
            Severity::Critical => Level::Error,
            Severity::Warning => Level::Warning,
            Severity::Info => Level::Note,
        }
    }

    /// The SARIF `level` value.
    pub fn sarif(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "note",
        }
    }
}

/// Which text of a tool a result is about: where `locate` looks for it in a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Name,
    Description,
}

/// A place in a file (1-based lines; columns in characters, `end_column` exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLocation {
    /// For SARIF: relative to the working directory (the repository root in CI) when under
    /// it, else a `file://` URI; percent-encoded.
    pub uri: String,
    /// For GitHub annotations: the plain path, relative to the working directory when under it.
    pub path: String,
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// One reported result.
#[derive(Debug, Clone)]
pub struct Item {
    /// `risk/<class>`, `finding/<kind>` or `lock/<change>` (see `rules`).
    pub rule_id: String,
    pub server: String,
    pub tool: String,
    pub level: Level,
    /// Plain text; fragments that came from a definition are already escaped.
    pub message: String,
    pub anchor: Anchor,
    pub location: Option<FileLocation>,
    /// The reason, when a `toolrisk.toml` entry suppresses this result.
    pub suppressed: Option<String>,
    /// Counts towards exit 1 (risk at or above `--fail-on`, a failing lock change), unless
    /// suppressed.
    pub fails: bool,
}

impl Item {
    /// Fails the check: `fails` and not suppressed.
    pub fn failing(&self) -> bool {
        self.fails && self.suppressed.is_none()
    }
}

/// What to report.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Tools at or above this risk get a result.
    pub report_at: Risk,
    /// Tools at or above this risk fail the check.
    pub fail_on: Option<Risk>,
}

impl Thresholds {
    /// Results for tools at `fail_on` or above when it is set, else from `medium` up.
    pub fn new(fail_on: Option<Risk>) -> Thresholds {
        Thresholds {
            report_at: fail_on.unwrap_or(Risk::Medium),
            fail_on,
        }
    }
}

/// Lower-case class label, whatever case the classifier serialises it in.
pub fn class_label(c: &Classification) -> String {
    c.class.as_str().to_ascii_lowercase()
}

/// The results for one server: a `risk/<class>` result per tool at or above the report
/// threshold, a `finding/<kind>` result per finding, and a `lock/<change>` result per change
/// from the baseline. Suppressions are applied (suppressed results stay, marked).
pub fn items(
    server: &str,
    results: &[Classification],
    changes: &[lock::Change],
    t: Thresholds,
    sup: &suppress::Suppressions,
) -> Vec<Item> {
    use crate::classify::report::clean;
    let mut out = Vec::new();
    for c in results {
        let name = clean(&c.name, 200);
        if c.risk >= t.report_at {
            let class = class_label(c);
            out.push(Item {
                rule_id: format!("risk/{class}"),
                server: server.to_string(),
                tool: c.name.clone(),
                level: Level::of_risk(c.risk),
                message: format!(
                    "`{name}` is {} with {} risk; recommended policy: {}. {}",
                    c.class.title(),
                    c.risk,
                    c.policy.action,
                    clean(&c.rationale, 1000)
                ),
                anchor: Anchor::Description,
                location: None,
                suppressed: None,
                fails: t.fail_on.is_some_and(|f| c.risk >= f),
            });
        }
        for f in &c.findings {
            let kind = clean(&f.kind, 80);
            out.push(Item {
                rule_id: format!("finding/{kind}"),
                server: server.to_string(),
                tool: c.name.clone(),
                level: Level::of_severity(f.severity),
                message: format!("`{name}`: {}", clean(&f.message, 1000)),
                anchor: if kind.starts_with("name") || kind.starts_with("duplicate") {
                    Anchor::Name
                } else {
                    Anchor::Description
                },
                location: None,
                suppressed: None,
                fails: false,
            });
        }
    }
    for ch in changes {
        out.push(Item {
            rule_id: ch.kind.rule_id().to_string(),
            server: server.to_string(),
            tool: ch.tool.clone(),
            level: if ch.kind.fails() {
                Level::Error
            } else {
                Level::Note
            },
            message: ch.render(),
            anchor: Anchor::Description,
            location: None,
            suppressed: None,
            fails: ch.kind.fails(),
        });
    }
    for it in out.iter_mut() {
        it.suppressed = sup.reason_for(&it.tool, &it.rule_id).map(str::to_string);
    }
    out
}
