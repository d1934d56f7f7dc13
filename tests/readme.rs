//! The README's tour is tested: every ```console block in README.md is run (trycmd) and its
//! output compared, in a scratch copy of `tests/fixtures/` with the working folder at
//! `tests/fixtures/tour/`, whose demo catalogue this file writes with the real record store.
//! Nothing an example writes lands in the checkout (least of all the shipped catalogue).
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
}
