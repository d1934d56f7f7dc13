//! `toolrisk query` end to end: ranking, filters, formats, and the index's incremental,
//! stale and corrupt rebuilds, on small catalogues written with the real record store.

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::Classifier;
use toolrisk::model::{Server, Tool};

fn tool(name: &str, description: &str) -> Tool {
    Tool::from_json(&json!({"name": name, "description": description,
        "inputSchema": {"type": "object"}}))
    .unwrap()
}

fn server(id: &str, name: &str, tools: Vec<Tool>) -> Server {
    Server {
        id: id.into(),
        slug: toolrisk::slug::slugify(id),
        name: name.into(),
        tools,
        ..Server::default()
    }
}

fn fixture(dir: &Path) -> Catalogue {
    let cat = Catalogue::new(dir);
    cat.write(&server(
        "io.github.acme/ci",
        "Acme CI",
        vec![
            tool("check_job_status", "Check whether a CI job has finished."),
            tool("getJobLogs", "Fetch the logs of a job."),
            tool(
                "delete_pipeline",
                "Permanently delete a pipeline and its history.",
            ),
            tool("list_runners", "List registered runners."),
        ],
    ))
    .unwrap();
    cat.write(&server(
        "npm:@pay/stripe-mcp",
        "Payments",
        vec![
            tool("create_payment", "Charge a customer's card."),
            tool("list_invoices", "List invoices, with their status."),
            tool(
                "send_receipt",
                "Email a receipt.\u{1b}[31m ANSI \u{1b}[0m\u{200b} and, \"quotes\"",
            ),
        ],
    ))
    .unwrap();
    cat.write(&server(
        "io.github.ops/status-board",
        "Status Board",
        vec![
            tool("get_weather", "Get the weather."),
            tool("search_docs", "Search documentation pages."),
        ],
    ))
    .unwrap();
    cat
}

fn toolrisk(args: &[&str], cat: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .arg("query")
        .args(args)
        .arg("--catalogue")
        .arg(cat)
        .output()
        .expect("run toolrisk")
}

fn json_hits(args: &[&str], cat: &Path) -> Vec<Value> {
    let mut a = args.to_vec();
    a.extend(["--format", "json", "--limit", "0"]);
    let out = toolrisk(&a, cat);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("query json");
    v.as_array().unwrap().clone()
}

fn names(hits: &[Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["tool"].as_str().unwrap().to_string())
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The classifications the query must agree with, from the classifier itself.
fn classified(cat: &Catalogue) -> Vec<(String, toolrisk::model::Classification)> {
    let c = Classifier::builtin();
    let mut out = Vec::new();
    for s in cat.load().unwrap().servers {
        for cl in c.classify_server(&s) {
            out.push((cl.name.clone(), cl));
        }
    }
    out
}

#[test]
fn ranking_finds_split_names_and_puts_name_matches_first() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let hits = names(&json_hits(&["job", "status"], dir.path()));
    // Both words are in the name: first. `job` alone in a camelCase name does not have both.
    assert_eq!(hits.first().map(String::as_str), Some("check_job_status"));
    // The limited path (ranked inside the full-text index) agrees with the full ranking.
    let out = toolrisk(
        &["job", "status", "--limit", "1", "--format", "json"],
        dir.path(),
    );
    let top: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(names(&top), [hits[0].clone()]);
    let logs = names(&json_hits(&["job", "logs"], dir.path()));
    assert_eq!(logs, ["getJobLogs"]);
    // A word only in the server name still finds the server's tools, after name matches.
    let status = names(&json_hits(&["status"], dir.path()));
    assert_eq!(status[0], "check_job_status");
    assert!(status.contains(&"get_weather".to_string()), "{status:?}");
    assert!(status.contains(&"list_invoices".to_string()), "{status:?}");
    // No tool has every word: fall back to any word, best first.
    let any = names(&json_hits(&["pipeline", "weather"], dir.path()));
    assert_eq!(
        any.iter().cloned().collect::<BTreeSet<_>>(),
        ["delete_pipeline", "get_weather"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    // Search syntax in the text is just text.
    let out = toolrisk(&["NEAR(\"job", "status*)", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Nothing matches: exit 1, no error.
    let out = toolrisk(&["zzzqqq"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn filters_agree_with_the_classifier() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(dir.path());
    let all = classified(&cat);
    let expect = |f: &dyn Fn(&toolrisk::model::Classification) -> bool| -> BTreeSet<String> {
        all.iter()
            .filter(|(_, c)| f(c))
            .map(|(n, _)| n.clone())
            .collect()
    };
    let got = |args: &[&str]| -> BTreeSet<String> {
        names(&json_hits(args, dir.path())).into_iter().collect()
    };
    assert_eq!(got(&[]).len(), 9);
    for class in toolrisk::model::Class::ALL {
        assert_eq!(
            got(&["--class", class.as_str()]),
            expect(&|c| c.class == *class),
            "class {class}"
        );
    }
    for access in toolrisk::model::Access::ALL {
        assert_eq!(
            got(&["--access", access.as_str()]),
            expect(&|c| c.access == *access)
        );
    }
    for risk in toolrisk::model::Risk::ALL {
        assert_eq!(
            got(&["--risk", risk.as_str()]),
            expect(&|c| c.risk == *risk)
        );
        let plus = format!("{}+", risk.as_str());
        assert_eq!(got(&["--risk", &plus]), expect(&|c| c.risk >= *risk));
    }
    for effect in toolrisk::model::Effect::ALL {
        assert_eq!(
            got(&["--effect", effect.as_str()]),
            expect(&|c| c.effects.contains(effect))
        );
    }
    // Server by slug, id or name; text and filters combine.
    let ci = [
        "check_job_status",
        "getJobLogs",
        "delete_pipeline",
        "list_runners",
    ]
    .map(String::from)
    .into_iter()
    .collect::<BTreeSet<_>>();
    assert_eq!(got(&["--server", "io-github-acme-ci"]), ci);
    assert_eq!(got(&["--server", "io.github.acme/ci"]), ci);
    assert_eq!(got(&["--server", "acme ci"]), ci);
    assert_eq!(
        got(&["list", "--server", "npm:@pay/stripe-mcp"]),
        ["list_invoices".to_string()].into_iter().collect()
    );
    let out = toolrisk(&["--server", "nope"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no server `nope`"),
        "{}",
        stderr(&out)
    );
    let out = toolrisk(&["--risk", "extreme+"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown risk"), "{}", stderr(&out));
    // Without text, riskiest first.
    let ranks: Vec<usize> = json_hits(&[], dir.path())
        .iter()
        .map(|h| {
            let r: toolrisk::model::Risk = h["risk"].as_str().unwrap().parse().unwrap();
            r as usize
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
}

#[test]
fn formats_table_csv_json_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let out = toolrisk(&["receipt"], dir.path());
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("RISK"), "{table}");
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[1].contains("send_receipt") && lines[1].contains("npm-pay-stripe-mcp"));
    // Crawled escape sequences and invisible characters never reach the terminal.
    assert!(
        !table.contains('\u{1b}') && !table.contains('\u{200b}'),
        "{table:?}"
    );

    let out = toolrisk(&["--format", "csv", "--limit", "0"], dir.path());
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 10, "{csv}");
    assert!(rows[0].starts_with("server,server_id,tool,access,class,effects,risk"));
    let receipt = rows.iter().find(|r| r.contains("send_receipt")).unwrap();
    assert!(receipt.ends_with("and, \"\"quotes\"\"\""), "{receipt}");

    let out = toolrisk(&["--limit", "2"], dir.path());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
    assert!(stderr(&out).contains("first 2 results"));

    let hits = json_hits(&["payment"], dir.path());
    let h = &hits[0];
    assert_eq!(h["tool"], "create_payment");
    assert_eq!(h["server"], "npm-pay-stripe-mcp");
    assert_eq!(h["server_id"], "npm:@pay/stripe-mcp");
    for key in [
        "access",
        "class",
        "effects",
        "risk",
        "action",
        "confidence",
        "score",
    ] {
        assert!(h.get(key).is_some(), "{key} in {h}");
    }
}

#[test]
fn index_is_incremental_and_never_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(dir.path());
    let index = dir.path().join(".index.sqlite");

    let out = toolrisk(&["job"], dir.path());
    assert!(stderr(&out).contains("no index yet"), "{}", stderr(&out));
    assert!(index.is_file());
    let out = toolrisk(&["job"], dir.path());
    assert!(!stderr(&out).contains("index:"), "{}", stderr(&out));

    // One server changes: only its file is re-read, and the change shows.
    let mut s = cat.find("io-github-ops-status-board").unwrap();
    s.tools.push(tool("rotate_widget", "Rotate the widget."));
    s.tools.retain(|t| t.name != "get_weather");
    cat.write(&s).unwrap();
    let out = toolrisk(&["widget"], dir.path());
    assert!(
        stderr(&out).contains("1 changed file(s) re-read, 0 removed"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rotate_widget"));
    assert_eq!(toolrisk(&["weather"], dir.path()).status.code(), Some(1));

    // An edit in place (same inode) is noticed too.
    let path = cat.server_path("io-github-ops-status-board");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("Rotate the widget.", "Spin the gizmo.")).unwrap();
    let hits = names(&json_hits(&["gizmo"], dir.path()));
    assert_eq!(hits, ["rotate_widget"]);

    // A file removed: its tools go.
    std::fs::remove_file(&path).unwrap();
    let out = toolrisk(&["gizmo"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("1 removed"), "{}", stderr(&out));

    // A broken file is reported, the rest still answers.
    std::fs::write(cat.server_path("broken"), "id: [unclosed\n").unwrap();
    let out = toolrisk(&["job"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("1 catalogue file(s) could not be read")
            && stderr(&out).contains("broken.yaml"),
        "{}",
        stderr(&out)
    );

    // Garbage where the index was: detected and rebuilt.
    std::fs::write(
        &index,
        b"this is not a database, just junk bytes".repeat(200),
    )
    .unwrap();
    let out = toolrisk(&["job", "status"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("rebuilt"), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("check_job_status"));

    // A truncated index: detected and rebuilt.
    let bytes = std::fs::read(&index).unwrap();
    std::fs::write(&index, &bytes[..bytes.len() / 3]).unwrap();
    let hits = names(&json_hits(&["job", "status"], dir.path()));
    assert_eq!(hits.first().map(String::as_str), Some("check_job_status"));

    // An index written by other rules (and another executable) is rebuilt; its rows, made
    // wrong here on purpose, are not reused.
    {
        let conn = rusqlite::Connection::open(&index).unwrap();
        conn.execute_batch(
            "UPDATE meta SET value = 'other' WHERE key IN ('rules', 'exe');
             UPDATE tools SET class = 'financial';",
        )
        .unwrap();
    }
    let out = toolrisk(&["--class", "financial", "--format", "json"], dir.path());
    assert!(
        stderr(&out).contains("the classifier or its rules changed"),
        "{}",
        stderr(&out)
    );
    let expected = classified(&cat)
        .into_iter()
        .filter(|(_, c)| c.class == toolrisk::model::Class::Financial)
        .count();
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), expected);

    // An unfinished build is never used.
    {
        let conn = rusqlite::Connection::open(&index).unwrap();
        conn.execute("DELETE FROM meta WHERE key = 'complete'", [])
            .unwrap();
    }
    let out = toolrisk(&["job"], dir.path());
    assert!(stderr(&out).contains("did not finish"), "{}", stderr(&out));
}

#[test]
fn missing_catalogue_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = toolrisk(&["job"], &dir.path().join("nowhere"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no catalogue at"), "{}", stderr(&out));
}

#[test]
fn catalogue_overrides_apply_and_a_change_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    fixture(dir.path());
    let before = json_hits(&["weather"], dir.path());
    assert_eq!(names(&before), ["get_weather"]);
    std::fs::write(
        dir.path().join("overrides.yaml"),
        "overrides:\n  - server: io.github.ops/status-board\n    tool: get_weather\n    reason: reviewed\n    risk: critical\n    action: deny\n",
    )
    .unwrap();
    let out = toolrisk(&["weather", "--format", "json"], dir.path());
    assert!(
        stderr(&out).contains("overrides.yaml changed"),
        "{}",
        stderr(&out)
    );
    let after: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(after[0]["risk"], "critical");
    assert_eq!(after[0]["action"], "deny");
    // A broken overrides file is an error that names it, not a silent fallback.
    std::fs::write(
        dir.path().join("overrides.yaml"),
        "overrides: [{tool: 3}]\n",
    )
    .unwrap();
    let out = toolrisk(&["weather"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("overrides.yaml"), "{}", stderr(&out));
}

/// A catalogue large enough that its files are stat'ed on several threads while the folder
/// is still being listed: every file is seen once, and a change anywhere in the listing
/// (first batch, a middle one, the last partial one) is noticed.
#[test]
fn many_files_are_all_scanned_and_changes_anywhere_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalogue::new(dir.path());
    let n = 1_300;
    for i in 0..n {
        cat.write(&server(
            &format!("io.example/s{i:04}"),
            &format!("Server {i}"),
            vec![tool(&format!("get_item_{i:04}"), "Read one item.")],
        ))
        .unwrap();
    }
    let out = toolrisk(&["--limit", "0", "--format", "csv"], dir.path());
    assert!(
        stderr(&out).contains(&format!("no index yet ({n} files)")),
        "{}",
        stderr(&out)
    );
    // A header and one row per tool: no file lost or counted twice across threads.
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), n + 1);
    let out = toolrisk(&["item"], dir.path());
    assert!(!stderr(&out).contains("index:"), "{}", stderr(&out));

    // Edits in place (same inode, same size) in files listed all over the folder.
    let picks = [0, 511, 512, 777, n - 1];
    for i in picks {
        let path = cat.server_path(&toolrisk::slug::slugify(&format!("io.example/s{i:04}")));
        let text = std::fs::read_to_string(&path).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        std::fs::write(&path, text.replace("Read one item.", "Spin one gizmo")).unwrap();
    }
    let out = toolrisk(&["gizmo", "--limit", "0", "--format", "csv"], dir.path());
    assert!(
        stderr(&out).contains(&format!(
            "{} changed file(s) re-read, 0 removed",
            picks.len()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        picks.len() + 1
    );
}
