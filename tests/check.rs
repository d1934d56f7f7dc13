//! The `check`, `show` and `policy` commands, run as the built binary: golden output of
//! `check --format json`, exit codes, error messages that say where, stdin, user rules, and
//! `show` / `policy` on a small catalogue fixture.

use pretty_assertions::assert_eq;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_toolrisk");
const INPUT: &str = "tests/fixtures/classify/check/input.json";
const CATALOGUE: &str = "tests/fixtures/classify/catalogue";

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("runs toolrisk")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs toolrisk");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("writes stdin");
    child.wait_with_output().expect("waits")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn golden(path: &str) -> String {
    std::fs::read_to_string(path).expect("golden file")
}

#[test]
fn check_json_matches_golden() {
    let o = run(&["check", INPUT, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let want: Value =
        serde_json::from_str(&golden("tests/fixtures/classify/check/expected.json")).unwrap();
    assert_eq!(got, want);
}

#[test]
fn check_json_ignoring_annotations_matches_golden() {
    let o = run(&["check", INPUT, "--format", "json", "--ignore-annotations"]);
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let want: Value = serde_json::from_str(&golden(
        "tests/fixtures/classify/check/expected-ignore-annotations.json",
    ))
    .unwrap();
    assert_eq!(got, want);
    // Without annotations there is nothing to contradict.
    assert!(!stdout(&o).contains("annotation_contradiction"));
}

#[test]
fn check_table_matches_golden() {
    let o = run(&["check", INPUT]);
    assert_eq!(
        stdout(&o),
        golden("tests/fixtures/classify/check/expected.txt")
    );
}

#[test]
fn check_json_has_exactly_the_contract_fields() {
    let o = run(&["check", INPUT, "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let want = [
        "name",
        "access",
        "effects",
        "class",
        "risk",
        "policy",
        "confidence",
        "rationale",
        "evidence",
        "findings",
    ];
    for c in v.as_array().unwrap() {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, want);
        for e in c["evidence"].as_array().unwrap() {
            let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["rule", "signal", "source", "text"]);
        }
    }
}

#[test]
fn check_fail_on_sets_exit_1() {
    let o = run(&["check", INPUT, "--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("run_command (critical)"),
        "{}",
        stderr(&o)
    );
    let safe = r#"{"tools":[{"name":"get_time","description":"Get the current time.","inputSchema":{"type":"object"}}]}"#;
    let o = run_stdin(&["check", "-", "--fail-on", "medium"], safe);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["check", INPUT, "--fail-on", "severe"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_reads_stdin_and_every_input_shape() {
    let t = r#"{"name":"get_time","inputSchema":{"type":"object"}}"#;
    for input in [
        format!("[{t}]"),
        format!(r#"{{"tools":[{t}]}}"#),
        format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"tools":[{t}]}}}}"#),
    ] {
        let o = run_stdin(&["check", "--format", "json"], &input);
        assert_eq!(o.status.code(), Some(0), "{input}: {}", stderr(&o));
        let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v[0]["name"], "get_time");
    }
}

#[test]
fn check_unusable_input_exits_2_saying_where() {
    let o = run_stdin(&["check"], "{\n  \"tools\": [\n    {\"name\": ,}\n  ]\n}");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("<stdin>: line 3 column"),
        "{}",
        stderr(&o)
    );
    let o = run_stdin(
        &["check"],
        r#"{"tools":[{"name":"a"},{"description":"no name here"}]}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("tools[1]: tool has no `name`"),
        "{}",
        stderr(&o)
    );
    let o = run_stdin(
        &["check"],
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Method not found"), "{}", stderr(&o));
    let o = run(&["check", "tests/fixtures/classify/no-such-file.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-file.json"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn check_uses_a_rules_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(
        &rules,
        "rules:\n  - id: org.notes_are_sensitive\n    description: notes hold customer data here\n    examples: [save_note]\n    match: {name_token: [note]}\n    then: ['risk:>=high']\n",
    )
    .unwrap();
    let o = run(&[
        "check",
        INPUT,
        "--format",
        "json",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let note = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "save_note")
        .unwrap();
    assert_eq!(note["risk"], "high");
    assert!(note["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["rule"] == "org.notes_are_sensitive"));
    std::fs::write(&rules, "rules:\n  - id: broken\n").unwrap();
    let o = run(&["check", INPUT, "--rules", rules.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("rules.yaml"), "{}", stderr(&o));
}

#[test]
fn show_explains_a_server_and_a_tool() {
    let o = run(&["show", "demo-mail", "--catalogue", CATALOGUE]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Demo Mail (io.example/demo-mail)"), "{out}");
    assert!(
        out.contains("delete_message") && out.contains("Destructive"),
        "{out}"
    );

    // By id with a slash, then the tool.
    let o = run(&[
        "show",
        "io.example/demo-mail/delete_message",
        "--catalogue",
        CATALOGUE,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("evidence:") && out.contains("verb.destructive"),
        "{out}"
    );
    assert!(out.contains("annotation_contradiction"), "{out}");

    let o = run(&[
        "show",
        "demo-mail/archive_message",
        "--catalogue",
        CATALOGUE,
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["classification"]["policy"]["action"], "allow");
    assert_eq!(v["classification"]["evidence"][0]["source"], "override");
    assert_eq!(v["tool"]["name"], "archive_message");

    let o = run(&["show", "demo-mail/nope", "--catalogue", CATALOGUE]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("has no tool `nope`"), "{}", stderr(&o));
    let o = run(&["show", "nope", "--catalogue", CATALOGUE]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no server `nope`"), "{}", stderr(&o));
}

#[test]
fn policy_native_and_claude_code() {
    let o = run(&["policy", "demo-mail", "--catalogue", CATALOGUE]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["version"], "1");
    assert_eq!(v["default"], "deny");
    assert_eq!(v["tools"]["get_time"], serde_json::json!({}));
    assert_eq!(v["tools"]["send_email"]["action"], "require_approval");
    assert_eq!(v["tools"]["list_messages"]["rate_limit"]["window"], 60);
    assert_eq!(
        v["tools"]["archive_message"],
        serde_json::json!({}),
        "the override allows it"
    );

    let o = run(&[
        "policy",
        "demo-mail",
        "--format",
        "claude-code",
        "--catalogue",
        CATALOGUE,
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let list = |k: &str| -> Vec<String> {
        v["permissions"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    assert!(list("allow").contains(&"mcp__demo-mail__get_time".to_string()));
    assert!(list("ask").contains(&"mcp__demo-mail__delete_message".to_string()));
    assert!(list("deny").is_empty());

    let o = run(&[
        "policy",
        "demo-mail",
        "--format",
        "claude-code",
        "--name",
        "mail",
        "--catalogue",
        CATALOGUE,
    ]);
    assert!(stdout(&o).contains("mcp__mail__send_email"));
}
