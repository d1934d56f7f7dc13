//! The GitHub Action (action.yml) run locally, without GitHub: its shell steps are taken from
//! the YAML and run with bash the way the runner does (`bash --noprofile --norc -eo pipefail`),
//! with `${{ … }}` expressions filled from the inputs, earlier steps' outputs and the runner
//! context, and the install step pointed at the binary under test (`toolrisk-path`). The
//! server is the fixture stdio server. Also the pre-commit hooks, run by their entries.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_toolrisk");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap()).unwrap()
}

struct StepRun {
    id: String,
    code: i32,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
}

struct ActionRun {
    steps: Vec<StepRun>,
    summary: String,
}

impl ActionRun {
    fn step(&self, id: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id}"))
    }
}

/// Fills `${{ … }}` the way the runner would, for the expressions action.yml uses; any other
/// expression fails the test (so the action cannot grow one this emulation ignores).
fn expand(s: &str, ctx: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").expect("closed expression") + i;
        let expr = rest[i + 3..j].trim();
        let v = ctx
            .get(expr)
            .unwrap_or_else(|| panic!("expression `{expr}` not emulated"));
        out.push_str(v);
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Runs every `run:` step of action.yml in order, stopping at the first failing one, as the
/// runner does. `uses:` steps (the cache) are not run.
fn run_action(inputs: &[(&str, &str)], work: &Path) -> ActionRun {
    let a = action();
    let mut ctx = BTreeMap::new();
    for (name, def) in a["inputs"].as_mapping().unwrap() {
        let default = def["default"].as_str().unwrap_or_default().to_string();
        ctx.insert(format!("inputs.{}", name.as_str().unwrap()), default);
    }
    for (k, v) in inputs {
        assert!(
            ctx.contains_key(&format!("inputs.{k}")),
            "action.yml has no input {k}"
        );
        ctx.insert(format!("inputs.{k}"), v.to_string());
    }
    let tool_cache = work.join("tool-cache");
    std::fs::create_dir_all(&tool_cache).unwrap();
    ctx.insert(
        "github.action_path".into(),
        root().to_string_lossy().into_owned(),
    );
    ctx.insert("runner.os".into(), "Linux".into());
    ctx.insert(
        "runner.tool_cache".into(),
        tool_cache.to_string_lossy().into_owned(),
    );
    let summary = work.join("summary.md");
    let mut steps = Vec::new();
    for step in a["runs"]["steps"].as_sequence().unwrap() {
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        let id = step["id"].as_str().unwrap_or("").to_string();
        let out_file = work.join(format!("output-{id}"));
        std::fs::write(&out_file, "").unwrap();
        let script_file = work.join(format!("step-{id}.sh"));
        std::fs::write(&script_file, script).unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(root())
            .env("GITHUB_OUTPUT", &out_file)
            .env("GITHUB_STEP_SUMMARY", &summary);
        if let Some(env) = step["env"].as_mapping() {
            for (k, v) in env {
                cmd.env(k.as_str().unwrap(), expand(v.as_str().unwrap(), &ctx));
            }
        }
        let o = cmd.output().expect("runs bash");
        let mut outputs = BTreeMap::new();
        for line in std::fs::read_to_string(&out_file).unwrap().lines() {
            if let Some((k, v)) = line.split_once('=') {
                outputs.insert(k.to_string(), v.to_string());
                ctx.insert(format!("steps.{id}.outputs.{k}"), v.to_string());
            }
        }
        let code = o.status.code().unwrap_or(-1);
        steps.push(StepRun {
            id,
            code,
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            outputs,
        });
        if code != 0 {
            break;
        }
    }
    ActionRun {
        steps,
        summary: std::fs::read_to_string(&summary).unwrap_or_default(),
    }
}

fn fixture_tools() -> String {
    json!([
        {"name": "get_time", "description": "Get the current time.", "inputSchema": {"type": "object"}},
        {"name": "run_command", "description": "Run a shell command.",
         "inputSchema": {"type": "object", "properties": {"command": {"type": "string"}}}}
    ])
    .to_string()
}

#[test]
fn action_yml_is_a_composite_action_whose_scripts_take_inputs_only_from_env() {
    let a = action();
    assert_eq!(a["runs"]["using"].as_str(), Some("composite"));
    let inputs = a["inputs"].as_mapping().unwrap();
    for want in [
        "stdio",
        "url",
        "file",
        "fail-on",
        "baseline",
        "sarif-file",
        "source",
        "toolrisk-path",
    ] {
        assert!(inputs.contains_key(want), "input {want}");
    }
    let mut uses = Vec::new();
    for step in a["runs"]["steps"].as_sequence().unwrap() {
        if let Some(u) = step["uses"].as_str() {
            uses.push(u.to_string());
            continue;
        }
        let run = step["run"].as_str().expect("a step runs or uses");
        assert_eq!(step["shell"].as_str(), Some("bash"));
        assert!(
            !run.contains("${{"),
            "no expression spliced into a script: {run}"
        );
    }
    assert_eq!(uses, ["actions/cache@v4"]);
    let install = a["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str() == Some("install"))
        .unwrap();
    assert!(install["run"]
        .as_str()
        .unwrap()
        .contains("cargo install --locked --path \"$ACTION_PATH\""));
}

#[test]
fn action_checks_a_stdio_server_fails_on_risk_and_writes_sarif() {
    let work = tempfile::tempdir().unwrap();
    let sarif = work.path().join("toolrisk.sarif");
    let env = format!("TOOLS_JSON={}\nUNUSED=1", fixture_tools());
    let r = run_action(
        &[
            ("toolrisk-path", BIN),
            ("stdio", "python3 tests/fixtures/check/server.py"),
            ("env", &env),
            ("server", "fixture"),
            ("fail-on", "high"),
            ("sarif-file", sarif.to_str().unwrap()),
        ],
        work.path(),
    );
    assert_eq!(r.step("key").code, 0, "{}", r.step("key").stderr);
    assert!(r.step("key").outputs["key"].starts_with("toolrisk-Linux-"));
    assert_eq!(r.step("install").outputs["bin"], BIN);
    let check = r.step("check");
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert_eq!(check.outputs["exit-code"], "1");
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("::error ") && l.contains("risk/execute (run_command)")),
        "{}",
        check.stdout
    );
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(
        |r| r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "fixture/run_command"
    ));
    assert!(r.summary.contains("Failed"), "{}", r.summary);
}

#[test]
fn action_passes_a_file_against_its_own_lock_and_fails_on_drift() {
    let work = tempfile::tempdir().unwrap();
    let tools = work.path().join("tools.json");
    std::fs::write(&tools, format!("{{\"tools\": {}}}", fixture_tools())).unwrap();
    let lock = work.path().join("toolrisk.lock");
    let o = Command::new(BIN)
        .args([
            "lock",
            tools.to_str().unwrap(),
            "--out",
            lock.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let inputs = [
        ("toolrisk-path", BIN),
        ("file", tools.to_str().unwrap()),
        ("baseline", lock.to_str().unwrap()),
    ];
    let r = run_action(&inputs, work.path());
    assert_eq!(
        r.step("check").code,
        0,
        "{}{}",
        r.step("check").stdout,
        r.step("check").stderr
    );
    assert!(r.summary.contains("Passed"));

    std::fs::write(
        &tools,
        fixture_tools().replace("Get the current time.", "Get the current time and date."),
    )
    .unwrap();
    let r = run_action(&inputs, work.path());
    let check = r.step("check");
    assert_eq!(check.code, 1, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains("lock/changed (get_time)"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("[-time.-]{+time and date.+}"),
        "{}",
        check.stdout
    );
}

#[test]
fn action_refuses_no_input_and_does_not_run_injected_shell() {
    let work = tempfile::tempdir().unwrap();
    let r = run_action(&[("toolrisk-path", BIN)], work.path());
    let check = r.step("check");
    assert_eq!(check.code, 2);
    assert!(
        check
            .stdout
            .contains("::error title=toolrisk::give exactly one of"),
        "{}",
        check.stdout
    );

    let marker = work.path().join("pwned");
    let evil = format!("$(touch {m}) `touch {m}`; touch {m}", m = marker.display());
    let r = run_action(
        &[
            ("toolrisk-path", BIN),
            ("file", "tests/fixtures/classify/check/input.json"),
            ("server", &evil),
        ],
        work.path(),
    );
    assert!(r.step("check").code == 0 || r.step("check").code == 1);
    assert!(!marker.exists(), "an input was run as shell code");
}

#[test]
fn pre_commit_hooks_run_their_entries() {
    let hooks: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .unwrap();
    let hooks = hooks.as_sequence().unwrap();
    let work = tempfile::tempdir().unwrap();
    let tools = work.path().join("tools.json");
    std::fs::write(&tools, format!("{{\"tools\": {}}}", fixture_tools())).unwrap();
    let o = Command::new(BIN)
        .current_dir(work.path())
        .args(["lock", "tools.json"])
        .output()
        .unwrap();
    assert!(o.status.success());
    for h in hooks {
        assert_eq!(h["language"].as_str(), Some("rust"));
        assert_eq!(h["pass_filenames"].as_bool(), Some(false));
        let entry: Vec<&str> = h["entry"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(entry[0], "toolrisk");
        let id = h["id"].as_str().unwrap();
        // As a user would configure it: the input in `args`.
        let run = |extra: &[&str]| {
            Command::new(BIN)
                .current_dir(work.path())
                .args(&entry[1..])
                .args(extra)
                .output()
                .unwrap()
        };
        let o = run(&["tools.json"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{id}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = run(&["tools.json", "--fail-on", "high"]);
        assert_eq!(o.status.code(), Some(1), "{id} fails on risk");
    }
}
