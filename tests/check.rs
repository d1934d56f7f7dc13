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

/// Compares with a golden file; `TOOLRISK_BLESS=1` rewrites it instead (after a deliberate
/// change of the classifier's wording).
fn assert_golden(got: &str, path: &str) {
    if std::env::var_os("TOOLRISK_BLESS").is_some() {
        std::fs::write(path, got).expect("writes golden");
        return;
    }
    assert_eq!(got, golden(path));
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

// ---------------------------------------------------------------------------------------
// check --stdio / --url: the tools listed through the crawler's client

const SERVER: &str = "tests/fixtures/check/server.py";

/// Live checks launch servers in the crawler's per-server scratch folder, named after the
/// command: one at a time in this binary, so two tests never share one.
static LIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn live() -> std::sync::MutexGuard<'static, ()> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

fn tools_env(tools: &Value) -> String {
    format!("TOOLS_JSON={tools}")
}

#[test]
fn check_stdio_classifies_the_fixture_servers_tools() {
    let _g = live();
    let tools = serde_json::json!([
        {"name": "get_time", "description": "Get the current time.", "inputSchema": {"type": "object"}},
        {"name": "run_command", "description": "Run a shell command.",
         "inputSchema": {"type": "object", "properties": {"command": {"type": "string"}}}}
    ]);
    let cmd = format!("python3 {SERVER}");
    let o = run(&[
        "check",
        "--stdio",
        &cmd,
        "--env",
        &tools_env(&tools),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["get_time", "run_command"]);
    assert_eq!(v[1]["risk"], "critical");
    // Same verdicts as from a file.
    let o2 = run_stdin(&["check", "-", "--format", "json"], &tools.to_string());
    assert_eq!(serde_json::from_str::<Value>(&stdout(&o2)).unwrap(), v);
    let o = run(&[
        "check",
        "--stdio",
        &cmd,
        "--env",
        &tools_env(&tools),
        "--fail-on",
        "critical",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("run_command (critical)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_stdio_errors_say_what_failed_and_exit_2() {
    let _g = live();
    let cases = [
        (
            "no-such-program-toolrisk-test".to_string(),
            vec![],
            "did not start",
        ),
        (format!("python3 {SERVER} exit"), vec![], "did not start"),
        (
            format!("python3 {SERVER}"),
            vec!["--env".to_string(), "TOOLS_JSON=[]".to_string()],
            "sent no tools",
        ),
        (
            format!("python3 {SERVER} hang"),
            vec![
                "--init-timeout".into(),
                "2".into(),
                "--server-timeout".into(),
                "4".into(),
            ],
            "timed out",
        ),
    ];
    for (cmd, extra, want) in cases {
        let mut args = vec!["check".to_string(), "--stdio".into(), cmd.clone()];
        args.extend(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(want), "{cmd}: wanted `{want}` in: {err}");
        assert!(stdout(&o).is_empty(), "{cmd}");
    }
    // The exit case says why: the exit code and the server's stderr.
    let o = run(&["check", "--stdio", &format!("python3 {SERVER} exit")]);
    assert!(
        stderr(&o).contains("exit code 3") && stderr(&o).contains("configuration missing"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_stdio_against_the_pinned_reference_server() {
    let _g = live();
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/artifacts/crawl-npm/node_modules/.bin/mcp-server-everything");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup (scripts/setup.d/crawl.sh installs it)",
        bin.display()
    );
    let o = run(&[
        "check",
        "--stdio",
        bin.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in ["echo", "get-sum", "get-env"] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert!(names.len() >= 10, "{names:?}");
}

mod rmcp_peer {
    use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
    use rmcp::model::{ServerCapabilities, ServerConfig};
    use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler};

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    pub struct DropRequest {
        /// the table to drop
        pub table: String,
    }

    #[derive(Debug, Clone)]
    pub struct Db {
        #[allow(dead_code)]
        tool_router: ToolRouter<Self>,
    }

    #[tool_router]
    impl Db {
        pub fn new() -> Self {
            Self {
                tool_router: Self::tool_router(),
            }
        }

        #[tool(description = "Drop a table and all of its rows permanently")]
        fn drop_table(&self, Parameters(DropRequest { table }): Parameters<DropRequest>) -> String {
            table
        }

        #[tool(description = "List the tables")]
        fn list_tables(&self) -> String {
            "t".into()
        }
    }

    #[tool_handler]
    impl ServerHandler for Db {
        fn get_info(&self) -> ServerConfig {
            ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
        }
    }
}

/// An rmcp (official Rust SDK) Streamable HTTP server on 127.0.0.1, on its own thread.
fn rmcp_server() -> std::net::SocketAddr {
    use rmcp::transport::streamable_http_server::{
        session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let service = StreamableHttpService::new(
                || Ok(rmcp_peer::Db::new()),
                std::sync::Arc::new(LocalSessionManager::default()),
                StreamableHttpServerConfig::default(),
            );
            let router = axum::Router::new().nest_service("/mcp", service);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let _ = axum::serve(listener, router).await;
        });
    });
    rx.recv().unwrap()
}

#[test]
fn check_url_lists_an_rmcp_server_and_a_refused_url_exits_2() {
    let addr = rmcp_server();
    let url = format!("http://{addr}/mcp");
    let o = run(&[
        "check",
        "--url",
        &url,
        "--format",
        "json",
        "--fail-on",
        "high",
    ]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let drop = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "drop_table")
        .unwrap();
    assert!(
        drop["risk"] == "high" || drop["risk"] == "critical",
        "{drop}"
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));

    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = run(&[
        "check",
        "--url",
        &format!("http://127.0.0.1:{port}/mcp"),
        "--server-timeout",
        "20",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------------------------------
// --format github: workflow commands

#[test]
fn check_github_format_matches_golden() {
    let o = run(&["check", INPUT, "--format", "github", "--fail-on", "high"]);
    assert_eq!(o.status.code(), Some(1));
    assert_golden(&stdout(&o), "tests/fixtures/check/expected-github.txt");
}

#[test]
fn check_github_format_escapes_hostile_text_per_the_toolkit() {
    let o = run(&[
        "check",
        "tests/fixtures/check/hostile.json",
        "--format",
        "github",
        "--fail-on",
        "low",
        "--baseline",
        "tests/fixtures/check/hostile.lock",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert_golden(&out, "tests/fixtures/check/expected-hostile-github.txt");
    // Properties escape `:` `,` `%`; our own line breaks become %0A; the definition's own
    // line breaks never reach the output raw.
    assert!(
        out.contains("title=toolrisk risk/read (fmt%3A50%25%2Cx)"),
        "{out}"
    );
    assert!(
        out.contains("since the lock (sha256:") && out.contains(")%0A  description: "),
        "{out}"
    );
    assert!(out.contains("{+whole+}"), "{out}");
    // One command per line: nothing in a definition starts a command of its own.
    for line in out.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice ")
                || line.starts_with("3 tools: "),
            "{line}"
        );
    }
    assert!(!out.contains("\n::add-mask::"), "{out}");
}

#[test]
fn check_table_lists_suppressed_results_and_stale_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("toolrisk.toml");
    std::fs::write(
        &cfg,
        "fail-on = \"critical\"\n\n[[suppress]]\ntool = \"run_command\"\nid = \"risk/execute\"\nreason = \"only in the CI sandbox\"\n\n[[suppress]]\ntool = \"add\"\nid = \"risk\"\nreason = \"poisoning fixture\"\n\n[[suppress]]\ntool = \"gone_tool\"\nid = \"finding\"\nreason = \"was removed\"\n",
    )
    .unwrap();
    let o = run(&["check", INPUT, "--config", cfg.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "both critical tools are suppressed: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    assert!(out.contains("2 suppressed:"), "{out}");
    assert!(
        out.contains("run_command risk/execute: only in the CI sandbox"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("suppress[2] (tool `gone_tool`, id `finding`) matched no result"),
        "{}",
        stderr(&o)
    );
    // --fail-on on the command line wins over the file's.
    let o = run(&[
        "check",
        INPUT,
        "--config",
        cfg.to_str().unwrap(),
        "--fail-on",
        "high",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        !stderr(&o).contains("run_command (critical)"),
        "suppressed: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("send_email (high)"), "{}", stderr(&o));
}
