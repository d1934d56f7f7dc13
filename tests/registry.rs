//! Registry data as crawl input (Docker checkout, ToolHive upstream file) through the CLI: what
//! lands, with which provenance and facts; servers listed without tools are "tools not known";
//! one record per real server across sources; a record that cannot be read is never
//! overwritten; two crawls of one catalogue never lose a record.
//!
//! The fixtures under tests/fixtures/crawl/registries/ are the project's own, written in the
//! shapes of the real registries (docker/mcp-registry `servers/<name>/server.yaml` +
//! `tools.json`; ToolHive's `registry-upstream.json`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use toolrisk::catalogue::Catalogue;
use toolrisk::model::{CrawlStatus, Server};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crawl/registries")
}

fn toolrisk(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn crawl(registry: &str, base: &Path, cat: &Path) -> (i32, String, String) {
    toolrisk(&[
        "crawl",
        "--from",
        registry,
        "--base-url",
        &base.to_string_lossy(),
        "--catalogue",
        &cat.to_string_lossy(),
    ])
}

fn servers(cat: &Path) -> Vec<Server> {
    let l = Catalogue::new(cat).load().unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    l.servers
}

fn by_id<'a>(all: &'a [Server], id: &str) -> &'a Server {
    all.iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

fn sources(s: &Server) -> Vec<(String, bool)> {
    s.provenance
        .iter()
        .map(|p| (p.source.clone(), p.tools))
        .collect()
}

#[test]
fn docker_and_toolhive_land_with_provenance_facts_and_tools_not_known() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path();
    let (code, out, err) = crawl("docker", &fixtures().join("docker-multi"), cat);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("2 servers listed without their tools (tools not known)"),
        "{out}"
    );
    let all = servers(cat);
    assert_eq!(all.len(), 4);

    // Listed without tools: a distinct state, not a server with zero tools.
    let time = by_id(&all, "docker:time");
    assert_eq!(time.crawl.status, CrawlStatus::ToolsUnknown);
    assert!(time.tools.is_empty() && time.crawl.tools_hash.is_none());
    assert_eq!(sources(time), [("docker".to_string(), false)]);
    let e = &time.registry_metadata.as_ref().unwrap().entries[0];
    assert_eq!(
        (e.source.as_str(), e.id.as_str()),
        ("docker", "docker:time")
    );
    assert_eq!(e.category.as_deref(), Some("devops"));
    assert_eq!(e.tags, ["time", "devops"]);
    assert!(e.location.as_deref().unwrap().ends_with("time/server.yaml"));
    assert_eq!(
        time.repository.as_deref(),
        Some("https://github.com/example/servers/tree/HEAD/src/time")
    );
    let remote = by_id(&all, "docker:remote-only");
    assert_eq!(remote.crawl.status, CrawlStatus::ToolsUnknown);
    assert_eq!(remote.remotes[0].url, "https://mcp.example.com/mcp");

    // Tools from tools.json, arguments converted; secrets and required env recorded.
    let pay = by_id(&all, "docker:payments");
    assert_eq!(pay.crawl.status, CrawlStatus::Ok);
    assert_eq!(sources(pay), [("docker".to_string(), true)]);
    assert_eq!(pay.tools.len(), 2);
    assert_eq!(
        pay.tools[0].input_schema.as_ref().unwrap()["required"],
        serde_json::json!(["amount", "customer"])
    );
    let e = &pay.registry_metadata.as_ref().unwrap().entries[0];
    assert!(e.tool_definitions);
    assert_eq!(e.tool_names, ["charge_card", "refund"]);
    assert_eq!(e.category.as_deref(), Some("finance"));
    let env: Vec<(&str, bool, bool)> = e
        .env
        .iter()
        .map(|v| (v.name.as_str(), v.required, v.secret))
        .collect();
    assert_eq!(
        env,
        [
            ("PAYMENTS_API_KEY", true, true),
            ("PAYMENTS_MODE", true, false),
            ("PAYMENTS_REGION", false, false)
        ]
    );
    // A secret's example value is never copied into the record.
    let text = std::fs::read_to_string(cat.join("servers/docker-payments.yaml")).unwrap();
    assert!(!text.contains("sk_test_123"), "{text}");
    // A poci server's tools come from server.yaml.
    let curl = by_id(&all, "docker:curlish");
    assert_eq!(curl.tools[0].name, "curl");
    assert_eq!(
        curl.tools[0].input_schema.as_ref().unwrap()["required"],
        serde_json::json!(["args"])
    );

    // `show` and `query` do not present a tools-not-known server as one with no tools.
    let (code, out, _) = toolrisk(&[
        "show",
        "docker-remote-only",
        "--catalogue",
        &cat.to_string_lossy(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("tools not known"), "{out}");
    assert!(!out.contains("no tools catalogued"), "{out}");
    assert!(
        out.contains("env REMOTE_ONLY_TOKEN (required) (secret)"),
        "{out}"
    );
    let (_, _, err) = toolrisk(&[
        "query",
        "--server",
        "docker-remote-only",
        "--catalogue",
        &cat.to_string_lossy(),
    ]);
    assert!(err.contains("tools not known"), "{err}");

    // ToolHive on top: the same servers land in the same records.
    let th = fixtures().join("toolhive-multi.json");
    let (code, out, err) = crawl("toolhive", &th, cat);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("2 registry entries landed in the record of the same server"),
        "{out}"
    );
    let all = servers(cat);
    // 4 docker + names-only, mono-a, mono-b (the monorepo's two servers stay apart).
    assert_eq!(
        all.len(),
        7,
        "{:?}",
        all.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    assert!(all.iter().all(|s| s.id != "io.github.stacklok/time"));
    // Matched by image (docker.io/mcp/time:latest is mcp/time): ToolHive's tools fill the
    // tools-not-known record.
    let time = by_id(&all, "docker:time");
    assert_eq!(time.crawl.status, CrawlStatus::Ok);
    assert_eq!(time.tools.len(), 2);
    assert_eq!(
        sources(time),
        [
            ("docker".to_string(), false),
            ("toolhive".to_string(), true)
        ]
    );
    let ids: Vec<&str> = time
        .registry_metadata
        .as_ref()
        .unwrap()
        .entries
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids, ["docker:time", "io.github.stacklok/time"]);
    // The docker description stays (the first source speaks for the record); a blank
    // version is filled.
    assert_eq!(
        time.description.as_deref(),
        Some("Time and timezone conversion.")
    );
    assert_eq!(time.version.as_deref(), Some("1.0.0"));
    // A repository link into a folder of the same repository is no disagreement.
    assert!(time
        .registry_metadata
        .as_ref()
        .unwrap()
        .disagreements
        .is_empty());

    // Matched by repository: Docker's copy of the tools stays, the difference is recorded.
    let pay = by_id(&all, "docker:payments");
    assert_eq!(pay.tools.len(), 2);
    assert_eq!(
        sources(pay),
        [
            ("docker".to_string(), true),
            ("toolhive".to_string(), false)
        ]
    );
    let meta = pay.registry_metadata.as_ref().unwrap();
    let d = &meta.disagreements[0];
    assert_eq!(d.field, "tools");
    assert_eq!(d.detail.as_deref(), Some("only in toolhive: list_charges"));
    assert!(meta.entries[1]
        .env
        .iter()
        .any(|v| v.name == "PAYMENTS_API_KEY" && v.secret && v.required));
    let (_, out, _) = toolrisk(&[
        "show",
        "docker-payments",
        "--catalogue",
        &cat.to_string_lossy(),
    ]);
    assert!(
        out.contains("sources disagree on tools: docker says 2 tools, toolhive says 3 tools (only in toolhive: list_charges)"),
        "{out}"
    );

    // Names without definitions: still tools not known, the names kept as the registry's.
    let names = by_id(&all, "io.github.stacklok/names-only");
    assert_eq!(names.crawl.status, CrawlStatus::ToolsUnknown);
    assert!(names.tools.is_empty());
    let e = &names.registry_metadata.as_ref().unwrap().entries[0];
    assert!(!e.tool_definitions);
    assert_eq!(e.tool_names, ["alpha", "beta"]);

    // Reading both again changes nothing.
    let before: Vec<Vec<u8>> = all
        .iter()
        .map(|s| std::fs::read(cat.join(format!("servers/{}.yaml", s.slug))).unwrap())
        .collect();
    assert_eq!(crawl("docker", &fixtures().join("docker-multi"), cat).0, 0);
    assert_eq!(crawl("toolhive", &th, cat).0, 0);
    let again = servers(cat);
    assert_eq!(again.len(), 7);
    for (s, b) in again.iter().zip(&before) {
        let now = std::fs::read(cat.join(format!("servers/{}.yaml", s.slug))).unwrap();
        let strip = |t: &[u8]| -> String {
            String::from_utf8_lossy(t)
                .lines()
                .filter(|l| !l.contains("fetched_at") && !l.contains("last_"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&now), strip(b), "{}", s.slug);
        assert!(s.history.is_empty(), "{}", s.slug);
    }
}

const LAUNCHED: &str = "id: npm:@example/payments-mcp
slug: example-payments-mcp
name: '@example/payments-mcp'
version: 3.1.0
repository: https://github.com/example/payments-mcp.git
packages:
- registry: npm
  identifier: '@example/payments-mcp'
  version: 3.1.0
  transport: stdio
provenance:
- source: npm-launch
  fetched_at: 2026-11-26T14:00:02Z
  location: npx -y @example/payments-mcp@3.1.0
  tools: true
crawl:
  status: ok
  tools_hash: sha256:0
  last_success: 2026-11-26T14:00:02Z
  last_attempt: 2026-11-26T14:00:02Z
tools:
- name: charge_card
  description: Charge a card, live.
  input_schema: {type: object}
- name: refund
  description: Refund a charge, live.
  input_schema: {type: object}
- name: capture
  description: Capture an authorised charge, live.
  input_schema: {type: object}
";

const MONO: &str = "id: npm:mono-x
slug: mono-x
name: mono-x
repository: https://github.com/example/mono
packages:
- registry: npm
  identifier: mono-x
provenance:
- source: npm-launch
  fetched_at: 2026-11-26T14:00:02Z
  tools: true
crawl:
  status: ok
  tools_hash: sha256:0
tools:
- name: x1
  input_schema: {type: object}
";

#[test]
fn live_tools_win_over_registry_copies_and_entries_land_in_the_launched_record() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path();
    std::fs::create_dir_all(cat.join("servers")).unwrap();
    std::fs::write(cat.join("servers/example-payments-mcp.yaml"), LAUNCHED).unwrap();
    std::fs::write(cat.join("servers/mono-x.yaml"), MONO).unwrap();
    let mono_before = std::fs::read(cat.join("servers/mono-x.yaml")).unwrap();

    let (code, out, err) = crawl("docker", &fixtures().join("docker-multi"), cat);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 registry entries landed"), "{out}");
    assert!(!cat.join("servers/docker-payments.yaml").exists());
    let all = servers(cat);
    let rec = by_id(&all, "npm:@example/payments-mcp");
    // The live tools stay, untouched, and the launched package still names the record.
    assert_eq!(
        rec.tools
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["charge_card", "refund", "capture"]
    );
    assert_eq!(
        rec.tools[0].description.as_deref(),
        Some("Charge a card, live.")
    );
    assert_eq!(rec.name, "@example/payments-mcp");
    assert_eq!(
        sources(rec),
        [
            ("npm-launch".to_string(), true),
            ("docker".to_string(), false)
        ]
    );
    assert!(rec
        .packages
        .iter()
        .any(|p| p.registry == "oci" && p.identifier == "mcp/payments"));
    assert!(rec.history.is_empty());
    let meta = rec.registry_metadata.as_ref().unwrap();
    assert_eq!(meta.entries[0].id, "docker:payments");
    assert_eq!(meta.entries[0].category.as_deref(), Some("finance"));
    assert_eq!(meta.disagreements.len(), 1);
    assert_eq!(
        meta.disagreements[0].detail.as_deref(),
        Some("only in npm-launch: capture")
    );

    // ToolHive: matched by repository too (the record is the only one claiming it);
    // its version differs from the launched package's, and that is recorded.
    let (code, out, err) = crawl("toolhive", &fixtures().join("toolhive-multi.json"), cat);
    assert_eq!(code, 0, "{out}{err}");
    let all = servers(cat);
    let rec = by_id(&all, "npm:@example/payments-mcp");
    assert_eq!(rec.tools.len(), 3);
    assert_eq!(rec.version.as_deref(), Some("3.1.0"));
    let meta = rec.registry_metadata.as_ref().unwrap();
    let fields: Vec<&str> = meta
        .disagreements
        .iter()
        .map(|d| d.field.as_str())
        .collect();
    assert_eq!(fields, ["tools", "tools", "version"], "{meta:?}");
    let v = meta
        .disagreements
        .iter()
        .find(|d| d.field == "version")
        .unwrap();
    let vals: Vec<(&str, &str)> = v
        .values
        .iter()
        .map(|x| (x.source.as_str(), x.value.as_str()))
        .collect();
    assert_eq!(vals, [("npm-launch", "3.1.0"), ("toolhive", "2.0.0")]);
    let (_, out, _) = toolrisk(&[
        "show",
        "example-payments-mcp",
        "--catalogue",
        &cat.to_string_lossy(),
    ]);
    assert!(
        out.contains("sources: npm-launch (tools), docker, toolhive"),
        "{out}"
    );
    assert!(
        out.contains("sources disagree on version: npm-launch says 3.1.0, toolhive says 2.0.0"),
        "{out}"
    );
    // Two ToolHive servers share the monorepo of mono-x: neither lands in it.
    assert_eq!(
        std::fs::read(cat.join("servers/mono-x.yaml")).unwrap(),
        mono_before
    );
    assert!(all.iter().any(|s| s.id == "io.github.stacklok/mono-a"));
    assert!(all.iter().any(|s| s.id == "io.github.stacklok/mono-b"));
}

#[test]
fn a_record_that_fails_to_parse_is_left_untouched_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path();
    std::fs::create_dir_all(cat.join("servers")).unwrap();
    // The record of docker:payments with one unknown field: its tools and history must
    // survive a crawl that cannot read it.
    let broken = "id: docker:payments\nslug: docker-payments\nname: Payments\ncolour: red\ntools:\n- name: charge_card\nhistory:\n- at: 2026-01-01T00:00:00Z\n  tool: charge_card\n  change: added\n";
    let path = cat.join("servers/docker-payments.yaml");
    std::fs::write(&path, broken).unwrap();
    let (code, out, err) = crawl("docker", &fixtures().join("docker-multi"), cat);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    let all = format!("{out}{err}");
    assert!(all.contains("docker-payments.yaml"), "{all}");
    assert!(all.contains("colour"), "{all}");
    assert!(all.contains("left untouched"), "{all}");
    // The other servers still land.
    let l = Catalogue::new(cat).load().unwrap();
    assert_eq!(l.servers.len(), 3);
    assert_eq!(l.errors.len(), 1);
    // And a second crawl does not overwrite it either.
    let (code, _, _) = crawl("docker", &fixtures().join("docker-multi"), cat);
    assert_eq!(code, 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

/// A ToolHive upstream file of `n` servers `io.github.<owner>/server-<i>`: two owners give
/// two sets of different servers whose slugs collide one for one.
fn toolhive_file(dir: &Path, owner: &str, n: usize) -> PathBuf {
    let servers: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "name": format!("io.github.{owner}/server-{i}"),
                "description": format!("{owner} server {i}"),
                "version": "1.0.0",
                "_meta": {"io.modelcontextprotocol.registry/publisher-provided": {"x": {"u": {
                    "tool_definitions": [{"name": format!("tool_{i}"), "inputSchema": {"type": "object"}}]
                }}}}
            })
        })
        .collect();
    let path = dir.join(format!("{owner}.json"));
    std::fs::write(
        &path,
        serde_json::to_string(&serde_json::json!({"data": {"servers": servers}})).unwrap(),
    )
    .unwrap();
    path
}

#[test]
fn two_concurrent_crawls_adding_the_same_slugs_keep_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("cat");
    let n = 150;
    let a = toolhive_file(dir.path(), "alpha", n);
    let b = toolhive_file(dir.path(), "beta", n);
    let spawn = |f: &Path| {
        Command::new(env!("CARGO_BIN_EXE_toolrisk"))
            .args(["crawl", "-q", "--from", "toolhive", "--base-url"])
            .arg(f)
            .arg("--catalogue")
            .arg(&cat)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    assert!(
        oa.status.success(),
        "{}",
        String::from_utf8_lossy(&oa.stderr)
    );
    assert!(
        ob.status.success(),
        "{}",
        String::from_utf8_lossy(&ob.stderr)
    );
    let all = servers(&cat);
    assert_eq!(all.len(), 2 * n);
    for owner in ["alpha", "beta"] {
        for i in 0..n {
            let s = by_id(&all, &format!("io.github.{owner}/server-{i}"));
            assert_eq!(s.tools[0].name, format!("tool_{i}"));
        }
    }
}

#[test]
fn a_second_crawl_waits_for_the_catalogue_lock() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("cat");
    let f = toolhive_file(dir.path(), "gamma", 1);
    let lock = Catalogue::new(&cat).lock_for_writing(|_| ()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args(["crawl", "--from", "toolhive", "--base-url"])
        .arg(&f)
        .arg("--catalogue")
        .arg(&cat)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the crawl finished while another writer held the lock"
    );
    assert!(!cat.join("servers/server-0.yaml").exists());
    drop(lock);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("another crawl is writing this catalogue; waiting"),
        "{err}"
    );
    assert!(cat.join("servers/server-0.yaml").exists());
}

#[test]
fn crawl_format_json_reports_every_server() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().to_string_lossy().into_owned();
    let base = fixtures().join("docker-multi");
    let (code, out, err) = toolrisk(&[
        "crawl",
        "--from",
        "docker",
        "--base-url",
        &base.to_string_lossy(),
        "--catalogue",
        &cat,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["servers"], 4);
    assert_eq!(v["tools_unknown"], 2);
    assert_eq!(v["tools"]["total"], 3);
    let mut got: Vec<(String, String, u64)> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["slug"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
                r["tools"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("docker-curlish", "ok", 1),
        ("docker-payments", "ok", 2),
        ("docker-remote-only", "tools_unknown", 0),
        ("docker-time", "tools_unknown", 0),
    ];
    assert_eq!(got, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c)));
}
