//! The README's tour and the docs' examples are tested: every ```console block in README.md
//! and docs/*.md is run (trycmd) and its output compared, in a scratch copy of
//! `tests/fixtures/` with the working folder at `tests/fixtures/tour/` (README) or
//! `tests/fixtures/docs/` (docs), where this file writes the demo catalogue with the real
//! record store. Nothing an example writes lands in the checkout (least of all the shipped
//! catalogue). Command lines the docs show without running them (a live server, a long
//! crawl, a synopsis) are checked against `--help`: every flag they name must exist.
//!
//! After a change of output (the classifier, a message), regenerate with one command:
//! `scripts/regen-readme` (`TRYCMD=overwrite` for the README, then timings put back to
//! `[..]`; `TOOLRISK_REGENERATE=1` for the demo catalogue).

use serde_json::json;
use std::path::{Path, PathBuf};
use toolrisk::catalogue::Catalogue;
use toolrisk::model::{Package, Server, Tool};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(v: serde_json::Value) -> Tool {
    Tool::from_json(&v).unwrap()
}

/// The demo catalogue of the tour: three small servers, written as a crawl would.
fn demo_servers() -> Vec<Server> {
    let obj = |props: serde_json::Value| json!({"type": "object", "properties": props});
    vec![
        Server {
            id: "io.github.demo/jobs".into(),
            slug: "demo-jobs".into(),
            name: "Demo Jobs".into(),
            description: Some("Runs and tracks background jobs and pipelines.".into()),
            version: Some("1.10".into()),
            tools: vec![
                tool(json!({"name": "check_job_status",
                    "description": "Check the status and progress of a background job",
                    "inputSchema": obj(json!({"job_id": {"type": "string"}}))})),
                tool(json!({"name": "list_jobs",
                    "description": "List all background jobs with an optional status filter",
                    "inputSchema": obj(json!({"status": {"type": "string"}})),
                    "annotations": {"readOnlyHint": true}})),
                tool(json!({"name": "cancel_job",
                    "description": "Cancel a running job.",
                    "inputSchema": obj(json!({"job_id": {"type": "string"}}))})),
                tool(json!({"name": "delete_pipeline",
                    "description": "Permanently delete a pipeline and its run history.",
                    "inputSchema": obj(json!({"pipeline": {"type": "string"}})),
                    "annotations": {"destructiveHint": true}})),
            ],
            ..Server::default()
        },
        Server {
            id: "npm:@demo/pay".into(),
            slug: "demo-pay".into(),
            name: "@demo/pay".into(),
            packages: vec![Package {
                registry: "npm".into(),
                identifier: "@demo/pay".into(),
                version: Some("2.0.0".into()),
                transport: Some("stdio".into()),
            }],
            tools: vec![
                tool(json!({"name": "create_payment",
                    "description": "Charge a customer's card for an amount in cents.",
                    "inputSchema": obj(json!({"amount": {"type": "integer"}, "customer": {"type": "string"}}))})),
                tool(json!({"name": "refund_payment",
                    "description": "Refund a payment, in full or in part.",
                    "inputSchema": obj(json!({"payment_id": {"type": "string"}}))})),
                tool(json!({"name": "list_invoices",
                    "description": "List a customer's invoices.",
                    "inputSchema": obj(json!({"customer": {"type": "string"}})),
                    "annotations": {"readOnlyHint": true}})),
            ],
            ..Server::default()
        },
        Server {
            id: "pypi:demo-files".into(),
            slug: "demo-files".into(),
            name: "demo-files".into(),
            tools: vec![
                tool(json!({"name": "read_file",
                    "description": "Read a file.\nReturns its text, at most 1 MiB.",
                    "inputSchema": obj(json!({"path": {"type": "string"}})),
                    "annotations": {"readOnlyHint": true}})),
                tool(json!({"name": "write_file",
                    "description": "Write text to a file, replacing it.",
                    "inputSchema": obj(json!({"path": {"type": "string"}, "text": {"type": "string"}}))})),
                tool(json!({"name": "run_command",
                    "description": "Run a shell command and return its output.",
                    "inputSchema": obj(json!({"command": {"type": "string"}}))})),
            ],
            ..Server::default()
        },
    ]
}

fn write_demo(dir: &Path) {
    let cat = Catalogue::new(dir);
    std::fs::create_dir_all(cat.servers_dir()).unwrap();
    for s in demo_servers() {
        cat.write(&s).unwrap();
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The committed demo catalogue is exactly what the record store writes for the servers
/// above (`TOOLRISK_REGENERATE=1` rewrites it).
#[test]
fn tour_catalogue_is_what_the_record_store_writes() {
    let committed = root().join("tests/fixtures/tour/catalogue");
    if std::env::var_os("TOOLRISK_REGENERATE").is_some() {
        let _ = std::fs::remove_dir_all(committed.join("servers"));
        write_demo(&committed);
    }
    let tmp = tempfile::tempdir().unwrap();
    write_demo(tmp.path());
    assert_eq!(
        files(&committed.join("servers")),
        files(&tmp.path().join("servers")),
        "tests/fixtures/tour/catalogue is stale: run `TOOLRISK_REGENERATE=1 cargo test --test readme`"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn readme_examples_print_what_the_readme_shows() {
    let scratch = tempfile::tempdir().unwrap();
    let fixtures = scratch.path().join("fixtures");
    copy_tree(&root().join("tests/fixtures"), &fixtures);
    // The demo catalogue as written now (not the committed copy, checked above).
    let tour = fixtures.join("tour");
    let _ = std::fs::remove_dir_all(tour.join("catalogue"));
    write_demo(&tour.join("catalogue"));
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).unwrap();
    // trycmd runs each example in the process's working folder: this test binary's only
    // test that depends on it.
    std::env::set_current_dir(&tour).unwrap();
    std::env::remove_var("TOOLRISK_CATALOGUE");
    std::env::remove_var("TOOLRISK_DATA_DIR");
    std::env::remove_var("XDG_DATA_HOME");
    std::env::remove_var("TOOLRISK_TIMINGS");
    trycmd::TestCases::new()
        .default_bin_name("toolrisk")
        .register_bin("toolrisk", PathBuf::from(env!("CARGO_BIN_EXE_toolrisk")))
        .env("HOME", home.to_str().unwrap())
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(300))
        .case(root().join("README.md"));
    // The docs' examples, from `tests/fixtures/docs/` (its tool files and lock), with the
    // demo catalogue found there by the walk up.
    let docs = fixtures.join("docs");
    write_demo(&docs.join("catalogue"));
    std::env::set_current_dir(&docs).unwrap();
    trycmd::TestCases::new()
        .default_bin_name("toolrisk")
        .register_bin("toolrisk", PathBuf::from(env!("CARGO_BIN_EXE_toolrisk")))
        .env("HOME", home.to_str().unwrap())
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(300))
        .case(root().join("docs/*.md"));
}

/// `toolrisk <command path> --help`, run once per command path.
fn help(cache: &mut std::collections::HashMap<Vec<String>, String>, path: &[String]) -> String {
    cache
        .entry(path.to_vec())
        .or_insert_with(|| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolrisk"))
                .args(path)
                .arg("--help")
                .env("NO_COLOR", "1")
                .output()
                .expect("toolrisk runs");
            assert!(
                out.status.success(),
                "toolrisk {} --help failed",
                path.join(" ")
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .clone()
}

/// The subcommands a help text lists.
fn subcommands(help: &str) -> Vec<String> {
    let Some(start) = help.find("\nCommands:\n") else {
        return Vec::new();
    };
    help[start + "\nCommands:\n".len()..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Words of a shell-like command line: single and double quotes group (their text is an
/// argument, never a flag); a `#` word starts a comment; `|`, `;` and `&&` end the command.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut quoted = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                quoted = true;
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() || quoted {
                    out.push(if quoted {
                        "<quoted>".into()
                    } else {
                        std::mem::take(&mut cur)
                    });
                    cur.clear();
                    quoted = false;
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() || quoted {
        out.push(if quoted { "<quoted>".into() } else { cur });
    }
    // In a synopsis `[--risk R | R+]` the bar is an alternative, not a pipe.
    let mut depth = 0i32;
    out.into_iter()
        .take_while(|w| {
            let ends = w.starts_with('#') || (w == "|" && depth == 0) || w == ";" || w == "&&";
            depth += w.matches('[').count() as i32 - w.matches(']').count() as i32;
            !ends
        })
        .collect()
}

/// Every `toolrisk …` command line the docs show without running it: lines of code blocks
/// that are not ```console (those run in the test above) and inline code spans.
fn documented_command_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut block: Option<String> = None;
    // A synopsis goes on over indented lines.
    let mut continues = false;
    for line in text.lines() {
        if let Some(fence) = line.trim_start().strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(fence.trim().to_string()),
            };
            continue;
        }
        match &block {
            Some(lang) if lang == "console" => {}
            Some(_) => {
                let l = line.trim_start();
                let l = l.strip_prefix("$ ").unwrap_or(l);
                if l.starts_with("toolrisk ") {
                    lines.push(l.to_string());
                    continues = true;
                } else if continues && line.starts_with(' ') && !l.is_empty() {
                    if let Some(last) = lines.last_mut() {
                        last.push(' ');
                        last.push_str(l);
                    }
                } else {
                    continues = false;
                }
            }
            // An indented code block.
            None if line.starts_with("    ") && line.trim_start().starts_with("toolrisk ") => {
                lines.push(line.trim_start().to_string());
            }
            None => {
                for (i, span) in line.split('`').enumerate() {
                    if i % 2 == 1 && span.starts_with("toolrisk ") {
                        lines.push(span.to_string());
                    }
                }
            }
        }
    }
    lines
}

/// A flag a command line names, without its value, brackets or punctuation.
fn flag(word: &str) -> Option<String> {
    let w = word.trim_start_matches(['[', '(']);
    let w = w
        .split(['=', ']', ')', ',', '|', '…'])
        .next()
        .unwrap_or_default();
    let valid = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if (w.starts_with("--") && w.len() > 2 || w.starts_with('-') && w.len() == 2) && valid(w) {
        Some(w.to_string())
    } else {
        None
    }
}

/// The command lines the docs show but do not run (they need a live server, a long crawl or
/// are a synopsis) still name real commands and flags: a flag that disappears or is renamed
/// fails here.
#[test]
fn documented_command_lines_name_real_flags() {
    let mut cache = std::collections::HashMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.push(root().join("README.md"));
    files.sort();
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        for line in documented_command_lines(&text) {
            let words = words(&line);
            let mut path: Vec<String> = Vec::new();
            let mut rest = &words[1..];
            while let Some(w) = rest.first() {
                if subcommands(&help(&mut cache, &path)).contains(w) {
                    path.push(w.clone());
                    rest = &rest[1..];
                } else {
                    break;
                }
            }
            let text = help(&mut cache, &path);
            for f in rest.iter().filter_map(|w| flag(w)) {
                let named = text.match_indices(f.as_str()).any(|(i, _)| {
                    let before = text[..i].chars().next_back();
                    let after = text[i + f.len()..].chars().next();
                    before.is_none_or(|c| c == ' ' || c == '\n' || c == '[')
                        && after.is_none_or(|c| !c.is_ascii_alphanumeric() && c != '-')
                });
                if !named {
                    problems.push(format!(
                        "{name}: `{line}`: `toolrisk {}` has no flag {f}",
                        path.join(" ")
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The docs name dozens of flags in command lines: a parser that found none is broken.
    assert!(
        checked > 40,
        "only {checked} flags found in the docs' command lines"
    );
}

#[test]
fn command_line_words_and_flags() {
    assert_eq!(
        words("toolrisk crawl --stdio 'npx -y x' --env K=V   # comment --gone"),
        ["toolrisk", "crawl", "--stdio", "<quoted>", "--env", "K=V"]
    );
    assert_eq!(words("toolrisk query | head -3"), ["toolrisk", "query"]);
    assert_eq!(
        words("toolrisk query [--risk R | R+] [--limit N]"),
        ["toolrisk", "query", "[--risk", "R", "|", "R+]", "[--limit", "N]"]
    );
    assert_eq!(
        documented_command_lines("```\ntoolrisk a [--b]\n         [--c]\nnot this\n```\n"),
        ["toolrisk a [--b] [--c]"]
    );
    assert_eq!(
        documented_command_lines("text `toolrisk x --y` text\n\n    toolrisk z --w\n"),
        ["toolrisk x --y", "toolrisk z --w"]
    );
    assert_eq!(flag("[--format").as_deref(), Some("--format"));
    assert_eq!(flag("--risk=high").as_deref(), Some("--risk"));
    assert_eq!(flag("-j"), Some("-j".into()));
    assert_eq!(flag("R+]"), None);
    assert_eq!(flag("-"), None);
}

/// docs/crawling.md's table of limits says the defaults `crawl --help` shows (which come from
/// `Limits::default()`): the table cannot drift from the code.
#[test]
fn crawling_limits_table_matches_the_defaults() {
    let doc = std::fs::read_to_string(root().join("docs/crawling.md")).unwrap();
    let table = doc
        .split("## Limits (all flags)")
        .nth(1)
        .expect("docs/crawling.md has its limits table");
    let help = help(
        &mut std::collections::HashMap::new(),
        &["crawl".to_string()],
    );
    let mut checked = 0;
    for row in table.lines().take_while(|l| !l.starts_with("## ")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (Some(flag), Some(default)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Some(flag) = flag.trim_matches('`').split(", ").last() else {
            continue;
        };
        if !flag.starts_with("--") {
            continue;
        }
        let number = |s: &str| s.replace(',', "").parse::<u64>().ok();
        let documented = match default.split_once(' ') {
            Some((n, "MiB")) => number(n).map(|n| n << 20),
            Some((n, "KiB")) => number(n).map(|n| n << 10),
            Some((n, "s")) => number(n),
            Some(_) => None, // "core count": not a number
            None => number(default),
        };
        let Some(documented) = documented else {
            continue;
        };
        // The option's entry: its line and the text lines under it, unwrapped.
        let lines: Vec<&str> = help.lines().map(str::trim).collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with(&format!("{flag} <")))
            .unwrap_or_else(|| panic!("crawl --help has no {flag}"));
        let entry = lines[at + 1..]
            .iter()
            .take_while(|l| !l.starts_with('-'))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let shown = entry
            .split("[default:")
            .nth(1)
            .and_then(|d| d.split(']').next())
            .map(str::trim)
            .unwrap_or_else(|| panic!("crawl --help shows no default for {flag}"));
        assert_eq!(
            shown,
            documented.to_string(),
            "docs/crawling.md says {flag} defaults to {default}, crawl --help says {shown}"
        );
        checked += 1;
    }
    assert!(
        checked >= 8,
        "only {checked} rows of the limits table checked"
    );
}
