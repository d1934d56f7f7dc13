//! Exports of the classified catalogue: a SQLite database with a documented schema (for
//! sqlite3, Datasette, notebooks) and JSON Lines (one classified tool per line). Both are
//! built straight from the catalogue files with the current classifier, never from the query
//! index, so an export is always the authoritative state. The schema is documented in
//! docs/query.md; `SCHEMA_SQL` is the source of truth.

use crate::catalogue::{load_server, Catalogue, LoadError};
use crate::classify::Classifier;
use crate::model::{Classification, Risk, Server};
use anyhow::{Context, Result};
use rayon::prelude::*;
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::Path;

/// Version of the export schema, stored in `meta`; bumped on incompatible changes.
pub const SCHEMA_VERSION: &str = "1";

/// The export database schema.
pub const SCHEMA_SQL: &str = r#"
-- Facts about the export: toolrisk version, schema version, counts.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per catalogued server.
CREATE TABLE servers (
    id INTEGER PRIMARY KEY,
    server_id TEXT NOT NULL UNIQUE,   -- registry name or package-derived id
    slug TEXT NOT NULL UNIQUE,        -- URL-safe name used by the site
    name TEXT NOT NULL,
    description TEXT,
    version TEXT,
    repository TEXT,
    homepage TEXT,
    crawl_status TEXT NOT NULL,       -- ok, partial, failed, never
    last_success TEXT,                -- RFC 3339
    tools_hash TEXT,
    tool_count INTEGER NOT NULL
);
-- Installable packages of each server.
CREATE TABLE packages (
    server INTEGER NOT NULL REFERENCES servers(id),
    registry TEXT NOT NULL,           -- npm, pypi, oci, ...
    identifier TEXT NOT NULL,
    version TEXT,
    transport TEXT
);
-- Remote endpoints of each server.
CREATE TABLE remotes (
    server INTEGER NOT NULL REFERENCES servers(id),
    type TEXT NOT NULL,               -- streamable-http or sse
    url TEXT NOT NULL
);
-- One row per tool with its classification.
CREATE TABLE tools (
    id INTEGER PRIMARY KEY,
    server INTEGER NOT NULL REFERENCES servers(id),
    name TEXT NOT NULL,
    title TEXT,
    description TEXT,
    input_schema TEXT,                -- JSON, verbatim
    output_schema TEXT,               -- JSON, verbatim
    annotations TEXT,                 -- JSON, verbatim (absent hints stay absent)
    read_only_hint INTEGER,           -- 1/0 as declared, NULL when not declared
    destructive_hint INTEGER,
    idempotent_hint INTEGER,
    open_world_hint INTEGER,
    definition_hash TEXT NOT NULL,    -- sha256: of the canonical definition
    access TEXT NOT NULL,             -- read, write, execute
    class TEXT NOT NULL,              -- read, write, execute, destructive, financial
    effects TEXT NOT NULL,            -- JSON array of effect names
    risk TEXT NOT NULL,               -- low, medium, high, critical
    risk_rank INTEGER NOT NULL,       -- 0 low .. 3 critical, for sorting and ranges
    action TEXT NOT NULL,             -- allow, rate_limit, require_approval, deny
    rate_limit_max INTEGER,
    rate_limit_window INTEGER,        -- seconds
    policy_reason TEXT NOT NULL,
    confidence TEXT NOT NULL,         -- low, medium, high
    rationale TEXT NOT NULL
);
CREATE INDEX tools_server ON tools(server);
CREATE INDEX tools_class ON tools(class);
CREATE INDEX tools_risk ON tools(risk_rank);
-- Effects, one row each (for GROUP BY and facets).
CREATE TABLE tool_effects (
    tool INTEGER NOT NULL REFERENCES tools(id),
    effect TEXT NOT NULL
);
CREATE INDEX tool_effects_effect ON tool_effects(effect);
-- The evidence behind each classification.
CREATE TABLE evidence (
    tool INTEGER NOT NULL REFERENCES tools(id),
    rule TEXT NOT NULL,
    signal TEXT NOT NULL,
    source TEXT NOT NULL,             -- name, description, schema, annotation, server, override
    text TEXT NOT NULL
);
CREATE INDEX evidence_tool ON evidence(tool);
-- Warnings about tool definitions.
CREATE TABLE findings (
    tool INTEGER NOT NULL REFERENCES tools(id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,           -- info, warning, critical
    message TEXT NOT NULL
);
CREATE INDEX findings_tool ON findings(tool);
-- Full-text search over tools (Datasette offers a search box for it).
CREATE VIRTUAL TABLE tools_fts USING fts5(
    name, description, content='tools', content_rowid='id'
);
-- A flat view for browsing.
CREATE VIEW tool_overview AS
    SELECT s.slug AS server, s.name AS server_name, t.name AS tool, t.class, t.risk,
           t.action, t.effects, t.confidence, t.description
    FROM tools t JOIN servers s ON s.id = t.server
    ORDER BY t.risk_rank DESC, s.slug, t.name;
"#;

/// What an export wrote, and the catalogue files it had to leave out.
#[derive(Debug, Default)]
pub struct Summary {
    pub servers: usize,
    pub tools: u64,
    pub errors: Vec<LoadError>,
}

/// Servers read and classified at a time: the export streams the catalogue, so memory stays
/// flat whatever its size.
const CHUNK: usize = 256;

/// Loads and classifies the catalogue in slug order, a chunk at a time (each chunk in
/// parallel), handing every server with its classifications to `sink`.
pub fn for_each_classified(
    cat: &Catalogue,
    classifier: &Classifier,
    sink: &mut dyn FnMut(&Server, &[Classification]) -> Result<()>,
) -> Result<Summary> {
    let mut files = cat.server_files()?;
    files.sort_by(|a, b| a.file_stem().cmp(&b.file_stem()));
    let mut summary = Summary::default();
    for chunk in files.chunks(CHUNK) {
        let loaded: Vec<Result<(Server, Vec<Classification>), LoadError>> = chunk
            .par_iter()
            .map(|p| {
                load_server(p).map(|s| {
                    let c = classifier.classify_server(&s);
                    (s, c)
                })
            })
            .collect();
        for r in loaded {
            match r {
                Ok((s, c)) => {
                    sink(&s, &c)?;
                    summary.servers += 1;
                    summary.tools += s.tools.len() as u64;
                }
                Err(e) => summary.errors.push(e),
            }
        }
    }
    Ok(summary)
}

/// One JSON Lines record: the server's identity, the tool as received, its classification.
pub fn jsonl_record(server: &Server, tool: &crate::model::Tool, c: &Classification) -> Value {
    json!({
        "server": {"id": server.id, "slug": server.slug, "name": server.name},
        "tool": tool.to_json(),
        "classification": c,
    })
}

/// Writes one classified tool per line.
pub fn write_jsonl(
    cat: &Catalogue,
    classifier: &Classifier,
    out: &mut dyn Write,
) -> Result<Summary> {
    for_each_classified(cat, classifier, &mut |server, classes| {
        for (tool, c) in server.tools.iter().zip(classes) {
            // serde_json escapes control characters: one record per line, always.
            serde_json::to_writer(&mut *out, &jsonl_record(server, tool, c))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Writes JSON Lines to `path`, streamed to a temporary file beside it and renamed, so a
/// reader never sees half a file and memory stays flat at any catalogue size.
pub fn write_jsonl_file(cat: &Catalogue, classifier: &Classifier, path: &Path) -> Result<Summary> {
    // A device or FIFO (`/dev/null`, `/dev/stdout`) is written into, as a shell redirection
    // would; only a regular file is replaced atomically.
    if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let f = fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("writing {}", path.display()))?;
        let mut out = std::io::BufWriter::new(f);
        let n = write_jsonl(cat, classifier, &mut out)?;
        std::io::Write::flush(&mut out).with_context(|| format!("writing {}", path.display()))?;
        return Ok(n);
    }
    crate::catalogue::refuse_special(path)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("export.jsonl");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> Result<Summary> {
        let f = fs::File::create(&tmp)?;
        let mut out = std::io::BufWriter::new(f);
        let n = write_jsonl(cat, classifier, &mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(n)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

fn hint(tool: &crate::model::Tool, key: &str) -> Option<i64> {
    tool.hint(key).map(i64::from)
}

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

fn risk_rank(r: Risk) -> i64 {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) as i64
}

/// Writes the SQLite export to `path` atomically (a temporary file renamed into place).
pub fn write_sqlite(cat: &Catalogue, classifier: &Classifier, path: &Path) -> Result<Summary> {
    crate::catalogue::refuse_special(path)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("export.sqlite");
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let result = fill_sqlite(cat, classifier, &tmp);
    match result {
        Ok(n) => {
            fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
            Ok(n)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e.context(format!("writing {}", path.display())))
        }
    }
}

fn fill_sqlite(cat: &Catalogue, classifier: &Classifier, path: &Path) -> Result<Summary> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")?;
    conn.execute_batch(SCHEMA_SQL)?;
    let tx = conn.transaction()?;
    let summary;
    {
        let mut ins_server = tx.prepare(
            "INSERT INTO servers(server_id, slug, name, description, version, repository,
                homepage, crawl_status, last_success, tools_hash, tool_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        let mut ins_pkg = tx.prepare(
            "INSERT INTO packages(server, registry, identifier, version, transport)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut ins_remote =
            tx.prepare("INSERT INTO remotes(server, type, url) VALUES (?1, ?2, ?3)")?;
        let mut ins_tool = tx.prepare(
            "INSERT INTO tools(server, name, title, description, input_schema, output_schema,
                annotations, read_only_hint, destructive_hint, idempotent_hint, open_world_hint,
                definition_hash, access, class, effects, risk, risk_rank, action,
                rate_limit_max, rate_limit_window, policy_reason, confidence, rationale)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
        )?;
        let mut ins_effect =
            tx.prepare("INSERT INTO tool_effects(tool, effect) VALUES (?1, ?2)")?;
        let mut ins_evidence = tx.prepare(
            "INSERT INTO evidence(tool, rule, signal, source, text) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut ins_finding = tx.prepare(
            "INSERT INTO findings(tool, kind, severity, message) VALUES (?1, ?2, ?3, ?4)",
        )?;
        summary = for_each_classified(cat, classifier, &mut |s, classes| {
            ins_server
                .execute(params![
                    s.id,
                    s.slug,
                    s.name,
                    s.description,
                    s.version,
                    s.repository,
                    s.homepage,
                    s.crawl.status.as_str(),
                    s.crawl.last_success,
                    s.crawl.tools_hash,
                    s.tools.len() as i64
                ])
                .with_context(|| format!("server `{}`", s.id))?;
            let sid = tx.last_insert_rowid();
            for p in &s.packages {
                ins_pkg.execute(params![
                    sid,
                    p.registry,
                    p.identifier,
                    p.version,
                    p.transport
                ])?;
            }
            for r in &s.remotes {
                ins_remote.execute(params![sid, r.kind, r.url])?;
            }
            for (t, c) in s.tools.iter().zip(classes) {
                let effects: Vec<&str> = c.effects.iter().map(|e| e.as_str()).collect();
                ins_tool.execute(params![
                    sid,
                    t.name,
                    t.title,
                    t.description,
                    json_text(&t.input_schema),
                    json_text(&t.output_schema),
                    json_text(&t.annotations),
                    hint(t, "readOnlyHint"),
                    hint(t, "destructiveHint"),
                    hint(t, "idempotentHint"),
                    hint(t, "openWorldHint"),
                    t.definition_hash(),
                    c.access.as_str(),
                    c.class.as_str(),
                    serde_json::to_string(&effects)?,
                    c.risk.as_str(),
                    risk_rank(c.risk),
                    c.policy.action.as_str(),
                    c.policy.rate_limit.map(|r| r.max),
                    c.policy.rate_limit.map(|r| r.window),
                    c.policy.reason,
                    c.confidence.as_str(),
                    c.rationale,
                ])?;
                let tid = tx.last_insert_rowid();
                for e in &effects {
                    ins_effect.execute(params![tid, e])?;
                }
                for e in &c.evidence {
                    ins_evidence.execute(params![
                        tid,
                        e.rule,
                        e.signal,
                        e.source.as_str(),
                        e.text
                    ])?;
                }
                for f in &c.findings {
                    ins_finding.execute(params![tid, f.kind, f.severity.as_str(), f.message])?;
                }
            }
            Ok(())
        })?;
        tx.execute_batch("INSERT INTO tools_fts(tools_fts) VALUES('rebuild');")?;
        let mut meta = tx.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)")?;
        for (k, v) in [
            ("toolrisk_version", env!("CARGO_PKG_VERSION").to_string()),
            ("schema_version", SCHEMA_VERSION.to_string()),
            ("servers", summary.servers.to_string()),
            ("tools", summary.tools.to_string()),
            ("unreadable_files", summary.errors.len().to_string()),
        ] {
            meta.execute(params![k, v])?;
        }
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA journal_mode=DELETE; ANALYZE;")?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(summary)
}
