//! Plain-text rendering of classifications for the terminal (`check`, `show`). Everything
//! from a tool definition is hostile: control characters are escaped and lengths bounded so a
//! definition cannot rewrite the screen.

use crate::model::{Classification, Tool};
use std::fmt::Write;

/// One line of untrusted text made safe for a terminal: control, bidi and invisible
/// characters escaped, at most `max` bytes (then `…`).
pub fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 8);
    for c in s.chars() {
        if out.len() >= max {
            out.push('…');
            break;
        }
        // The one table of hidden characters, plus the line and paragraph separators, which
        // a terminal may treat as line breaks.
        let hidden = crate::text::hidden_kind(c).is_some() || matches!(c, '\u{2028}' | '\u{2029}');
        if c.is_control() || hidden {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Untrusted text of several lines made safe for a terminal: each line as [`clean`] makes it
/// (tabs become spaces), lines after the first start with `indent`, at most `max` bytes.
pub fn clean_block(s: &str, max: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut left = max;
    for (i, line) in s.lines().enumerate() {
        if left == 0 {
            out.push('…');
            break;
        }
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(indent);
            }
        }
        let line = clean(&line.replace('\t', "    "), left);
        left = left.saturating_sub(line.len().max(1));
        out.push_str(line.trim_end());
    }
    out
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

/// A table: one line per tool with class, risk, policy, confidence and finding count.
pub fn table(cs: &[Classification]) -> String {
    let names: Vec<String> = cs.iter().map(|c| clean(&c.name, 48)).collect();
    let w = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {:<11}  {:<8}  {:<22}  {:<6}  FINDINGS",
        pad("TOOL", w),
        "CLASS",
        "RISK",
        "POLICY",
        "CONF"
    );
    for (c, name) in cs.iter().zip(&names) {
        let policy = match c.policy.rate_limit {
            Some(rl) => format!("{} {}/{}s", c.policy.action, rl.max, rl.window),
            None => c.policy.action.to_string(),
        };
        let findings = if c.findings.is_empty() {
            "-".to_string()
        } else {
            c.findings
                .iter()
                .map(|f| f.kind.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = writeln!(
            out,
            "{}  {:<11}  {:<8}  {:<22}  {:<6}  {}",
            pad(name, w),
            c.class.title(),
            c.risk.as_str(),
            policy,
            c.confidence.as_str(),
            findings
        );
    }
    out
}

/// Counts per risk level: `3 tools: 1 low, 2 high`.
pub fn summary(cs: &[Classification]) -> String {
    let mut parts = Vec::new();
    for r in crate::model::Risk::ALL {
        let n = cs.iter().filter(|c| c.risk == *r).count();
        if n > 0 {
            parts.push(format!("{n} {r}"));
        }
    }
    let findings: usize = cs.iter().map(|c| c.findings.len()).sum();
    format!(
        "{} tool{}: {}; {} finding{}",
        cs.len(),
        if cs.len() == 1 { "" } else { "s" },
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        },
        findings,
        if findings == 1 { "" } else { "s" }
    )
}

/// Everything about one tool: its definition's key facts, the verdict, why, the evidence and
/// the findings.
pub fn detail(tool: Option<&Tool>, c: &Classification) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", clean(&c.name, 200));
    if let Some(d) = tool.and_then(|t| t.description.as_deref()) {
        let _ = writeln!(out, "  {}", clean_block(d, 2000, "  "));
    }
    let _ = writeln!(out);
    let effects = if c.effects.is_empty() {
        "-".to_string()
    } else {
        c.effects
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "  class       {}", c.class.title());
    let _ = writeln!(out, "  access      {}", c.access);
    let _ = writeln!(out, "  effects     {effects}");
    let _ = writeln!(out, "  risk        {}", c.risk);
    let policy = match c.policy.rate_limit {
        Some(rl) => format!("{} (max {} per {}s)", c.policy.action, rl.max, rl.window),
        None => c.policy.action.to_string(),
    };
    let _ = writeln!(
        out,
        "  policy      {policy}: {}",
        clean(&c.policy.reason, 300)
    );
    let _ = writeln!(out, "  confidence  {}", c.confidence);
    let _ = writeln!(out, "\n  {}", clean(&c.rationale, 1000));
    if !c.evidence.is_empty() {
        let _ = writeln!(out, "\n  evidence:");
        for e in &c.evidence {
            let _ = writeln!(
                out,
                "    {:<12} {:<28} {:<36} “{}”",
                e.source.as_str(),
                clean(&e.rule, 28),
                clean(&e.signal, 36),
                clean(&e.text, 100)
            );
        }
    }
    if !c.findings.is_empty() {
        let _ = writeln!(out, "\n  findings:");
        for f in &c.findings {
            let _ = writeln!(
                out,
                "    {:<8} {:<24} {}",
                f.severity.as_str(),
                f.kind,
                clean(&f.message, 600)
            );
        }
    }
    out
}

/// Writes to stdout; a closed pipe (`toolrisk check | head`) ends output quietly.
pub fn emit(s: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_prints_description_newlines_as_newlines() {
        let b = clean_block("first\nsecond\x1b[2J\n\n\tthird\r", 100, "  ");
        assert_eq!(b, "first\n  second\\u{1b}[2J\n\n      third\\u{d}");
        assert!(!b.contains("\\u{a}"));
    }

    #[test]
    fn clean_escapes_terminal_tricks() {
        assert_eq!(clean("a\x1b[2Jb", 100), "a\\u{1b}[2Jb");
        assert_eq!(clean("x\u{202e}y", 100), "x\\u{202e}y");
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clean("héllo", 100), "héllo");
    }
}
