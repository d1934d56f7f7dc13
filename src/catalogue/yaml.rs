//! Catalogue records as YAML that every YAML reader reads back the same: not only our own
//! (YAML 1.2 core schema) but YAML 1.1 readers too (PyYAML, Go's yaml.v2, many editors), which
//! take `2025-11-25` for a date, `1.10` and `3.3.0` for floats, `no`/`on` for booleans and
//! `0755` for octal. Every string that any of those readers would resolve to something other
//! than a string is written quoted; multi-line text stays a readable literal block when that
//! round-trips exactly, else double-quoted with escapes.
//!
//! The layout is the one the records have always had (two-space indentation, sequences at
//! their key's indentation), so a record rewritten by this emitter changes only in quoting.

use serde_yaml::Value;
use std::fmt::Write;
use std::sync::OnceLock;

/// Keys longer than this are written as explicit `? key` entries: YAML limits implicit keys
/// to 1024 characters.
const MAX_IMPLICIT_KEY: usize = 500;

/// What this emitter cannot write (records never hold these: they come from JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmitError {
    /// A YAML tag (`!tag value`), with the tag.
    Tagged(String),
    /// A mapping or sequence used as a mapping key.
    ComplexKey,
    /// A number the YAML serialiser refused (its message).
    Number(String),
}

impl std::fmt::Display for EmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmitError::Tagged(tag) => write!(f, "unexpected tag {tag}"),
            EmitError::ComplexKey => f.write_str("a mapping key that is not a scalar"),
            EmitError::Number(e) => write!(f, "a number YAML cannot write: {e}"),
        }
    }
}

impl std::error::Error for EmitError {}

/// Emits a document (a mapping, in practice) as block YAML ending in a newline.
pub fn emit(v: &Value) -> Result<String, EmitError> {
    let mut out = String::new();
    match v {
        Value::Mapping(m) if !m.is_empty() => map(&mut out, m, 0, false)?,
        Value::Sequence(s) if !s.is_empty() => seq(&mut out, s, 0, false)?,
        other => {
            out.push_str(&scalar(other, 0, false)?);
            out.push('\n');
        }
    }
    Ok(out)
}

fn spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A block mapping whose keys sit at column `indent`; with `inline` the first key continues
/// the current line (after `- `).
fn map(
    out: &mut String,
    m: &serde_yaml::Mapping,
    indent: usize,
    inline: bool,
) -> Result<(), EmitError> {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            spaces(out, indent);
        }
        let key = key_text(k)?;
        if key.chars().count() > MAX_IMPLICIT_KEY {
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            spaces(out, indent);
            out.push(':');
            value(out, v, indent, true)?;
        } else {
            out.push_str(&key);
            out.push(':');
            value(out, v, indent, false)?;
        }
    }
    Ok(())
}

/// The value after `key:`. Sequences sit at the key's indentation (as the records always
/// had), except after an explicit `:` line, where they are indented.
fn value(out: &mut String, v: &Value, indent: usize, explicit: bool) -> Result<(), EmitError> {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            out.push('\n');
            map(out, m, indent + 2, false)
        }
        Value::Sequence(s) if !s.is_empty() => {
            out.push('\n');
            seq(out, s, if explicit { indent + 2 } else { indent }, false)
        }
        Value::Tagged(t) => Err(EmitError::Tagged(t.tag.to_string())),
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent + 2, true)?);
            out.push('\n');
            Ok(())
        }
    }
}

/// A block sequence whose `- ` sit at column `indent`.
fn seq(out: &mut String, s: &[Value], indent: usize, inline: bool) -> Result<(), EmitError> {
    for (i, v) in s.iter().enumerate() {
        if i > 0 || !inline {
            spaces(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Mapping(m) if !m.is_empty() => map(out, m, indent + 2, true)?,
            Value::Sequence(s) if !s.is_empty() => seq(out, s, indent + 2, true)?,
            Value::Tagged(t) => return Err(EmitError::Tagged(t.tag.to_string())),
            other => {
                out.push_str(&scalar(other, indent + 2, true)?);
                out.push('\n');
            }
        }
    }
    Ok(())
}

fn key_text(k: &Value) -> Result<String, EmitError> {
    match k {
        Value::String(s) => Ok(string(s, 0, false)),
        Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => Err(EmitError::ComplexKey),
        other => scalar(other, 0, false),
    }
}

/// A scalar; `block` allows a literal block for multi-line strings, whose lines are indented
/// to `indent`.
fn scalar(v: &Value, indent: usize, block: bool) -> Result<String, EmitError> {
    Ok(match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let t = serde_yaml::to_string(n).map_err(|e| EmitError::Number(e.to_string()))?;
            t.trim_end().to_string()
        }
        Value::String(s) => string(s, indent, block),
        Value::Mapping(_) => "{}".into(),
        Value::Sequence(_) => "[]".into(),
        Value::Tagged(t) => return Err(EmitError::Tagged(t.tag.to_string())),
    })
}

/// A string in the first style that reads back as exactly this string in YAML 1.1 and 1.2:
/// plain, a literal block, single-quoted, double-quoted.
pub fn string(s: &str, indent: usize, block: bool) -> String {
    if plain_ok(s) {
        return s.to_string();
    }
    if block && s.contains('\n') {
        if let Some(b) = literal(s, indent) {
            return b;
        }
    }
    if !s.contains('\n') && s.chars().all(|c| printable(c) && c != '\t') {
        return format!("'{}'", s.replace('\'', "''"));
    }
    double_quoted(s)
}

/// Characters YAML 1.1 allows in a stream unescaped, less the line breaks of 1.1 (NEL, LS,
/// PS) and the BOM, which readers treat specially.
fn printable(c: char) -> bool {
    matches!(c, '\t' | ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}')
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t', ':']) {
        return false;
    }
    // Indicators that start something else than a plain scalar.
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    if !s.chars().all(|c| printable(c) && c != '\n' && c != '\r') {
        return false;
    }
    !resolves_to_non_string(s)
}

/// Whether a YAML 1.1 or 1.2 reader would resolve the plain scalar `s` to a null, boolean,
/// number, date, merge key or value key, by the regular expressions of the YAML 1.1 type
/// repository (yaml.org/type: bool, null, int, float, timestamp, merge, value) and of the
/// YAML 1.2 core schema.
pub fn resolves_to_non_string(s: &str) -> bool {
    static RES: OnceLock<regex::RegexSet> = OnceLock::new();
    let set = RES.get_or_init(|| {
        regex::RegexSet::new([
            // 1.1 bool
            r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            // 1.1 null (and 1.2)
            r"^(?:~|null|Null|NULL)$",
            // 1.1 int: binary, octal, decimal, hex, sexagesimal
            r"^[-+]?0b[0-1_]+$",
            r"^[-+]?0[0-7_]+$",
            r"^[-+]?(?:0|[1-9][0-9_]*)$",
            r"^[-+]?0x[0-9a-fA-F_]+$",
            r"^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$",
            // 1.1 float (the spec's, looser than PyYAML's: `3.3.0` matches)
            r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?$",
            r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$",
            r"^[-+]?\.(?:inf|Inf|INF)$",
            r"^\.(?:nan|NaN|NAN)$",
            // 1.1 timestamp
            r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$",
            r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*Z|[ \t]*[-+][0-9][0-9]?(?::[0-9][0-9])?)?$",
            // 1.1 merge and value keys
            r"^(?:<<|=)$",
            // 1.2 core: int (decimal, octal, hex), float
            r"^[-+]?[0-9]+$",
            r"^0o[0-7]+$",
            r"^0x[0-9a-fA-F]+$",
            r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$",
        ])
        .expect("the YAML resolver patterns compile")
    });
    // Leading zeros, underscores and the like are caught by the patterns; anything that
    // merely starts like a number but is longer (a version with a suffix) stays plain.
    set.is_match(s)
}

/// A literal block (`|-`, `|`, `|+`), when every line round-trips: printable characters, no
/// carriage returns, first line not starting with a space, no line of only spaces.
fn literal(s: &str, indent: usize) -> Option<String> {
    if s.chars().any(|c| !(printable(c) || c == '\n') || c == '\r') {
        return None;
    }
    let body = s.trim_end_matches('\n');
    // The block's indentation is taken from its first non-empty line: that line must not
    // start with white space of its own.
    let first = body.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first.is_empty() || first.starts_with([' ', '\t']) {
        return None;
    }
    if body
        .split('\n')
        .any(|l| !l.is_empty() && l.trim_matches([' ', '\t']).is_empty())
    {
        return None;
    }
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let mut out = format!("|{chomp}");
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(line);
        }
    }
    Some(out)
}

/// A double-quoted scalar: everything outside printable ASCII and the printable Unicode
/// ranges escaped, so any reader gets the exact characters back.
fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c != '\t' && printable(c) => out.push(c),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_look_alikes_are_quoted() {
        for s in [
            "2025-11-25",
            "2026-11-26T14:00:02Z",
            "1.10",
            "3.3.0",
            "1.0",
            "no",
            "No",
            "on",
            "OFF",
            "y",
            "n",
            "~",
            "null",
            "",
            "0755",
            "0x1f",
            "1_000",
            "1:30",
            "+1",
            ".5",
            "1e5",
            ".inf",
            ".NaN",
            "<<",
            "=",
            "0o17",
            "12",
        ] {
            assert!(!plain_ok(s), "{s:?} must be quoted");
            assert_eq!(string(s, 0, true), format!("'{s}'"));
        }
        for s in [
            "3.3.0-beta",
            "v1.10",
            "npm:@x/y",
            "stdio",
            "get_file",
            "sha256:ab",
            "2025-11-25x",
        ] {
            assert!(plain_ok(s), "{s:?} can stay plain");
        }
    }

    #[test]
    fn awkward_strings_are_escaped() {
        assert_eq!(string("a\u{1b}[2Jb", 0, true), "\"a\\x1B[2Jb\"");
        assert_eq!(string("line\u{2028}sep", 0, true), "\"line\\u2028sep\"");
        assert_eq!(string("it's: x", 0, true), "'it''s: x'");
        assert_eq!(string("a\nb", 2, true), "|-\n  a\n  b");
        assert_eq!(string("a\nb\n", 2, true), "|\n  a\n  b");
        assert_eq!(string(" lead\nx", 2, true), "\" lead\\nx\"");
        assert_eq!(string("\n  lead\n", 2, true), "\"\\n  lead\\n\"");
        assert_eq!(string("a\nb", 2, false), "\"a\\nb\"");
    }
}
