//! `toolrisk scan` on fixture homes and projects written from each client's documentation:
//! discovery per client, identification and catalogue matching, setup findings, broken
//! configs reported with path and line while the scan goes on, exit codes, SARIF, `--emit`
//! and `--write`, `--launch` through the crawler — and no secret value ever printed.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fx(p: &str) -> PathBuf {
    root().join("tests/fixtures/scan").join(p)
}

fn toolrisk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args(args)
        .current_dir(root())
        .env("HOME", fx("no-such-home"))
        .output()
        .expect("run toolrisk")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn scan(home: &Path, project: &Path, extra: &[&str]) -> Output {
    let cat = fx("catalogue");
    let mut args = vec![
        "scan",
        "--home",
        s(home),
        "--project",
        s(project),
        "--catalogue",
        s(&cat),
    ];
    args.extend_from_slice(extra);
    toolrisk(&args)
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn fixture_json() -> Value {
    let o = scan(&fx("home"), &fx("project"), &["--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    json_of(&o)
}

fn findings<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// Every fake secret value written into the fixture configs.
const FAKE_SECRETS: &[&str] = &[
    "fake-password-not-real",
    "fake-key-000-not-real",
    "fake-token-123-not-real",
    "fake-bearer-not-real",
    "dev@example.invalid",
];

#[test]
fn scan_finds_every_client_of_the_fixture_home_and_project() {
    let v = fixture_json();
    let clients: std::collections::BTreeSet<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["client"].as_str().unwrap())
        .collect();
    for c in [
        "claude-desktop",
        "claude-code",
        "cursor",
        "vscode",
        "windsurf",
        "codex",
        "gemini-cli",
    ] {
        assert!(clients.contains(c), "{c} not found: {clients:?}");
    }
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["status"] == "read"));
    assert_eq!(v["files"].as_array().unwrap().len(), 9);
    let servers = v["servers"].as_array().unwrap();
    let by = |client: &str, name: &str| {
        servers
            .iter()
            .find(|s| s["client"] == client && s["name"] == name)
            .unwrap_or_else(|| panic!("{client}/{name}"))
    };
    // Claude Code: user scope, per-project (local) scope, and the project's .mcp.json.
    assert_eq!(by("claude-code", "web")["project"], "/home/dev/shop");
    assert_eq!(by("cursor", "notes")["catalogue"]["by"], "package");
    assert_eq!(by("vscode", "docs")["catalogue"]["by"], "remote");
    assert_eq!(by("claude-desktop", "git")["catalogue"]["by"], "repository");
    assert_eq!(by("codex", "docs")["catalogue"]["slug"], "fixture-docs");
    assert_eq!(
        by("gemini-cli", "web")["identity"],
        "pypi fixture-web-fetch@0.3.1"
    );
    assert_eq!(by("windsurf", "inhouse")["tools_from"], "unknown");
    assert_eq!(by("cursor", "notes")["tools"].as_array().unwrap().len(), 3);
}

#[test]
fn nothing_is_launched_or_contacted_without_asking() {
    let v = fixture_json();
    for s in v["servers"].as_array().unwrap() {
        assert!(
            s["tools_from"] == "catalogue" || s["tools_from"] == "unknown",
            "{s}"
        );
    }
    let unknown = findings(&v, "unknown_server");
    assert!(unknown
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("--launch")));
    assert!(unknown
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("--live")));
}

#[test]
fn lethal_trifecta_names_the_three_tools() {
    let v = fixture_json();
    let t = findings(&v, "lethal_trifecta");
    let cursor = t
        .iter()
        .find(|f| f["client"] == "cursor")
        .expect("cursor trifecta");
    let m = cursor["message"].as_str().unwrap();
    for tool in [
        "`read_note` (notes)",
        "`fetch_url` (web)",
        "`send_email` (mailer)",
    ] {
        assert!(m.contains(tool), "{m}");
    }
    assert_eq!(cursor["severity"], "critical");
    // VS Code has only the docs server and the mailer: no trifecta there.
    assert!(!t.iter().any(|f| f["client"] == "vscode"));
}

#[test]
fn shadowing_across_servers_of_one_client_but_not_one_server_in_two_scopes() {
    let v = fixture_json();
    let sh = findings(&v, "shadowed_tool");
    assert!(
        sh.iter()
            .any(|f| f["client"] == "gemini-cli"
                && f["message"].as_str().unwrap().contains("`search`")),
        "{sh:?}"
    );
    // `notes` in ~/.claude.json and in the project's .mcp.json is one server, not a shadow.
    assert!(!sh.iter().any(|f| f["client"] == "claude-code"), "{sh:?}");
}

#[test]
fn unpinned_packages_are_reported() {
    let v = fixture_json();
    let u = findings(&v, "unpinned_package");
    let who: Vec<String> = u
        .iter()
        .map(|f| {
            format!(
                "{}/{}",
                f["client"].as_str().unwrap(),
                f["server"].as_str().unwrap()
            )
        })
        .collect();
    for w in [
        "claude-code/notes",
        "claude-desktop/notes",
        "claude-desktop/git",
        "cursor/mailer",
    ] {
        assert!(who.contains(&w.to_string()), "{w} missing from {who:?}");
    }
    // Pinned ones are not.
    for w in ["cursor/notes", "cursor/web", "vscode/mailer", "codex/notes"] {
        assert!(!who.contains(&w.to_string()), "{w} reported: {who:?}");
    }
}

#[test]
fn secrets_are_named_by_key_never_by_value() {
    let v = fixture_json();
    let sec = findings(&v, "secret_in_config");
    let msgs: Vec<&str> = sec.iter().map(|f| f["message"].as_str().unwrap()).collect();
    for key in [
        "`NOTES_API_KEY`",
        "`SMTP_PASSWORD`",
        "`token`",
        "`bearer_token`",
    ] {
        assert!(
            msgs.iter().any(|m| m.contains(key)),
            "{key} not named: {msgs:?}"
        );
    }
    // References the client expands are not secrets in the file.
    assert!(
        !sec.iter()
            .any(|f| f["client"] == "vscode" || f["client"] == "gemini-cli"),
        "{msgs:?}"
    );
    assert!(sec.iter().all(|f| f["line"].as_u64().is_some()));
}

#[test]
fn no_secret_value_is_ever_printed_in_any_format_or_policy() {
    let mut outputs = vec![];
    for f in ["table", "json", "sarif"] {
        outputs.push(scan(&fx("home"), &fx("project"), &["--format", f]));
    }
    for t in [
        "native",
        "claude-code",
        "cursor",
        "codex",
        "vscode",
        "gemini-cli",
        "cedar",
        "annotations",
    ] {
        outputs.push(scan(&fx("home"), &fx("project"), &["--emit", t]));
    }
    for o in &outputs {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!all.is_empty());
        for secret in FAKE_SECRETS {
            assert!(!all.contains(secret), "printed {secret}:\n{all}");
        }
    }
}

#[test]
fn sarif_is_valid_2_1_0_with_locations() {
    let o = scan(&fx("home"), &fx("project"), &["--format", "sarif"]);
    let v = json_of(&o);
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let trifecta = results
        .iter()
        .find(|r| r["ruleId"] == "lethal_trifecta")
        .unwrap();
    assert_eq!(trifecta["level"], "error");
    assert!(
        trifecta["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .is_some()
    );
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"secret_in_config"));
}

#[test]
fn broken_configs_of_every_client_are_reported_with_path_and_line_and_the_scan_goes_on() {
    let o = scan(&fx("broken-home"), &fx("project"), &["--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json_of(&o);
    let errs = findings(&v, "config_error");
    let at = |suffix: &str, line: u64, text: &str| {
        assert!(
            errs.iter()
                .any(|f| f["file"].as_str().unwrap().ends_with(suffix)
                    && f["line"] == line
                    && f["message"].as_str().unwrap().contains(text)),
            "{suffix}:{line} `{text}` not in {errs:#?}"
        );
    };
    at("claude_desktop_config.json", 3, "invalid JSON");
    at(".claude.json", 1, "JSON object");
    at(".cursor/mcp.json", 4, "`args` must be an array");
    at("Code/User/mcp.json", 6, "invalid JSON with comments");
    at("mcp_config.json", 3, "neither `command` nor `url`");
    at(".codex/config.toml", 4, "invalid TOML");
    at(".gemini/settings.json", 2, "`mcpServers` must be an object");
    let unknown = findings(&v, "unknown_key");
    assert!(unknown
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("`evn`") && f["line"] == 3));
    // The good entries next to the broken ones, and the project, are still read.
    let names: Vec<String> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}/{}",
                s["client"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    assert!(names.contains(&"cursor/typo".to_string()), "{names:?}");
    assert!(names.contains(&"vscode/mailer".to_string()), "{names:?}");
}

#[test]
fn fifo_symlink_loop_huge_folder_and_binary_configs_are_refused_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let project = dir.path().join("project");
    for d in [
        ".cursor",
        ".gemini",
        ".codeium/windsurf",
        ".config/Claude",
        ".codex",
    ] {
        std::fs::create_dir_all(home.join(d)).unwrap();
    }
    std::fs::create_dir_all(project.join(".vscode")).unwrap();
    // A FIFO: opening it would block forever.
    let fifo = home.join(".cursor/mcp.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // A symlink loop.
    std::os::unix::fs::symlink(
        home.join(".gemini/b.json"),
        home.join(".gemini/settings.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        home.join(".gemini/settings.json"),
        home.join(".gemini/b.json"),
    )
    .unwrap();
    // Larger than the limit.
    let big = std::fs::File::create(home.join(".codeium/windsurf/mcp_config.json")).unwrap();
    big.set_len(17 * 1024 * 1024).unwrap();
    // A folder where a file belongs.
    std::fs::create_dir_all(home.join(".config/Claude/claude_desktop_config.json")).unwrap();
    // Not UTF-8.
    std::fs::write(home.join(".codex/config.toml"), b"\xff\xfe[mcp_servers]").unwrap();
    // Deep nesting.
    std::fs::write(home.join(".claude.json"), "[".repeat(100_000)).unwrap();
    // And one good file.
    std::fs::copy(
        fx("project/.vscode/mcp.json"),
        project.join(".vscode/mcp.json"),
    )
    .unwrap();
    let o = scan(&home, &project, &["--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = json_of(&o);
    let errs = findings(&v, "config_error");
    let msg = |suffix: &str| -> String {
        errs.iter()
            .find(|f| f["file"].as_str().unwrap().ends_with(suffix))
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{suffix} not reported: {errs:#?}"))
    };
    assert!(msg(".cursor/mcp.json").contains("FIFO"));
    assert!(msg(".gemini/settings.json")
        .to_lowercase()
        .contains("symbolic links"));
    assert!(msg("mcp_config.json").contains("limit"));
    assert!(msg("claude_desktop_config.json").contains("folder"));
    assert!(msg(".codex/config.toml").contains("UTF-8"));
    assert!(msg(".claude.json").contains("deeper"));
    assert_eq!(
        v["servers"].as_array().unwrap().len(),
        1,
        "the good file is still read"
    );
}

#[test]
fn exit_codes_as_for_check() {
    // Nothing could be read: 2.
    let empty = tempfile::tempdir().unwrap();
    let o = scan(empty.path(), empty.path(), &[]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Findings at or above --fail-on: 1.
    let o = scan(&fx("home"), &fx("project"), &["--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("lethal_trifecta"));
    // A clean setup passes --fail-on warning.
    let o = toolrisk(&[
        "scan",
        s(&fx("project/.vscode/mcp.json")),
        "--catalogue",
        s(&fx("catalogue")),
        "--fail-on",
        "warning",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn explicit_paths_files_and_project_folders() {
    let o = toolrisk(&[
        "scan",
        s(&fx("home/.codex/config.toml")),
        s(&fx("project")),
        "--catalogue",
        s(&fx("catalogue")),
        "--format",
        "json",
    ]);
    let v = json_of(&o);
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["client"].as_str().unwrap())
        .collect();
    assert_eq!(files, vec!["codex", "claude-code", "vscode"]);
    // A file no client reads by that name needs --client.
    let o = toolrisk(&[
        "scan",
        s(&fx("catalogue/servers/fixture-docs.yaml")),
        "--catalogue",
        s(&fx("catalogue")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--client"));
    // --client narrows discovery.
    let o = scan(
        &fx("home"),
        &fx("project"),
        &["--client", "codex", "--format", "json"],
    );
    let v = json_of(&o);
    assert!(v["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["client"] == "codex"));
}

#[test]
fn emit_uses_the_users_own_server_names() {
    let o = scan(&fx("home"), &fx("project"), &["--emit", "claude-code"]);
    let v = json_of(&o);
    let ask: Vec<&str> = v["permissions"]["ask"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!(ask.contains(&"mcp__mail__send_email"), "{ask:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("rate-limited"));
    let o = scan(&fx("home"), &fx("project"), &["--emit", "cedar"]);
    let text = String::from_utf8_lossy(&o.stdout);
    <cedar_policy::PolicySet as std::str::FromStr>::from_str(&text)
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
}

#[test]
fn emit_write_codex_round_trip_keeps_comments_with_backup_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    let original = std::fs::read_to_string(fx("home/.codex/config.toml")).unwrap();
    std::fs::write(home.join(".codex/config.toml"), &original).unwrap();
    let o = scan(&home, dir.path(), &["--emit", "codex", "--write"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(diff.contains("+enabled_tools"), "{diff}");
    let after = std::fs::read_to_string(home.join(".codex/config.toml")).unwrap();
    for kept in [
        "# Codex settings kept by hand.\nmodel = \"gpt-5\"\napproval_policy = \"on-request\"\n",
        "# The docs server, remote.\n[mcp_servers.docs]\n",
    ] {
        assert!(after.contains(kept), "lost {kept:?}:\n{after}");
    }
    let backups: Vec<_> = std::fs::read_dir(home.join(".codex"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), original);
    // The secret in the file is kept in the file and never printed.
    assert!(after.contains("fake-bearer-not-real"));
    assert!(!diff.contains("fake-bearer-not-real"), "{diff}");
}

#[test]
fn launch_starts_unknown_servers_like_crawl_stdio_with_dummy_env_values() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mcp_config.json");
    let server = fx("server.py");
    std::fs::write(
        &cfg,
        serde_json::to_string(&serde_json::json!({"mcpServers": {"local": {
            "command": "python3", "args": [s(&server)],
            "env": {"FIXTURE_TOKEN": "fake-launch-secret-not-real"}}}}))
        .unwrap(),
    )
    .unwrap();
    let o = toolrisk(&[
        "scan",
        s(&cfg),
        "--catalogue",
        s(&fx("catalogue")),
        "--launch",
        "--format",
        "json",
    ]);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(!out.contains("fake-launch-secret-not-real"), "{out}");
    let v = json_of(&o);
    let s0 = &v["servers"][0];
    assert_eq!(s0["tools_from"], "launched", "{out}");
    let names: Vec<&str> = s0["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["got_toolrisk-dummy", "send_webhook"],
        "the server got a dummy, not the user's value"
    );
}

#[test]
fn client_tool_filters_and_disabled_servers_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::create_dir_all(home.join(".gemini")).unwrap();
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    std::fs::write(
        home.join(".gemini/settings.json"),
        r#"{"mcpServers": {"notes": {"command": "npx", "args": ["@fixture/notes-mcp@1.4.0"], "includeTools": ["read_note", "delete_note"], "excludeTools": ["delete_note"]}}}"#,
    )
    .unwrap();
    std::fs::write(
        home.join(".codex/config.toml"),
        "[mcp_servers.notes]\ncommand = \"npx\"\nargs = [\"@fixture/notes-mcp@1.4.0\"]\n\n[mcp_servers.web]\ncommand = \"uvx\"\nargs = [\"fixture-web-fetch==0.3.1\"]\n\n[mcp_servers.mail]\ncommand = \"docker\"\nargs = [\"run\", \"-i\", \"ghcr.io/fixture/mailer-mcp:2.0.0\"]\nenabled = false\n",
    )
    .unwrap();
    let v = json_of(&scan(home, home, &["--format", "json"]));
    let gemini = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["client"] == "gemini-cli")
        .unwrap();
    let names: Vec<&str> = gemini["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["read_note"]);
    let mail = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "mail")
        .unwrap();
    assert_eq!(mail["disabled"], true);
    // The switched-off mailer is not part of what the agent reaches: the way out found is the
    // fetch tool (a URL can carry data out), not `send_email`.
    let t = findings(&v, "lethal_trifecta");
    assert_eq!(t.len(), 1);
    let m = t[0]["message"].as_str().unwrap();
    assert!(
        m.contains("`fetch_url` (web)") && !m.contains("send_email"),
        "{m}"
    );
}

#[test]
fn locked_servers_whose_catalogued_definitions_drifted_are_findings() {
    use toolrisk::check::lock::Lock;
    let cat = toolrisk::catalogue::Catalogue::new(fx("catalogue"));
    let record = cat.find("fixture-web").unwrap();
    let classifier = toolrisk::classify::Classifier::for_catalogue(&fx("catalogue"), None).unwrap();
    let locks = tempfile::tempdir().unwrap();
    let lock_of = |tools: &[toolrisk::model::Tool]| {
        let results =
            classifier.classify_tools(&toolrisk::classify::ServerContext::of(&record), tools);
        Lock::from_tools("web", tools, &results).to_yaml().unwrap()
    };
    let drift = |o: &Output| -> Vec<Value> {
        json_of(o)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"].as_str().unwrap().starts_with("lock_"))
            .cloned()
            .collect()
    };
    let args = [
        "--client",
        "cursor",
        "--format",
        "json",
        "--locks",
        s(locks.path()),
    ];
    // Locked as the catalogue holds it now: nothing to say.
    std::fs::write(locks.path().join("web.lock"), lock_of(&record.tools)).unwrap();
    let o = scan(&fx("home"), &fx("project"), &args);
    assert_eq!(
        drift(&o),
        Vec::<Value>::new(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Approved when `fetch_url` said less: its description changed since, by one word.
    let mut approved = record.tools.clone();
    let t = approved.iter_mut().find(|t| t.name == "fetch_url").unwrap();
    t.description = Some(
        t.description
            .clone()
            .unwrap()
            .replace("any web page", "a web page"),
    );
    std::fs::write(locks.path().join("web.lock"), lock_of(&approved)).unwrap();
    let o = scan(&fx("home"), &fx("project"), &args);
    let found = drift(&o);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "lock_drift");
    assert_eq!(found[0]["server"], "web");
    let msg = found[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("fetch_url") && msg.contains("definition changed"),
        "{msg}"
    );
    // A broken lock is a finding naming the file, not the end of the scan.
    std::fs::write(locks.path().join("web.lock"), "version: [\n").unwrap();
    let o = scan(&fx("home"), &fx("project"), &args);
    let found = drift(&o);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["kind"], "lock_error");
    assert!(found[0]["file"].as_str().unwrap().ends_with("web.lock"));
}
