//! `check --format sarif` against the published SARIF 2.1.0 JSON Schema (OASIS errata 01, kept
//! in tests/fixtures/sarif/) for a clean, a failing and a suppressed run, plus what GitHub
//! code scanning needs beyond the schema: a physical location per result, non-empty rule
//! texts, stable `partialFingerprints`, suppressed results kept as suppressed.

use serde_json::Value;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_toolrisk");
const INPUT: &str = "tests/fixtures/classify/check/input.json";

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs toolrisk");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(s) = stdin {
        use std::io::Write;
        input.write_all(s.as_bytes()).expect("writes stdin");
    }
    drop(input);
    child.wait_with_output().expect("waits")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sarif_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(o)))
}

/// Every schema violation, as text; empty when valid.
fn violations(sarif: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/sarif/sarif-schema-2.1.0.json").unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().unwrap()
}

/// What GitHub's SARIF support page marks required, checked on every result and rule.
fn assert_github_shape(sarif: &Value, with_files: bool) {
    assert_eq!(sarif["version"], "2.1.0");
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "toolrisk");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for r in rules {
        for k in ["shortDescription", "fullDescription", "help"] {
            let t = r[k]["text"].as_str().unwrap_or_default();
            assert!(!t.trim().is_empty(), "rule {} has no {k}", r["id"]);
        }
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 1024
        );
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "rule ids are unique");
    for res in results(sarif) {
        let id = res["ruleId"].as_str().unwrap();
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(ids[idx], id, "ruleIndex points at the rule");
        assert!(!res["message"]["text"].as_str().unwrap().is_empty());
        assert!(res["partialFingerprints"]["primaryLocationLineHash"].is_string());
        let loc = &res["locations"][0];
        assert!(loc["logicalLocations"][0]["fullyQualifiedName"].is_string());
        if with_files {
            let phys = &loc["physicalLocation"];
            assert!(!phys["artifactLocation"]["uri"].as_str().unwrap().is_empty());
            for k in ["startLine", "startColumn", "endLine", "endColumn"] {
                assert!(phys["region"][k].as_u64().unwrap() >= 1, "{k} in {res}");
            }
        }
    }
}

#[test]
fn sarif_clean_run_is_valid_and_has_no_results() {
    let safe = r#"{"tools":[{"name":"get_time","description":"Get the current time.","inputSchema":{"type":"object"}}]}"#;
    let o = run(
        &["check", "-", "--format", "sarif", "--fail-on", "high"],
        Some(safe),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = sarif_of(&o);
    assert_eq!(violations(&s), Vec::<String>::new());
    assert!(results(&s).is_empty());
    assert_github_shape(&s, false);
    assert!(stderr(&o).contains("pass --source FILE"), "{}", stderr(&o));
}

#[test]
fn the_schema_check_catches_broken_sarif() {
    let o = run(&["check", INPUT, "--format", "sarif"], None);
    let good = sarif_of(&o);
    assert_eq!(violations(&good), Vec::<String>::new());
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(
        !violations(&bad).is_empty(),
        "a bad level is caught (deep in a $ref)"
    );
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!violations(&bad).is_empty(), "line 0 is caught");
    let mut bad = good;
    bad["runs"][0]["results"][0]["suppressions"] = serde_json::json!([{"kind": "somewhere"}]);
    assert!(
        !violations(&bad).is_empty(),
        "a bad suppression kind is caught"
    );
}

#[test]
fn sarif_failing_run_is_valid_with_lines_in_the_source() {
    let o = run(
        &["check", INPUT, "--format", "sarif", "--fail-on", "high"],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let s = sarif_of(&o);
    assert_eq!(violations(&s), Vec::<String>::new());
    assert_github_shape(&s, true);
    let rs = results(&s);
    let run_cmd = rs
        .iter()
        .find(|r| {
            r["properties"]["tool"] == "run_command"
                && r["ruleId"].as_str().unwrap().starts_with("risk/")
        })
        .expect("a risk result for run_command");
    assert_eq!(run_cmd["level"], "error");
    let line = run_cmd["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap();
    let text = std::fs::read_to_string(INPUT).unwrap();
    let at = text.lines().nth(line as usize - 1).unwrap();
    assert!(
        at.contains("run_command") || at.contains("Run a shell"),
        "line {line}: {at}"
    );
    // One result per finding: the hidden instructions in `add`.
    assert!(rs
        .iter()
        .any(|r| r["ruleId"] == "finding/hidden_instructions" && r["properties"]["tool"] == "add"));
    // Below --fail-on: no risk result (findings are always reported).
    let lows: Vec<&Value> = rs
        .iter()
        .filter(|r| {
            r["properties"]["tool"] == "get_time"
                && r["ruleId"].as_str().unwrap().starts_with("risk/")
        })
        .collect();
    assert!(lows.is_empty(), "{lows:?}");
}

#[test]
fn sarif_fingerprints_survive_moved_lines_and_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let moved = dir.path().join("tools.json");
    let text = std::fs::read_to_string(INPUT).unwrap();
    std::fs::write(&moved, format!("\n\n\n{text}")).unwrap();
    let fps = |file: &str| -> Vec<(String, u64)> {
        let o = run(
            &["check", file, "--format", "sarif", "--server", "demo"],
            None,
        );
        results(&sarif_of(&o))
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["primaryLocationLineHash"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect()
    };
    let a = fps(INPUT);
    let b = fps(moved.to_str().unwrap());
    assert_eq!(
        a,
        fps(INPUT),
        "the same run twice gives the same fingerprints"
    );
    assert_eq!(a.len(), b.len());
    for ((fa, la), (fb, lb)) in a.iter().zip(&b) {
        assert_eq!(fa, fb, "fingerprints do not depend on the line");
        assert_eq!(la + 3, *lb, "locations follow the text");
    }
    let mut uniq: Vec<&String> = a.iter().map(|(f, _)| f).collect();
    uniq.sort();
    uniq.dedup();
    assert_eq!(
        uniq.len(),
        a.len(),
        "distinct results have distinct fingerprints (duplicates numbered)"
    );
}

#[test]
fn sarif_suppressed_run_keeps_results_marked_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("toolrisk.toml");
    std::fs::write(
        &cfg,
        "fail-on = \"high\"\n\n[[suppress]]\ntool = \"*\"\nid = \"risk\"\nreason = \"every tool runs behind an approval gateway\"\n\n[[suppress]]\ntool = \"add\"\nid = \"finding/hidden_instructions\"\nreason = \"a test fixture for poisoning\"\n",
    )
    .unwrap();
    let o = run(
        &[
            "check",
            INPUT,
            "--format",
            "sarif",
            "--config",
            cfg.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "all failing results are suppressed: {}",
        stderr(&o)
    );
    let s = sarif_of(&o);
    assert_eq!(violations(&s), Vec::<String>::new());
    assert_github_shape(&s, true);
    let rs = results(&s);
    let risk: Vec<&Value> = rs
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("risk/"))
        .collect();
    assert!(
        risk.len() >= 4,
        "suppressed results are kept: {}",
        risk.len()
    );
    for r in &risk {
        assert_eq!(r["suppressions"][0]["kind"], "external");
        assert_eq!(
            r["suppressions"][0]["justification"],
            "every tool runs behind an approval gateway"
        );
    }
    let hidden = rs
        .iter()
        .find(|r| r["ruleId"] == "finding/hidden_instructions")
        .unwrap();
    assert_eq!(
        hidden["suppressions"][0]["justification"],
        "a test fixture for poisoning"
    );
    let unsuppressed = rs
        .iter()
        .find(|r| r["ruleId"] == "finding/schema_missing_type")
        .unwrap();
    assert!(unsuppressed.get("suppressions").is_none());

    // Without the suppressions the same run fails (the file's fail-on applies).
    std::fs::write(&cfg, "fail-on = \"high\"\n").unwrap();
    let o = run(
        &[
            "check",
            INPUT,
            "--format",
            "sarif",
            "--config",
            cfg.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn suppression_without_a_reason_is_an_error_naming_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("toolrisk.toml");
    std::fs::write(
        &cfg,
        "[[suppress]]\ntool = \"run_command\"\nid = \"risk\"\n",
    )
    .unwrap();
    let o = run(&["check", INPUT, "--config", cfg.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains(
            "toolrisk.toml: suppress[0] (tool `run_command`, id `risk`): `reason` is missing"
        ),
        "{e}"
    );
    std::fs::write(&cfg, "fail-on = \"high\"\nfailon = \"low\"\n").unwrap();
    let o = run(&["check", INPUT, "--config", cfg.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("failon"), "{}", stderr(&o));
}

#[test]
fn sarif_file_is_written_beside_github_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("toolrisk.sarif");
    let o = run(
        &[
            "check",
            INPUT,
            "--format",
            "github",
            "--fail-on",
            "critical",
            "--sarif",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("::"));
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(violations(&s), Vec::<String>::new());
    assert!(!results(&s).is_empty());
}
