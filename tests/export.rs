//! `toolrisk export sqlite|jsonl`: open the database and check its documented tables and rows;
//! parse every JSON line.

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use toolrisk::catalogue::Catalogue;
use toolrisk::classify::Classifier;
use toolrisk::model::{Package, Server, Tool};

fn fixture(dir: &Path) -> Catalogue {
    let cat = Catalogue::new(dir);
    let t = |v: Value| Tool::from_json(&v).unwrap();
    cat.write(&Server {
        id: "io.github.acme/files".into(),
        slug: "io-github-acme-files".into(),
        name: "Files".into(),
        description: Some("Local files.".into()),
        packages: vec![Package {
            registry: "npm".into(),
            identifier: "@acme/files".into(),
            version: Some("1.2.3".into()),
            transport: Some("stdio".into()),
        }],
        tools: vec![
            t(json!({"name":"read_file","description":"Read a file.","inputSchema":{"type":"object"},
                "annotations":{"readOnlyHint":true,"openWorldHint":false}})),
            t(json!({"name":"delete_file","description":"Delete a file.\nSecond line\u{2028}and\u{1b}[31m escape",
                "inputSchema":{"type":"object","properties":{"path":{"type":"string"}}},
                "annotations":{"destructiveHint":true}})),
        ],
        ..Server::default()
    })
    .unwrap();
    cat.write(&Server {
        id: "npm:pay".into(),
        slug: "npm-pay".into(),
        name: "Pay".into(),
        tools: vec![
            t(json!({"name":"create_payment","description":"Charge a card.","inputSchema":{"type":"object"},"_meta":{"x":1}})),
        ],
        ..Server::default()
    })
    .unwrap();
    cat
}

fn toolrisk(args: &[&str], cat: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args(args)
        .arg("--catalogue")
        .arg(cat)
        .output()
        .expect("run toolrisk")
}

#[test]
fn sqlite_export_has_the_documented_schema_and_rows() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(&dir.path().join("cat"));
    let db = dir.path().join("out.sqlite");
    let out = toolrisk(&["export", "sqlite", db.to_str().unwrap()], &cat.root);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let objects: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in [
        "meta",
        "servers",
        "packages",
        "remotes",
        "tools",
        "tool_effects",
        "evidence",
        "findings",
        "tools_fts",
        "tool_overview",
    ] {
        assert!(objects.contains(&t.to_string()), "{t} in {objects:?}");
    }
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM servers"), 2);
    assert_eq!(count("SELECT count(*) FROM tools"), 3);
    assert_eq!(count("SELECT count(*) FROM tool_overview"), 3);
    assert_eq!(
        count("SELECT count(*) FROM packages WHERE identifier = '@acme/files'"),
        1
    );
    assert_eq!(
        count("SELECT tool_count FROM servers WHERE slug = 'io-github-acme-files'"),
        2
    );
    // Declared hints as 1/0, undeclared as NULL.
    let (ro, ow, de): (Option<i64>, Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT read_only_hint, open_world_hint, destructive_hint FROM tools WHERE name = 'read_file'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((ro, ow, de), (Some(1), Some(0), None));
    // The classification stored is the classifier's, field by field.
    let classifier = Classifier::builtin();
    for s in cat.load().unwrap().servers {
        for (t, c) in s.tools.iter().zip(classifier.classify_server(&s)) {
            let (class, risk, rank, action, effects, schema, hash): (
                String,
                String,
                i64,
                String,
                String,
                String,
                String,
            ) = conn
                .query_row(
                    "SELECT t.class, t.risk, t.risk_rank, t.action, t.effects, t.input_schema,
                            t.definition_hash
                     FROM tools t JOIN servers s ON s.id = t.server
                     WHERE s.slug = ?1 AND t.name = ?2",
                    [&s.slug, &t.name],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                        ))
                    },
                )
                .unwrap();
            assert_eq!(class, c.class.as_str());
            assert_eq!(risk, c.risk.as_str());
            assert_eq!(rank, c.risk as i64);
            assert_eq!(action, c.policy.action.as_str());
            let effects: Vec<String> = serde_json::from_str(&effects).unwrap();
            let want: Vec<&str> = c.effects.iter().map(|e| e.as_str()).collect();
            assert_eq!(effects, want);
            let n_effects: i64 = conn
                .query_row(
                    "SELECT count(*) FROM tool_effects e JOIN tools t ON t.id = e.tool
                     JOIN servers s ON s.id = t.server WHERE s.slug = ?1 AND t.name = ?2",
                    [&s.slug, &t.name],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n_effects as usize, c.effects.len());
            let evidence: i64 = conn
                .query_row(
                    "SELECT count(*) FROM evidence e JOIN tools t ON t.id = e.tool
                     JOIN servers s ON s.id = t.server WHERE s.slug = ?1 AND t.name = ?2",
                    [&s.slug, &t.name],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(evidence as usize, c.evidence.len());
            let schema: Value = serde_json::from_str(&schema).unwrap();
            assert_eq!(Some(&schema), t.input_schema.as_ref());
            assert_eq!(hash, t.definition_hash());
        }
    }
    // Full-text search works as Datasette would use it.
    assert_eq!(
        count("SELECT count(*) FROM tools_fts WHERE tools_fts MATCH 'file'"),
        2
    );
    let version: String = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, toolrisk::export::SCHEMA_VERSION);
    drop(conn);

    // Exporting again replaces the file, leaving no temporary files behind.
    let out = toolrisk(&["export", "sqlite", db.to_str().unwrap()], &cat.root);
    assert_eq!(out.status.code(), Some(0));
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn jsonl_is_one_parseable_classified_tool_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let cat = fixture(dir.path());
    let out = toolrisk(&["export", "jsonl"], &cat.root);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.split('\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{text}");
    let classifier = Classifier::builtin();
    let servers = cat.load().unwrap().servers;
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap();
        let slug = v["server"]["slug"].as_str().unwrap();
        let s = servers.iter().find(|s| s.slug == slug).unwrap();
        let name = v["tool"]["name"].as_str().unwrap();
        let t = s.tools.iter().find(|t| t.name == name).unwrap();
        // The definition verbatim, and the classifier's answer.
        assert_eq!(v["tool"], t.to_json());
        let c = classifier.classify_tool(&toolrisk::classify::ServerContext::of(s), t);
        assert_eq!(v["classification"], serde_json::to_value(&c).unwrap());
        assert_eq!(v["server"]["id"], s.id.as_str());
    }
    // The newline and escape in a description stay inside their line.
    assert!(lines.iter().any(|l| l.contains("Second line")));

    let file = dir.path().join("tools.jsonl");
    let out = toolrisk(&["export", "jsonl", file.to_str().unwrap()], &cat.root);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // A broken file is left out with a warning naming it, and the exit status says so.
    std::fs::write(cat.server_path("bad"), "id: [\n").unwrap();
    let out = toolrisk(&["export", "jsonl"], &cat.root);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
}
