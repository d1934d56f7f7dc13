//! The command line's manners and its guarantees against hostile files, end to end with the
//! built binary: one `--catalogue` / `TOOLRISK_CATALOGUE` everywhere and discovery outside a
//! checkout, closed pipes, colour, help texts, completions and man pages, and bounded reading
//! (FIFOs, devices, links to secrets, deep YAML, BOMs), duplicate ids, damaged indexes, two
//! builds at once.
//!
//! Nothing here depends on timing: a command that should not hang gets a generous deadline
//! (minutes) and the test fails only if it is passed.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use toolrisk::catalogue::Catalogue;
use toolrisk::model::{Server, Tool};

const BIN: &str = env!("CARGO_BIN_EXE_toolrisk");
/// Far longer than any of these commands takes on a loaded machine; passing it means a hang.
const HANG: Duration = Duration::from_secs(180);

fn tool(name: &str, description: &str) -> Tool {
    Tool::from_json(&json!({"name": name, "description": description,
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}}))
    .unwrap()
}

fn server(id: &str, slug: &str, tools: Vec<Tool>) -> Server {
    Server {
        id: id.into(),
        slug: slug.into(),
        name: format!("{slug} server"),
        tools,
        ..Server::default()
    }
}

/// A small catalogue written with the real record store.
fn fixture(dir: &Path) -> Catalogue {
    let cat = Catalogue::new(dir);
    cat.write(&server(
        "io.github.acme/files",
        "acme-files",
        vec![
            tool("read_file", "Read a file.\nReturns its text."),
            tool("delete_file", "Permanently delete a file."),
        ],
    ))
    .unwrap();
    cat.write(&server(
        "npm:pay",
        "npm-pay",
        vec![tool("create_payment", "Charge a card.")],
    ))
    .unwrap();
    cat
}

/// A command with no inherited catalogue settings and a private HOME (so no installed
/// catalogue of the machine's user is found).
fn cmd(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("TOOLRISK_CATALOGUE")
        .env_remove("TOOLRISK_DATA_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("NO_COLOR")
        .env("HOME", home)
        .stdin(Stdio::null());
    c
}

/// Runs to completion, failing the test if it takes longer than [`HANG`].
fn run_bounded(mut c: Command) -> Output {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run toolrisk");
    let start = Instant::now();
    // Drain in threads so a full pipe never blocks the child.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut b).ok();
        b
    });
    let t2 = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut b).ok();
        b
    });
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("toolrisk {:?} hung (killed after {HANG:?})", c.get_args());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

fn run(home: &Path, args: &[&str]) -> Output {
    let mut c = cmd(home);
    c.args(args);
    run_bounded(c)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// The catalogue-reading commands, with the extra arguments each needs.
fn reading_commands(dir: &Path) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&["validate"]),
        s(&["build", "--out", dir.join("site").to_str().unwrap()]),
        s(&["query", "file"]),
        s(&["export", "jsonl"]),
    ]
}

#[test]
fn fifo_record_is_refused_quickly_by_validate_build_query_export() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    mkfifo(&cat.server_path("fifo"));
    for args in reading_commands(dir.path()) {
        let mut full: Vec<&str> = args.iter().map(String::as_str).collect();
        full.extend(["--catalogue", cat.root.to_str().unwrap()]);
        let out = run(dir.path(), &full);
        let err = text(&out.stderr);
        assert!(
            err.contains("fifo.yaml") && err.contains("FIFO"),
            "{args:?}: the FIFO is named: {err}"
        );
        // The rest of the catalogue still answers.
        assert_ne!(out.status.code(), Some(2), "{args:?}: {err}");
    }
}

#[test]
fn dev_zero_record_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    std::os::unix::fs::symlink("/dev/zero", cat.server_path("zero")).unwrap();
    for args in reading_commands(dir.path()) {
        let mut full: Vec<&str> = args.iter().map(String::as_str).collect();
        full.extend(["--catalogue", cat.root.to_str().unwrap()]);
        let out = run(dir.path(), &full);
        let err = text(&out.stderr);
        assert!(
            err.contains("zero.yaml") && err.contains("device"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn record_linked_to_a_private_key_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let key = dir.path().join("id_ed25519");
    std::fs::write(
        &key,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&key, cat.server_path("key")).unwrap();
    // And a .env-style file.
    let env = dir.path().join(".env");
    std::fs::write(&env, "API_TOKEN=sk-live-0123456789abcdef\n").unwrap();
    std::os::unix::fs::symlink(&env, cat.server_path("env")).unwrap();
    for args in reading_commands(dir.path()) {
        let mut full: Vec<&str> = args.iter().map(String::as_str).collect();
        full.extend(["--catalogue", cat.root.to_str().unwrap()]);
        let out = run(dir.path(), &full);
        let all = text(&out.stderr) + &text(&out.stdout);
        // `query` names the first unreadable file only; the others name each.
        assert!(
            all.contains("key.yaml") || (args[0] == "query" && all.contains("env.yaml")),
            "{args:?}: the file is named: {all}"
        );
        for secret in [
            "b3BlbnNzaC1rZXkt",
            "PRIVATE KEY",
            "sk-live-0123456789abcdef",
        ] {
            assert!(!all.contains(secret), "{args:?} echoed {secret}: {all}");
        }
    }
}

#[test]
fn deep_yaml_record_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    std::fs::write(cat.server_path("deep"), "[".repeat(100_000)).unwrap();
    let mut block = String::from("id: x\nslug: deep2\nname: d\ntools:\n");
    for i in 0..200 {
        block.push_str(&" ".repeat(i * 2 + 2));
        block.push_str("a:\n");
    }
    std::fs::write(cat.server_path("deep2"), block).unwrap();
    let out = run(
        dir.path(),
        &["validate", "--catalogue", cat.root.to_str().unwrap()],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("deep.yaml") && err.contains("deep2.yaml") && err.contains("nested deeper"),
        "{err}"
    );
}

#[test]
fn bom_is_accepted_in_records_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let p = cat.server_path("npm-pay");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(std::fs::read(&p).unwrap());
    std::fs::write(&p, bytes).unwrap();
    std::fs::write(
        cat.root.join("overrides.yaml"),
        "\u{feff}overrides:\n  - server: npm:pay\n    tool: create_payment\n    reason: checked by hand\n    risk: critical\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["validate", "--catalogue", cat.root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(
        dir.path(),
        &[
            "query",
            "payment",
            "--format",
            "json",
            "--catalogue",
            cat.root.to_str().unwrap(),
        ],
    );
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits[0]["tool"], "create_payment", "{hits}");
    assert_eq!(hits[0]["risk"], "critical", "the overrides applied: {hits}");
}

#[test]
fn validate_reports_duplicate_server_ids() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    cat.write(&server(
        "npm:pay",
        "npm-pay-copy",
        vec![tool("refund", "Refund.")],
    ))
    .unwrap();
    let out = run(
        dir.path(),
        &["validate", "--catalogue", cat.root.to_str().unwrap()],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("npm-pay.yaml")
            && err.contains("npm-pay-copy.yaml")
            && err.contains("npm:pay"),
        "{err}"
    );
    let out = run(
        dir.path(),
        &[
            "validate",
            "--format",
            "json",
            "--catalogue",
            cat.root.to_str().unwrap(),
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["duplicate_ids"], 1, "{v}");
    assert_eq!(v["servers"], 3, "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
}

#[test]
fn validate_checks_overrides_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    std::fs::write(
        cat.root.join("overrides.yaml"),
        "overrides:\n  - server: npm:pay\n    tool: create_payment\n    reason: ''\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &["validate", "--catalogue", cat.root.to_str().unwrap()],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("overrides.yaml") && err.contains("reason"),
        "{err}"
    );
    // A FIFO in its place is refused, not waited on.
    std::fs::remove_file(cat.root.join("overrides.yaml")).unwrap();
    mkfifo(&cat.root.join("overrides.yaml"));
    let out = run(
        dir.path(),
        &["validate", "--catalogue", cat.root.to_str().unwrap()],
    );
    assert!(text(&out.stderr).contains("FIFO"), "{}", text(&out.stderr));
}

/// Runs with standard output a pipe whose reader has already gone.
fn run_into_closed_pipe(home: &Path, args: &[&str]) -> Output {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let write_end = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[1]) };
    let mut c = cmd(home);
    c.args(args).stdout(Stdio::from(write_end));
    let mut child = c.stderr(Stdio::piped()).spawn().unwrap();
    drop(c);
    let mut err = Vec::new();
    std::io::Read::read_to_end(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr: err,
    }
}

#[test]
fn broken_pipe_ends_quietly_with_success_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let c = cat.root.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["schema"],
        vec!["validate", "--catalogue", c],
        vec!["validate", "--format", "json", "--catalogue", c],
        vec!["query", "-q", "--format", "json", "--catalogue", c],
        vec!["query", "-q", "--catalogue", c],
        vec!["query", "-q", "--format", "csv", "--catalogue", c],
        vec!["export", "-q", "jsonl", "--catalogue", c],
        vec!["show", "acme-files", "--catalogue", c],
        vec!["show", "acme-files", "--format", "json", "--catalogue", c],
        vec!["policy", "acme-files", "--catalogue", c],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["--help"],
        vec!["--version"],
    ];
    for args in commands {
        let out = run_into_closed_pipe(dir.path(), &args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn colour_follows_color_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let c = cat.root.to_str().unwrap();
    let q = |extra: &[&str], no_color: bool| {
        let mut cm = cmd(dir.path());
        cm.args(["query", "-q", "--catalogue", c]).args(extra);
        if no_color {
            cm.env("NO_COLOR", "1");
        }
        text(&run_bounded(cm).stdout)
    };
    assert!(q(&["--color", "always"], false).contains("\x1b["));
    // Explicit `always` wins over NO_COLOR; `auto` (piped here) and `never` stay plain.
    assert!(q(&["--color", "always"], true).contains("\x1b["));
    assert!(!q(&[], false).contains('\x1b'));
    assert!(!q(&["--color", "never"], false).contains('\x1b'));
    // Colour never breaks the columns: without the codes, the table is the plain one.
    let painted = q(&["--color", "always"], false);
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&painted, "")
        .into_owned();
    assert_eq!(stripped, q(&[], false));
}

#[test]
fn quiet_leaves_out_notes() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let c = cat.root.to_str().unwrap();
    let loud_out = dir.path().join("loud.jsonl");
    let loud = run(
        dir.path(),
        &[
            "export",
            "jsonl",
            loud_out.to_str().unwrap(),
            "--catalogue",
            c,
        ],
    );
    assert!(
        text(&loud.stderr).contains("exported"),
        "{}",
        text(&loud.stderr)
    );
    let out = dir.path().join("o.jsonl");
    let quiet = run(
        dir.path(),
        &[
            "-q",
            "export",
            "jsonl",
            out.to_str().unwrap(),
            "--catalogue",
            c,
        ],
    );
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(text(&quiet.stderr), "");
    let verbose = run(dir.path(), &["-v", "validate", "--catalogue", c]);
    assert!(
        text(&verbose.stderr).contains("given by --catalogue"),
        "{}",
        text(&verbose.stderr)
    );
}

#[test]
fn version_prints_the_rules_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--version"]);
    let t = text(&out.stdout);
    let fp = toolrisk::index::rules_fingerprint(&toolrisk::classify::Classifier::builtin());
    assert!(
        t.starts_with(&format!("toolrisk {}", env!("CARGO_PKG_VERSION"))),
        "{t}"
    );
    assert!(t.contains(&fp), "{t}");
}

#[test]
fn completions_and_man_pages_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(dir.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let t = text(&out.stdout);
        assert!(
            t.contains("toolrisk") && t.contains("catalogue"),
            "{shell}: {t}"
        );
    }
    let out = run(dir.path(), &["man"]);
    let t = text(&out.stdout);
    assert!(t.contains(".TH toolrisk 1"), "{t}");
    let out = run(dir.path(), &["man", "query"]);
    let t = text(&out.stdout);
    assert!(
        t.contains(".TH toolrisk-query") && t.contains("risk"),
        "{t}"
    );
    let out = run(dir.path(), &["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    // bash itself accepts the script.
    let script = dir.path().join("c.bash");
    std::fs::write(&script, run(dir.path(), &["completions", "bash"]).stdout).unwrap();
    let ok = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn help_of_every_command_has_an_example_and_exit_status() {
    let dir = tempfile::tempdir().unwrap();
    for c in [
        "check",
        "show",
        "policy",
        "crawl",
        "build",
        "serve",
        "query",
        "export",
        "validate",
        "schema",
        "catalogue",
    ] {
        let out = run(dir.path(), &[c, "--help"]);
        let t = text(&out.stdout);
        assert!(t.contains("Example"), "{c}: {t}");
        assert!(t.contains("Exit status"), "{c}: {t}");
    }
}

#[test]
fn every_catalogue_command_takes_the_flag_and_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let empty = dir.path().join("elsewhere");
    std::fs::create_dir(&empty).unwrap();
    let site = dir.path().join("site");
    let commands: Vec<Vec<&str>> = vec![
        vec!["show", "acme-files"],
        vec!["policy", "npm-pay"],
        vec!["validate"],
        vec!["build", "--out", site.to_str().unwrap()],
        vec!["query", "delete"],
        vec!["export", "jsonl"],
        vec!["catalogue", "path"],
        vec!["catalogue", "normalise", "--check"],
    ];
    for args in &commands {
        // The variable…
        let mut c = cmd(dir.path());
        c.current_dir(&empty)
            .env("TOOLRISK_CATALOGUE", &cat.root)
            .args(args);
        let out = run_bounded(c);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        // …and the flag.
        let mut c = cmd(dir.path());
        c.current_dir(&empty)
            .args(args)
            .args(["--catalogue", cat.root.to_str().unwrap()]);
        let out = run_bounded(c);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        // Without either, outside a checkout: a message saying how to get a catalogue.
        let mut c = cmd(dir.path());
        c.current_dir(&empty).args(args);
        let out = run_bounded(c);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        if args[0] != "catalogue" {
            let err = text(&out.stderr);
            assert!(
                err.contains("toolrisk catalogue install"),
                "{args:?}: {err}"
            );
        }
    }
}

#[test]
fn catalogue_is_found_by_walking_up_from_the_working_folder() {
    let dir = tempfile::tempdir().unwrap();
    fixture(&dir.path().join("catalogue"));
    let deep = dir.path().join("src/deep");
    std::fs::create_dir_all(&deep).unwrap();
    let mut c = cmd(dir.path());
    c.current_dir(&deep).args(["show", "npm-pay"]);
    let out = run_bounded(c);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("create_payment"));
}

#[test]
fn installed_catalogue_is_used_outside_a_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    std::fs::write(cat.server_path("broken"), "id: [\n").unwrap();
    let data = dir.path().join("data");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let with_data = |args: &[&str]| {
        let mut c = cmd(dir.path());
        c.current_dir(&elsewhere)
            .env("TOOLRISK_DATA_DIR", &data)
            .args(args);
        run_bounded(c)
    };
    let out = with_data(&["catalogue", "install", "--from", cat.root.to_str().unwrap()]);
    // The broken record is named and left out; the rest is installed.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("broken.yaml"));
    assert!(data.join("catalogue/servers/npm-pay.yaml").is_file());
    assert!(!data.join("catalogue/servers/broken.yaml").exists());
    let out = with_data(&["catalogue", "path"]);
    assert_eq!(
        text(&out.stdout).trim(),
        data.join("catalogue").to_str().unwrap()
    );
    let out = with_data(&["show", "npm-pay"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // `update` copies again from the same place: a new record arrives.
    std::fs::remove_file(cat.server_path("broken")).unwrap();
    cat.write(&server(
        "npm:new",
        "npm-new",
        vec![tool("list_things", "List.")],
    ))
    .unwrap();
    let out = with_data(&["catalogue", "update"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(with_data(&["show", "npm-new"]).status.code(), Some(0));
    // No temporary folders are left beside it.
    let left: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(left, vec![data.join("catalogue")]);
}

#[test]
fn show_prints_newlines_in_descriptions_and_a_hint_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let c = cat.root.to_str().unwrap();
    let out = run(
        dir.path(),
        &["show", "acme-files/read_file", "--catalogue", c],
    );
    let t = text(&out.stdout);
    assert!(t.contains("Read a file.\n  Returns its text."), "{t}");
    assert!(!t.contains("\\u{a}"), "{t}");
    // The hint printed under a server's table is itself a working command line.
    let out = run(dir.path(), &["show", "acme-files", "--catalogue", c]);
    let t = text(&out.stdout);
    let hint = t
        .lines()
        .find(|l| l.contains("explains one tool"))
        .expect("a hint");
    let cmdline = hint
        .split('`')
        .nth(1)
        .unwrap()
        .replace("TOOL", "delete_file");
    let words: Vec<&str> = cmdline.split_whitespace().collect();
    assert_eq!(words[0], "toolrisk");
    let again = run(dir.path(), &words[1..]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{cmdline}: {}",
        text(&again.stderr)
    );
}

#[test]
fn check_refuses_a_64_mib_input_of_tiny_tools_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    let item = r#"{"name":"a"},"#;
    let n = (64 * 1024 * 1024 - 20) / item.len();
    let mut s = String::with_capacity(64 * 1024 * 1024);
    s.push_str(r#"{"tools":["#);
    for _ in 0..n {
        s.push_str(item);
    }
    s.pop();
    s.push_str("]}");
    assert!(s.len() <= 64 * 1024 * 1024);
    std::fs::write(&path, &s).unwrap();
    let out = run(dir.path(), &["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("split the tool list"));
    // One byte over the limit on stdin: exit 2 as well, never an abort.
    s.push_str(&" ".repeat(64 * 1024 * 1024 + 1 - s.len()));
    let mut c = cmd(dir.path());
    c.args(["check"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, s.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("limit"), "{}", text(&out.stderr));
    // A FIFO named as the input is refused, not waited on.
    let fifo = dir.path().join("in.json");
    mkfifo(&fifo);
    let out = run(dir.path(), &["check", fifo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("FIFO"));
}

#[test]
fn damaged_query_index_is_detected_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let c = cat.root.to_str().unwrap();
    let q = || run(dir.path(), &["query", "--format", "json", "--catalogue", c]);
    let first = q();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let good: Value = serde_json::from_slice(&first.stdout).unwrap();
    let index = cat.root.join(toolrisk::index::FILE_NAME);
    // Unchanged: served without a rebuild.
    let again = q();
    assert!(
        !text(&again.stderr).contains("rebuilt"),
        "{}",
        text(&again.stderr)
    );
    // Garbage over every page after the first (the header and schema stay readable).
    let mut bytes = std::fs::read(&index).unwrap();
    let page = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    assert!(bytes.len() > 2 * page, "the index has several pages");
    for (i, b) in bytes.iter_mut().enumerate().skip(2 * page) {
        *b = (i * 7 % 251) as u8;
    }
    std::fs::write(&index, &bytes).unwrap();
    let out = q();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("rebuilt"), "{err}");
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits, good, "answers come from the rebuilt index");
}

#[test]
fn two_builds_on_one_output_folder_both_finish() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let site = dir.path().join("site");
    let spawn = || {
        let mut c = cmd(dir.path());
        c.args([
            "build",
            "--catalogue",
            cat.root.to_str().unwrap(),
            "--out",
            site.to_str().unwrap(),
        ]);
        c.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let kids: Vec<_> = (0..3).map(|_| spawn()).collect();
    for k in kids {
        let out = k.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    assert!(site.join("index.html").is_file());
    let mut tmp = Vec::new();
    let mut stack = vec![site.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".tmp") {
                tmp.push(p);
            }
        }
    }
    assert!(tmp.is_empty(), "temp files left: {tmp:?}");
}

#[test]
fn build_reports_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    std::fs::write(cat.server_path("bad"), "id: [\n").unwrap();
    let site = dir.path().join("site");
    let out = run(
        dir.path(),
        &[
            "build",
            "--format",
            "json",
            "--catalogue",
            cat.root.to_str().unwrap(),
            "--out",
            site.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["servers"], 2, "{v}");
    assert_eq!(v["tools"], 3, "{v}");
    assert!(
        v["errors"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("bad.yaml"),
        "{v}"
    );
}

/// Without `--repo-url` (or `TOOLRISK_REPO_URL`), "wrong label?" opens an issue on the
/// `repository` Cargo.toml names.
#[test]
fn wrong_label_link_defaults_to_the_cargo_repository() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let site = dir.path().join("site");
    let mut c = cmd(dir.path());
    c.env_remove("TOOLRISK_REPO_URL").args([
        "build",
        "--catalogue",
        cat.root.to_str().unwrap(),
        "--out",
        site.to_str().unwrap(),
    ]);
    let out = run_bounded(c);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html =
        std::fs::read_to_string(site.join("tools/npm-pay/create-payment/index.html")).unwrap();
    let repo = env!("CARGO_PKG_REPOSITORY");
    assert!(!repo.is_empty());
    let want = format!(
        r#"class="wrong-label" href="{}/issues/new?"#,
        repo.trim_end_matches('/')
    );
    assert!(html.contains(&want), "no {want} in the tool page");
}

/// A hand-edited record, spelt as the writer would not: an unquoted date-like version (a
/// YAML 1.1 reader takes it for a date), unquoted timestamps.
const HAND_EDITED: &str = "id: io.example/dated\nslug: dated\nname: Dated\nprovenance:\n\
- source: stdio\n  fetched_at: 2026-11-20T10:00:00Z\n  protocol_version: 2025-11-25\n  tools: true\n\
tools:\n- name: list_things\n  description: List the things.\n";

fn normalise(home: &Path, cat: &Path, check: bool) -> Output {
    let mut args = vec![
        "catalogue",
        "normalise",
        "--catalogue",
        cat.to_str().unwrap(),
    ];
    if check {
        args.push("--check");
    }
    run(home, &args)
}

/// `catalogue normalise` rewrites a hand-edited record as the writer writes it (the date-like
/// version quoted) without changing what it says, leaves written records byte for byte, and
/// a second run changes nothing; `--check` writes nothing and exits 1 while a record would
/// change, 0 once none would.
#[test]
fn catalogue_normalise_quotes_what_yaml_1_1_would_misread_and_check_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let dated = cat.server_path("dated");
    std::fs::write(&dated, HAND_EDITED).unwrap();
    let before = toolrisk::catalogue::load_server(&dated).unwrap();
    let untouched = cat.server_path("npm-pay");
    let pay = std::fs::read(&untouched).unwrap();

    let out = normalise(dir.path(), &cat.root, true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        [dated.to_str().unwrap()],
        "{listed}"
    );
    assert_eq!(
        std::fs::read_to_string(&dated).unwrap(),
        HAND_EDITED,
        "--check wrote"
    );

    let out = normalise(dir.path(), &cat.root, false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = std::fs::read_to_string(&dated).unwrap();
    assert!(
        after.contains("protocol_version: '2025-11-25'")
            || after.contains("protocol_version: \"2025-11-25\""),
        "{after}"
    );
    assert!(!after.contains("protocol_version: 2025-11-25"), "{after}");
    assert_eq!(
        toolrisk::catalogue::load_server(&dated).unwrap(),
        before,
        "content changed"
    );
    assert_eq!(
        std::fs::read(&untouched).unwrap(),
        pay,
        "a written record was rewritten"
    );

    let tree_once = tree(&cat.root);
    let out = normalise(dir.path(), &cat.root, false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        tree(&cat.root),
        tree_once,
        "the second run changed something"
    );
    let out = normalise(dir.path(), &cat.root, true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

/// A record that does not parse is named with its error and left byte for byte; the others
/// are still normalised, and the run exits 1 (with `--check` too).
#[test]
fn catalogue_normalise_names_an_unreadable_record_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let bad = cat.server_path("bad");
    let broken = "id: io.example/bad\nslug: bad\nname: Bad\nsurprise_field: 1\n";
    std::fs::write(&bad, broken).unwrap();
    let dated = cat.server_path("dated");
    std::fs::write(&dated, HAND_EDITED).unwrap();

    let out = normalise(dir.path(), &cat.root, true);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("surprise_field"),
        "{err}"
    );
    assert!(
        !text(&out.stdout).contains("bad.yaml"),
        "an unreadable record is not listed as changing"
    );

    let out = normalise(dir.path(), &cat.root, false);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.yaml") && err.contains("surprise_field"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        broken,
        "the broken record was touched"
    );
    assert_ne!(
        std::fs::read_to_string(&dated).unwrap(),
        HAND_EDITED,
        "the run stopped at the broken record"
    );
}

/// Every file under `dir`, relative, with its bytes (the build's own bookkeeping left out).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                if !rel.starts_with(".toolrisk") {
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn build_killed_with_sigkill_is_completed_by_the_next_build() {
    let dir = tempfile::tempdir().unwrap();
    let cat = Catalogue::new(dir.path().join("cat"));
    for i in 0..300 {
        cat.write(&server(
            &format!("npm:demo-{i}"),
            &format!("demo-{i}"),
            (0..5)
                .map(|t| tool(&format!("tool_{t}_delete_item"), "Delete an item for good."))
                .collect(),
        ))
        .unwrap();
    }
    let site = dir.path().join("site");
    let build = |out: &Path| {
        let mut c = cmd(dir.path());
        c.args(["build", "--catalogue", cat.root.to_str().unwrap(), "--out"])
            .arg(out);
        c
    };
    let mut child = build(&site)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once pages are being written (or when it ends first: then the test still checks
    // that a rebuild over a finished build changes nothing).
    let start = Instant::now();
    while start.elapsed() < HANG {
        let pages = std::fs::read_dir(site.join("tools"))
            .map(|d| d.count())
            .unwrap_or(0);
        if pages >= 10 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let again = run_bounded(build(&site));
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let fresh = dir.path().join("fresh");
    let out = run_bounded(build(&fresh));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (a, b) = (tree(&site), tree(&fresh));
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "the same files as a fresh build");
    assert!(a == b, "the same bytes as a fresh build");
}

#[test]
fn export_sqlite_killed_with_sigkill_leaves_the_old_database_whole() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let db = dir.path().join("out.sqlite");
    let export = || {
        let mut c = cmd(dir.path());
        c.args(["export", "sqlite"])
            .arg(&db)
            .args(["--catalogue", cat.root.to_str().unwrap()]);
        c
    };
    assert_eq!(run_bounded(export()).status.code(), Some(0));
    for i in 0..200 {
        cat.write(&server(
            &format!("npm:more-{i}"),
            &format!("more-{i}"),
            vec![tool("get_x", "Get x.")],
        ))
        .unwrap();
    }
    let mut child = export()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    // Whatever moment the kill hit, the database is the old one or the new one, whole.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM servers", [], |r| r.get(0))
        .unwrap();
    assert!(n == 2 || n == 202, "{n} servers");
}

#[test]
fn export_into_a_device_writes_into_it_and_never_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let c = cat.root.to_str().unwrap();
    // A FIFO stands in for /dev/null or /dev/stdout: it must still be a FIFO afterwards.
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = run(
        dir.path(),
        &["export", "jsonl", fifo.to_str().unwrap(), "--catalogue", c],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines = reader.join().unwrap();
    assert_eq!(lines.lines().count(), 3, "{lines}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // sqlite refuses it rather than renaming a file over it.
    let out = run(
        dir.path(),
        &["export", "sqlite", fifo.to_str().unwrap(), "--catalogue", c],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("refusing to replace"),
        "{}",
        text(&out.stderr)
    );
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

/// The shipped catalogue is written as the record store writes it: every record reads back
/// the same in YAML 1.1 readers too (`normalise --check` finds nothing to change).
#[test]
fn the_shipped_catalogue_is_normalised() {
    let home = tempfile::tempdir().unwrap();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogue");
    let out = run(
        home.path(),
        &[
            "catalogue",
            "normalise",
            "--check",
            "--catalogue",
            shipped.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "records the writer would change (run `toolrisk catalogue normalise`):\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("0 would change")
            || text(&out.stdout).contains("0 would change")
    );
}
