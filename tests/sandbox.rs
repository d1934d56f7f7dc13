//! The sandbox of launched servers, proved with a hostile MCP server of our own
//! (tests/fixtures/sandbox/escape_server.py) started through the real CLI under the real
//! bubblewrap (installed by scripts/setup.d/sandbox.sh): it tries to read a file in the real
//! HOME, write outside its scratch folder and into the system, list the catalogue, connect to
//! a listener on 127.0.0.1, fork without bound, allocate 8 GiB and write past the file-size
//! limit. Every attempt must fail and be visible, and the crawl must still record its tools.

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use toolrisk::model::Server;

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sandbox/escape_server.py")
        .to_string_lossy()
        .into_owned()
}

fn run(args: &[&str], env: &[(&str, &str)], path: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_toolrisk"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd.output().expect("run toolrisk");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ),
    )
}

fn crawl_fixture(cat: &Path, envs: &[(&str, String)], extra: &[&str]) -> (i32, String) {
    let cmd = format!("python3 {}", fixture());
    let mut args: Vec<String> = vec![
        "crawl".into(),
        "--catalogue".into(),
        cat.to_string_lossy().into_owned(),
        "--stdio".into(),
        cmd,
    ];
    for (k, v) in envs {
        args.push("--env".into());
        args.push(format!("{k}={v}"));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs, &[], None)
}

fn only_record(cat: &Path) -> Server {
    let dir = cat.join("servers");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    serde_yaml::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap()
}

/// The server's own report, from the description of its `escape_report` tool.
fn report(rec: &Server) -> BTreeMap<String, Value> {
    let t = rec
        .tools
        .iter()
        .find(|t| t.name == "escape_report")
        .expect("the report tool was recorded");
    serde_json::from_str(t.description.as_deref().unwrap()).unwrap()
}

/// A file in the real HOME, removed at the end.
struct HomeFile(PathBuf);

impl HomeFile {
    fn new(content: &str) -> HomeFile {
        let home = std::env::var("HOME").expect("HOME");
        let p = Path::new(&home).join(format!(".toolrisk-sandbox-test-{}.txt", std::process::id()));
        std::fs::write(&p, content).unwrap();
        HomeFile(p)
    }
}

impl Drop for HomeFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn processes_running(needle: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn hostile_server_escape_attempts_all_fail_and_its_tools_are_recorded() {
    let canary = format!("canary-{}-secret", std::process::id());
    let secret = HomeFile::new(&canary);
    let outside = tempfile::tempdir().unwrap();
    let outside_file = outside.path().join("escaped.txt");
    let cat = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();

    let (code, stderr) = crawl_fixture(
        cat.path(),
        &[
            ("ESCAPE_HOME_FILE", secret.0.to_string_lossy().into_owned()),
            (
                "ESCAPE_OUTSIDE_FILE",
                outside_file.to_string_lossy().into_owned(),
            ),
            (
                "ESCAPE_CATALOGUE",
                cat.path().to_string_lossy().into_owned(),
            ),
            ("ESCAPE_PORT", port.to_string()),
        ],
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    let rec = only_record(cat.path());
    // The crawl still records the server's tools.
    let mut names: Vec<&str> = rec.tools.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["delete_everything", "escape_report"]);
    let r = report(&rec);
    let text = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    for attempt in [
        "home_read",
        "write_outside",
        "write_system",
        "list_catalogue",
        "connect",
        "fork",
        "memory",
        "file_size",
    ] {
        assert!(
            text(attempt).starts_with("blocked:"),
            "{attempt} was not stopped: {}",
            text(attempt)
        );
    }
    // What stopped each one.
    assert!(text("home_read").contains("No such file"), "{r:?}");
    assert!(
        text("write_system").contains("Read-only file system"),
        "{r:?}"
    );
    assert!(
        text("connect").contains("refused") || text("connect").contains("unreachable"),
        "{r:?}"
    );
    let forked: usize = text("fork")
        .split("after ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("fork report names a count");
    assert!(forked < 1000, "fork stopped only after {forked}");
    assert!(text("memory").contains("MemoryError"), "{r:?}");
    assert!(text("file_size").contains("File too large"), "{r:?}");
    // The control: its own working folder is writable, so the server did run its attempts.
    assert!(text("write_work").starts_with("ESCAPED"), "{r:?}");
    // Its HOME is the private one, not ours.
    assert!(text("home").starts_with("/tmp/toolrisk-crawl/"), "{r:?}");
    // Nothing reached the host.
    assert!(!outside_file.exists());
    assert!(
        listener.accept().is_err(),
        "the server connected to 127.0.0.1"
    );
    let yaml = std::fs::read_to_string(
        cat.path()
            .join("servers")
            .join(format!("{}.yaml", rec.slug)),
    )
    .unwrap();
    assert!(!yaml.contains(&canary), "the secret reached the record");
    // The forked children died with the sandbox.
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = processes_running("escape_server.py");
        if left == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(
        left, 0,
        "processes of the hostile server survived the crawl"
    );
}

#[test]
fn without_bubblewrap_launching_is_refused_unless_no_sandbox() {
    // A PATH with python3 but no bwrap.
    let bin = tempfile::tempdir().unwrap();
    let python = which("python3");
    std::os::unix::fs::symlink(&python, bin.path().join("python3")).unwrap();
    let path = bin.path().to_string_lossy().into_owned();
    let cat = tempfile::tempdir().unwrap();
    let secret = HomeFile::new("unconfined-canary");
    let cmd = format!("{} {}", python.display(), fixture());
    let cat_s = cat.path().to_string_lossy().into_owned();
    let home_env = format!("ESCAPE_HOME_FILE={}", secret.0.display());
    let base = [
        "crawl",
        "--catalogue",
        &cat_s,
        "--stdio",
        &cmd,
        "--env",
        "ESCAPE_ONLY=home_read",
        "--env",
        &home_env,
    ];
    let (code, stderr) = run(&base, &[], Some(&path));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bubblewrap") && stderr.contains("--no-sandbox"),
        "{stderr}"
    );
    assert!(!cat.path().join("servers").exists() || only_record_count(cat.path()) == 0);

    let mut args = base.to_vec();
    args.push("--no-sandbox");
    let (code, stderr) = run(&args, &[], Some(&path));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("WITHOUT a sandbox"), "{stderr}");
    // Unconfined really is unconfined: the same attempt now reads the file.
    let r = report(&only_record(cat.path()));
    assert_eq!(
        r["home_read"].as_str(),
        Some("ESCAPED: unconfined-canary"),
        "{r:?}"
    );
}

fn only_record_count(cat: &Path) -> usize {
    std::fs::read_dir(cat.join("servers"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The real interpreter behind `python3` (not a pyenv shim, which needs more of PATH).
fn which(p: &str) -> PathBuf {
    let out = Command::new(p)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn proxy_variables_reach_launched_servers_only_with_pass_proxy() {
    let proxy = "http://user:hunter2@proxy.invalid:3128";
    for (flag, expect) in [(None, ""), (Some("--pass-proxy"), proxy)] {
        let cat = tempfile::tempdir().unwrap();
        let cmd = format!("python3 {}", fixture());
        let cat_s = cat.path().to_string_lossy().into_owned();
        let mut args = vec![
            "crawl",
            "--catalogue",
            &cat_s,
            "--stdio",
            &cmd,
            "--env",
            "ESCAPE_ONLY=write_work",
        ];
        args.extend(flag);
        let (code, stderr) = run(&args, &[("HTTPS_PROXY", proxy)], None);
        assert_eq!(code, 0, "{stderr}");
        let r = report(&only_record(cat.path()));
        assert_eq!(r["proxy"].as_str(), Some(expect), "{flag:?}");
    }
}

#[test]
fn server_stderr_reaches_the_terminal_with_control_sequences_escaped() {
    let cat = tempfile::tempdir().unwrap();
    let (code, stderr) = crawl_fixture(
        cat.path(),
        &[("ESCAPE_MODE", "fail".to_string())],
        &["--init-timeout", "60"],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("\\x1b]0;pwned\\x07"), "{stderr}");
}

#[test]
fn unchanged_package_versions_are_skipped_unless_force() {
    let cat = tempfile::tempdir().unwrap();
    let sources = cat.path().join("sources.yaml");
    let write = |version: &str| {
        std::fs::write(
            &sources,
            format!(
                "servers:\n  - package: {{registry: npm, identifier: escape-server, version: \"{version}\"}}\n    command: \"python3 {}\"\n    env: {{ESCAPE_ONLY: write_work}}\n",
                fixture()
            ),
        )
        .unwrap();
    };
    let crawl = |extra: &[&str]| {
        let s = sources.to_string_lossy().into_owned();
        let c = cat.path().to_string_lossy().into_owned();
        let mut args = vec!["crawl", "--catalogue", &c, "--sources", &s, "--launch"];
        args.extend(extra);
        run(&args, &[], None)
    };
    write("1.0.0");
    let (code, out) = crawl(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 ok"), "{out}");
    let (code, out) = crawl(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("version unchanged") && out.contains("1 skipped"),
        "{out}"
    );
    let (code, out) = crawl(&["--force"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 ok") && !out.contains("skipped"), "{out}");
    write("1.0.1");
    let (code, out) = crawl(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 ok") && !out.contains("skipped"), "{out}");
}

/// A launch that joined another source's record (a registry's, which lists its own package
/// first) is skipped too when its version has not changed: the package is found by name.
#[test]
fn an_unchanged_launch_that_joined_a_registry_record_is_skipped() {
    use toolrisk::model::Package;
    let cat = tempfile::tempdir().unwrap();
    let pkg = |registry: &str, identifier: &str| Package {
        registry: registry.into(),
        identifier: identifier.into(),
        version: None,
        transport: Some("stdio".into()),
    };
    toolrisk::catalogue::Catalogue::new(cat.path())
        .write(&Server {
            id: "docker:escape".into(),
            slug: "docker-escape".into(),
            name: "escape".into(),
            packages: vec![pkg("oci", "mcp/escape"), pkg("npm", "escape-server")],
            ..Server::default()
        })
        .unwrap();
    let sources = cat.path().join("sources.yaml");
    std::fs::write(
        &sources,
        format!(
            "servers:\n  - package: {{registry: npm, identifier: escape-server, version: \"1.0.0\"}}\n    command: \"python3 {}\"\n    env: {{ESCAPE_ONLY: write_work}}\n",
            fixture()
        ),
    )
    .unwrap();
    let s = sources.to_string_lossy().into_owned();
    let c = cat.path().to_string_lossy().into_owned();
    let args = ["crawl", "--catalogue", &c, "--sources", &s, "--launch"];
    let (code, out) = run(&args, &[], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 ok"), "{out}");
    let records: Vec<_> = std::fs::read_dir(cat.path().join("servers"))
        .unwrap()
        .collect();
    assert_eq!(
        records.len(),
        1,
        "the launch joins the registry's record: {out}"
    );
    let (code, out) = run(&args, &[], None);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("version unchanged") && out.contains("1 skipped"),
        "{out}"
    );
}
