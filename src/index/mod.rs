//! The persistent query index beside the catalogue (`<catalogue>/.index.sqlite`): every tool
//! with its classification, and an FTS5 full-text index over names, server names and
//! descriptions, so that `toolrisk query` answers in milliseconds without loading or
//! reclassifying the catalogue.
//!
//! The index is a cache and is never trusted: each open compares every server file's
//! (size, mtime, ctime, inode) with what was indexed and re-reads only the files that changed;
//! an index written by another index format, another classifier, or that SQLite cannot read,
//! is thrown away and rebuilt.

mod rules;
pub mod text;

pub use rules::rules_fingerprint;
pub use text::{fts_query, name_words};

use crate::catalogue::{load_server, Catalogue, LoadError};
use crate::classify::overrides::Overrides;
use crate::classify::{Classifier, ServerContext};
use crate::model::{Access, Action, Class, Classification, Confidence, Effect, Risk, Server};
use anyhow::{Context, Result};
use rayon::prelude::*;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Bumped whenever the tables below change; an index of another version is rebuilt.
pub const SCHEMA_VERSION: &str = "3";

/// The index file name, inside the catalogue folder (gitignored as `catalogue/.index*`).
pub const FILE_NAME: &str = ".index.sqlite";

/// Servers re-read and written per transaction during a refresh: bounds memory at 500k
/// tools while keeping the per-transaction cost negligible.
const BATCH: usize = 256;

const SCHEMA: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per catalogue file, with the stamp it had when indexed. `error` is set when the
-- file could not be read: it is remembered so an unchanged bad file is not re-read each time.
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    stamp TEXT NOT NULL,
    error TEXT
);
CREATE INDEX files_error ON files(path) WHERE error IS NOT NULL;
CREATE TABLE servers (
    id INTEGER PRIMARY KEY,
    file INTEGER NOT NULL,
    slug TEXT NOT NULL,
    server_id TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE tools (
    id INTEGER PRIMARY KEY,
    server INTEGER NOT NULL,
    name TEXT NOT NULL,
    title TEXT,
    description TEXT,
    access TEXT NOT NULL,
    class TEXT NOT NULL,
    risk INTEGER NOT NULL,
    effects INTEGER NOT NULL,
    action TEXT NOT NULL,
    confidence TEXT NOT NULL,
    findings INTEGER NOT NULL,
    -- slug NUL name: the browse order when there is no search text
    sort_key TEXT NOT NULL
);
CREATE VIRTUAL TABLE tools_fts USING fts5(
    name, server, description,
    content='', contentless_delete=1,
    tokenize='unicode61 remove_diacritics 0'
);
"#;

/// Indexes, made after the bulk load of a fresh build (cheaper than maintaining them row by
/// row).
const INDEXES: &str = r#"
CREATE INDEX servers_file ON servers(file);
CREATE INDEX servers_slug ON servers(slug);
CREATE INDEX servers_sid ON servers(server_id);
CREATE INDEX tools_server ON tools(server);
CREATE INDEX tools_browse ON tools(risk DESC, sort_key);
-- The common filters, already in browse order: `--access read` stops after LIMIT rows.
CREATE INDEX tools_access ON tools(access, risk DESC, sort_key);
CREATE INDEX tools_class ON tools(class, risk DESC, sort_key);
"#;

/// `--risk high` (exactly) or `--risk high+` (that or worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskFilter {
    Exactly(Risk),
    AtLeast(Risk),
}

impl FromStr for RiskFilter {
    type Err = crate::model::UnknownLabel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.strip_suffix('+') {
            Some(base) => Ok(RiskFilter::AtLeast(base.parse()?)),
            None => Ok(RiskFilter::Exactly(s.parse()?)),
        }
    }
}

/// A search: optional text, filters, and how many results.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub text: Option<String>,
    pub class: Option<Class>,
    pub access: Option<Access>,
    pub risk: Option<RiskFilter>,
    pub effect: Option<Effect>,
    /// Slug, id or name (case-insensitive) of one server.
    pub server: Option<String>,
    /// 0 = no limit.
    pub limit: usize,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub server: String,
    pub server_id: String,
    pub server_name: String,
    pub tool: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub access: Access,
    pub class: Class,
    pub effects: Vec<Effect>,
    pub risk: Risk,
    pub action: Action,
    pub confidence: Confidence,
    pub findings: u32,
    /// Relevance (higher is better); 0 without search text.
    pub score: f64,
}

/// What a refresh did.
#[derive(Debug, Default, Clone)]
pub struct Refresh {
    /// Why the whole index was rebuilt, if it was.
    pub rebuilt: Option<String>,
    /// Files read again (new or changed).
    pub reindexed: usize,
    /// Files gone from the catalogue.
    pub removed: usize,
    /// Files that could not be read (still skipped; `toolrisk validate` explains).
    pub errors: Vec<LoadError>,
    /// Where the index lives; `None` when it had to be kept in memory.
    pub path: Option<PathBuf>,
}

/// An open, up-to-date index.
pub struct Index {
    conn: Connection,
    cat: Catalogue,
    pub refresh: Refresh,
}

/// (size, mtime, ctime, inode) of a file: an atomic rewrite changes the inode, an in-place
/// edit the mtime and ctime. Plain numbers while scanning (25,000 files at 500k tools); the
/// text form is what the `files` table stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp([i64; 6]);

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp([
            meta.len() as i64,
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
            meta.ino() as i64,
        ])
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [len, m, mn, c, cn, ino] = self.0;
        write!(f, "{len}:{m}.{mn}:{c}.{cn}:{ino}")
    }
}

fn effects_mask(effects: &[Effect]) -> i64 {
    effects.iter().fold(0, |m, e| m | effect_bit(*e))
}

fn effect_bit(e: Effect) -> i64 {
    let i = Effect::ALL.iter().position(|x| *x == e).unwrap_or(0);
    1 << i
}

fn risk_rank(r: Risk) -> i64 {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) as i64
}

/// A server as read for the index: the file's stamp, and either the server with its
/// classifications or why it could not be read.
struct Parsed {
    path: String,
    stamp: String,
    result: Result<(Server, Vec<Classification>), crate::catalogue::LoadError>,
}

/// The classifier and its fingerprint, made only when needed: an unchanged catalogue queried
/// by an unchanged executable needs neither. The catalogue's `overrides.yaml` is part of the
/// classifier (as for `policy` and the site); it is read on every open, being small, and its
/// digest is checked separately from the built-in rules.
struct Rules {
    overrides: Overrides,
    overrides_digest: String,
    classifier: OnceCell<Classifier>,
    fingerprint: OnceCell<String>,
}

impl Rules {
    fn new(cat: &Catalogue) -> Result<Rules> {
        let path = cat.root.join("overrides.yaml");
        let overrides_digest =
            match crate::bounded::read_bytes(&path, crate::catalogue::MAX_FILE_BYTES) {
                Ok(bytes) => {
                    use sha2::{Digest, Sha256};
                    hex::encode(Sha256::digest(&bytes))
                }
                Err(e) if e.is_not_found() => "none".to_string(),
                Err(e) => return Err(e.into()),
            };
        Ok(Rules {
            overrides: Overrides::load(&path)?,
            overrides_digest,
            classifier: OnceCell::new(),
            fingerprint: OnceCell::new(),
        })
    }
    fn classifier(&self) -> &Classifier {
        self.classifier
            .get_or_init(|| Classifier::builtin().with_overrides(self.overrides.clone()))
    }
    /// The built-in rules' fingerprint (without overrides, which are checked on their own).
    fn fingerprint(&self) -> &str {
        self.fingerprint
            .get_or_init(|| rules::rules_fingerprint(&Classifier::builtin()))
    }
}

impl Index {
    /// Opens the index of `cat`, creating or refreshing it so that it matches the catalogue
    /// files and the current classifier.
    pub fn open(cat: &Catalogue) -> Result<Index> {
        let rules = Rules::new(cat)?;
        let path = cat.root.join(FILE_NAME);
        // The list of files comes first: a missing catalogue is the user's error to fix.
        let files = scan(cat)?;
        match Self::open_file(cat, &path, &rules, &files) {
            Ok(ix) => {
                // What the file is now was checked (or written) by this run: the next open
                // skips the page-by-page check unless the file changes behind our back.
                record_verified(&path);
                Ok(ix)
            }
            Err(e) if is_unwritable(&e) => {
                // A read-only catalogue (a mounted checkout, a package) still answers queries.
                let conn = Connection::open_in_memory()?;
                let mut ix = Index {
                    conn,
                    cat: cat.clone(),
                    refresh: Refresh::default(),
                };
                ix.conn.execute_batch(SCHEMA)?;
                ix.conn.execute_batch(INDEXES)?;
                ix.sync(rules.classifier(), &files)?;
                ix.refresh.rebuilt = Some(format!(
                    "cannot write {} ({e:#}); indexed in memory for this run",
                    path.display()
                ));
                Ok(ix)
            }
            Err(e) => Err(e),
        }
    }

    fn open_file(
        cat: &Catalogue,
        path: &Path,
        rules: &Rules,
        files: &[(String, Stamp)],
    ) -> Result<Index> {
        let exe = rules::exe_stamp();
        let reason = if path.exists() {
            match Self::check_existing(path, rules, &exe, is_verified(path)) {
                Ok(None) => None,
                Ok(Some(reason)) => Some(reason),
                Err(e) => Some(format!("the index cannot be read ({e})")),
            }
        } else {
            Some("no index yet".to_string())
        };
        if let Some(reason) = reason {
            let mut ix = Self::build_fresh(cat, path, rules, files, &exe)?;
            ix.refresh.rebuilt = Some(reason);
            return Ok(ix);
        }
        let conn = connect(path)?;
        let mut ix = Index {
            conn,
            cat: cat.clone(),
            refresh: Refresh {
                path: Some(path.to_path_buf()),
                ..Refresh::default()
            },
        };
        let synced = ix.sync_lazy(rules, files).and_then(|()| {
            if rules.fingerprint.get().is_some() {
                // The fingerprint was checked for this executable: remember it.
                ix.set_meta("exe", &exe)?;
            }
            Ok(())
        });
        match synced {
            Ok(()) => Ok(ix),
            Err(e) if is_unwritable(&e) => Err(e),
            Err(e) => {
                // A file SQLite opened but cannot update is corrupt: start again.
                drop(ix);
                let mut ix = Self::build_fresh(cat, path, rules, files, &exe)?;
                ix.refresh.rebuilt = Some(format!("the index could not be updated ({e:#})"));
                Ok(ix)
            }
        }
    }

    /// `None` when the existing index can be refreshed in place, else why not.
    fn check_existing(
        path: &Path,
        rules: &Rules,
        exe: &str,
        verified: bool,
    ) -> Result<Option<String>> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        if !verified {
            // The file changed since this program last wrote or checked it (a disk error, an
            // editor, another tool): SQLite checks every page before anything is served.
            let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
            if verdict != "ok" {
                let verdict: String = verdict.chars().take(200).collect();
                return Ok(Some(format!("the index is damaged (SQLite: {verdict})")));
            }
        }
        let get = |k: &str| -> Result<Option<String>> {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()?)
        };
        if get("complete")?.as_deref() != Some("yes") {
            return Ok(Some("the last index build did not finish".into()));
        }
        if get("schema")?.as_deref() != Some(SCHEMA_VERSION) {
            return Ok(Some("the index format changed".into()));
        }
        if get("overrides")?.as_deref() != Some(rules.overrides_digest.as_str()) {
            return Ok(Some("overrides.yaml changed".into()));
        }
        let same_exe = !exe.is_empty() && get("exe")?.as_deref() == Some(exe);
        if !same_exe && get("rules")?.as_deref() != Some(rules.fingerprint()) {
            return Ok(Some("the classifier or its rules changed".into()));
        }
        // Touch every table so a damaged file shows here rather than mid-query.
        conn.query_row("SELECT count(*) FROM files", [], |r| r.get::<_, i64>(0))?;
        conn.query_row("SELECT max(id) FROM tools", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?;
        conn.query_row("SELECT max(id) FROM servers", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?;
        Ok(None)
    }

    /// Builds a new index in a temporary file beside the old one and renames it into place,
    /// so a crash mid-build never leaves a half index where the next run looks.
    fn build_fresh(
        cat: &Catalogue,
        path: &Path,
        rules: &Rules,
        files: &[(String, Stamp)],
        exe: &str,
    ) -> Result<Index> {
        let tmp = path.with_file_name(format!("{FILE_NAME}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&tmp);
        let result = (|| -> Result<()> {
            let conn = Connection::open(&tmp)
                .with_context(|| format!("creating the index {}", tmp.display()))?;
            // A temporary file is thrown away on failure, so durability is not needed yet.
            conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")?;
            let mut ix = Index {
                conn,
                cat: cat.clone(),
                refresh: Refresh::default(),
            };
            ix.conn.execute_batch(SCHEMA)?;
            ix.sync(rules.classifier(), files)?;
            ix.conn.execute_batch(INDEXES)?;
            // One merged full-text segment answers faster than the many a bulk load leaves.
            ix.conn
                .execute_batch("INSERT INTO tools_fts(tools_fts) VALUES('optimize');")?;
            ix.set_meta("schema", SCHEMA_VERSION)?;
            ix.set_meta("rules", rules.fingerprint())?;
            ix.set_meta("overrides", &rules.overrides_digest)?;
            ix.set_meta("exe", exe)?;
            ix.set_meta("complete", "yes")?;
            ix.conn.execute_batch("PRAGMA journal_mode=DELETE;")?;
            let conn = ix.conn;
            conn.close().map_err(|(_, e)| e)?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        for suffix in ["-journal", "-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", path.display()));
        }
        fs::rename(&tmp, path)
            .with_context(|| format!("moving the new index to {}", path.display()))?;
        let conn = connect(path)?;
        let mut ix = Index {
            conn,
            cat: cat.clone(),
            refresh: Refresh::default(),
        };
        ix.refresh.reindexed = files.len();
        ix.refresh.errors = ix.stored_errors()?;
        ix.refresh.path = Some(path.to_path_buf());
        Ok(ix)
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn stored_errors(&self) -> Result<Vec<LoadError>> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path")?;
        let dir = self.cat.servers_dir();
        let rows = stmt.query_map([], |r| {
            Ok(LoadError {
                path: dir.join(r.get::<_, String>(0)?),
                message: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// `sync`, making the classifier only when some file changed.
    fn sync_lazy(&mut self, rules: &Rules, files: &[(String, Stamp)]) -> Result<()> {
        self.sync_with(files, &mut || rules.classifier())
    }

    /// Brings the index in line with `files`: drops what is gone, re-reads what changed.
    fn sync(&mut self, classifier: &Classifier, files: &[(String, Stamp)]) -> Result<()> {
        self.sync_with(files, &mut || classifier)
    }

    fn sync_with<'c>(
        &mut self,
        files: &[(String, Stamp)],
        classifier: &mut dyn FnMut() -> &'c Classifier,
    ) -> Result<()> {
        // Nothing changed since the last refresh: one comparison instead of reading every
        // row of `files`.
        let digest = scan_digest(files);
        let last: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'scan'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if last.as_deref() == Some(digest.as_str()) {
            self.refresh.errors = self.stored_errors()?;
            return Ok(());
        }
        let mut known: HashMap<String, (i64, String)> = HashMap::new();
        {
            let mut stmt = self.conn.prepare("SELECT id, path, stamp FROM files")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(1)?, (r.get::<_, i64>(0)?, r.get(2)?)))
            })?;
            for row in rows {
                let (p, v) = row?;
                known.insert(p, v);
            }
        }
        // An empty index (a fresh build) has nothing to delete before each insert.
        let fresh = known.is_empty();
        let mut changed: Vec<&(String, Stamp)> = Vec::new();
        for f in files {
            match known.remove(&f.0) {
                Some((_, stamp)) if stamp == f.1.to_string() => {}
                _ => changed.push(f),
            }
        }
        let gone: Vec<i64> = known.values().map(|(id, _)| *id).collect();
        self.refresh.removed = gone.len();
        self.refresh.reindexed = changed.len();
        if !gone.is_empty() {
            let tx = self.conn.transaction()?;
            for id in &gone {
                drop_file(&tx, *id)?;
                tx.execute("DELETE FROM files WHERE id = ?1", [id])?;
            }
            tx.commit()?;
        }
        if !changed.is_empty() {
            let classifier = classifier();
            let dir = self.cat.servers_dir();
            let conn = &mut self.conn;
            // Reading and classifying (all cores) overlaps with writing (one thread): a
            // producer parses batch n+1 while this thread writes batch n.
            std::thread::scope(|scope| -> Result<()> {
                let (send, recv) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(1);
                let dir = &dir;
                let changed = &changed;
                scope.spawn(move || {
                    for chunk in changed.chunks(BATCH) {
                        let parsed: Vec<Parsed> = chunk
                            .par_iter()
                            .map(|(name, stamp)| parse(classifier, dir, name, *stamp))
                            .collect();
                        if send.send(parsed).is_err() {
                            // The writer failed and hung up: stop reading.
                            break;
                        }
                    }
                });
                for parsed in recv {
                    let tx = conn.transaction()?;
                    write_batch(&tx, &parsed, fresh)?;
                    tx.commit()?;
                }
                Ok(())
            })?;
        }
        self.set_meta("scan", &digest)?;
        self.refresh.errors = self.stored_errors()?;
        Ok(())
    }

    /// Runs a search.
    pub fn search(&self, q: &Query) -> Result<Vec<Hit>> {
        let mut sql = String::from(
            "SELECT s.slug, s.server_id, s.name, t.name, t.title, t.description, t.access,
                    t.class, t.effects, t.risk, t.action, t.confidence, t.findings, ",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        let text = q
            .text
            .as_deref()
            .map(fts_query)
            .filter(|(all, _)| !all.is_empty());
        let unfiltered = q.class.is_none()
            && q.access.is_none()
            && q.risk.is_none()
            && q.effect.is_none()
            && q.server.is_none();
        if text.is_some() && unfiltered && q.limit > 0 {
            // Rank inside the full-text index and join only the rows shown: a common word
            // matches a fifth of a large catalogue, and joining every match would dominate.
            sql.push_str(
                "f.score FROM (SELECT rowid AS id, -bm25(tools_fts, 10.0, 2.0, 1.0) AS score
                     FROM tools_fts WHERE tools_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?) f
                 JOIN tools t ON t.id = f.id JOIN servers s ON s.id = t.server
                 ORDER BY f.score DESC, t.risk DESC, t.sort_key",
            );
            args.push(rusqlite::types::Value::Null);
            args.push((q.limit as i64).into());
        } else if text.is_some() {
            // bm25 is lower-is-better; a name match counts most, then the server, then prose.
            sql.push_str(
                "-bm25(tools_fts, 10.0, 2.0, 1.0) AS score
                 FROM tools_fts JOIN tools t ON t.id = tools_fts.rowid
                 JOIN servers s ON s.id = t.server
                 WHERE tools_fts MATCH ?",
            );
            args.push(rusqlite::types::Value::Null); // the MATCH text, set per attempt
        } else {
            sql.push_str("0.0 AS score FROM tools t JOIN servers s ON s.id = t.server WHERE 1");
        }
        let fast = text.is_some() && unfiltered && q.limit > 0;
        if let Some(c) = q.class {
            sql.push_str(" AND t.class = ?");
            args.push(c.as_str().to_string().into());
        }
        if let Some(a) = q.access {
            sql.push_str(" AND t.access = ?");
            args.push(a.as_str().to_string().into());
        }
        match q.risk {
            Some(RiskFilter::Exactly(r)) => {
                sql.push_str(" AND t.risk = ?");
                args.push(risk_rank(r).into());
            }
            Some(RiskFilter::AtLeast(r)) => {
                sql.push_str(" AND t.risk >= ?");
                args.push(risk_rank(r).into());
            }
            None => {}
        }
        if let Some(e) = q.effect {
            sql.push_str(" AND (t.effects & ?) != 0");
            args.push(effect_bit(e).into());
        }
        if let Some(s) = &q.server {
            // Resolve the server first so the tools are reached through their index.
            let ids = self.server_ids(s)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(" AND t.server IN (");
            for (i, id) in ids.into_iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(id.into());
            }
            sql.push(')');
        }
        if fast {
            // Ordered and limited above.
        } else if text.is_some() {
            sql.push_str(" ORDER BY score DESC, t.risk DESC, t.sort_key");
        } else {
            sql.push_str(" ORDER BY t.risk DESC, t.sort_key");
        }
        if q.limit > 0 && !fast {
            sql.push_str(" LIMIT ?");
            args.push((q.limit as i64).into());
        }
        let run = |match_text: Option<&str>| -> Result<Vec<Hit>> {
            let mut args = args.clone();
            if let Some(m) = match_text {
                args[0] = m.to_string().into();
            }
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), row_to_hit)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        };
        match text {
            None => run(None),
            Some((all, any)) => {
                // Every word first; if nothing has them all, any of them, best matches first.
                let hits = run(Some(&all))?;
                if hits.is_empty() && any != all {
                    run(Some(&any))
                } else {
                    Ok(hits)
                }
            }
        }
    }

    /// Number of tools indexed.
    pub fn tool_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM tools", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Whether a server with this slug, id or name is indexed.
    pub fn has_server(&self, key: &str) -> Result<bool> {
        Ok(!self.server_ids(key)?.is_empty())
    }

    /// Row ids of the servers with this slug, id or name (case-insensitive), at most 1000.
    fn server_ids(&self, key: &str) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM servers WHERE slug = ?1 OR server_id = ?1 OR name = ?1 COLLATE NOCASE
             LIMIT 1000",
        )?;
        let rows = stmt.query_map([key], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
    }

    /// The catalogue this index describes.
    pub fn catalogue(&self) -> &Catalogue {
        &self.cat
    }
}

fn row_to_hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<Hit> {
    let parse = |i: usize| -> rusqlite::Result<String> { r.get::<_, String>(i) };
    let bad = |i: usize, e: crate::model::UnknownLabel| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let mask: i64 = r.get(8)?;
    Ok(Hit {
        server: r.get(0)?,
        server_id: r.get(1)?,
        server_name: r.get(2)?,
        tool: r.get(3)?,
        title: r.get(4)?,
        description: r.get(5)?,
        access: parse(6)?.parse().map_err(|e| bad(6, e))?,
        class: parse(7)?.parse().map_err(|e| bad(7, e))?,
        effects: Effect::ALL
            .iter()
            .copied()
            .filter(|e| mask & effect_bit(*e) != 0)
            .collect(),
        risk: Risk::ALL
            .get(r.get::<_, i64>(9)?.clamp(0, 3) as usize)
            .copied()
            .unwrap_or(Risk::Low),
        action: parse(10)?.parse().map_err(|e| bad(10, e))?,
        confidence: parse(11)?.parse().map_err(|e| bad(11, e))?,
        findings: r.get::<_, i64>(12)?.max(0) as u32,
        score: r.get(13)?,
    })
}

/// The file holding the stamp of the index file as this program last left it.
fn verified_path(path: &Path) -> PathBuf {
    path.with_file_name(format!("{FILE_NAME}.verified"))
}

/// (size, mtime, ctime, inode) of the index file: ctime cannot be set back by a writer, so a
/// changed file always shows.
fn db_stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some(format!(
        "{} {}.{} {}.{} {}",
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
        m.ino()
    ))
}

fn is_verified(path: &Path) -> bool {
    let Some(now) = db_stamp(path) else {
        return false;
    };
    crate::bounded::read_text(&verified_path(path), 256).is_ok_and(|t| t.trim_end() == now)
}

/// Best effort: without the stamp the next open only checks the pages again.
fn record_verified(path: &Path) {
    if let Some(now) = db_stamp(path) {
        let _ = crate::catalogue::write_atomic(&verified_path(path), format!("{now}\n").as_bytes());
    }
}

fn connect(path: &Path) -> Result<Connection> {
    let conn =
        Connection::open(path).with_context(|| format!("opening the index {}", path.display()))?;
    // Two queries at once wait for each other instead of failing.
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.execute_batch("PRAGMA synchronous=NORMAL;")?;
    Ok(conn)
}

/// Whether an error means the index file cannot be written at all (read-only folder).
fn is_unwritable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::PermissionDenied
                || io.raw_os_error() == Some(libc::EROFS);
        }
        if let Some(rusqlite::Error::SqliteFailure(f, _)) = c.downcast_ref::<rusqlite::Error>() {
            return matches!(
                f.code,
                rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::PermissionDenied
            );
        }
        false
    })
}

/// Every server file (name under `servers/`) with its stamp, sorted by name. Names, not paths,
/// so the same catalogue reached by another path keeps its index.
fn scan(cat: &Catalogue) -> Result<Vec<(String, Stamp)>> {
    let dir = cat.servers_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(cat.missing()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    // Stat relative to the open folder (no path walk per file): at 25,000 files this is most
    // of a query's fixed cost, nearly all of it in the kernel (the name lookup). So the
    // listing is handed out in batches to one stat thread per other core while this thread
    // goes on reading it, then helps: on a quiet 2-core machine a query of a 500k-tool
    // catalogue went from 108 ms to 73 ms (with the cheaper stamps and digest). Plain threads,
    // not rayon: starting its pool costs more than a small catalogue's stats, which never
    // leave this thread. A file that vanished since the listing is simply not there.
    type Batch = Vec<(fs::DirEntry, String)>;
    const BATCH_FILES: usize = 512;
    let stat_all = |part: Batch, out: &mut Vec<(String, Stamp)>| {
        for (e, name) in part {
            if let Ok(meta) = e.metadata() {
                out.push((name, Stamp::of(&meta)));
            }
        }
    };
    // The next queued batch; the lock is held only to take it.
    let take = |recv: &std::sync::Mutex<std::sync::mpsc::Receiver<Batch>>, wait: bool| {
        let r = recv.lock().ok()?;
        if wait {
            r.recv().ok()
        } else {
            r.try_recv().ok()
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let (send, recv) = std::sync::mpsc::sync_channel::<Batch>(64);
    let recv = std::sync::Mutex::new(recv);
    let mut files: Vec<(String, Stamp)> = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let mut workers = Vec::new();
        let mut batch = Vec::with_capacity(BATCH_FILES);
        let listing = (|| -> Result<()> {
            for entry in entries {
                let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if !name.ends_with(".yaml") || name.starts_with('.') {
                    continue;
                }
                batch.push((entry, name));
                if batch.len() < BATCH_FILES || threads == 1 {
                    continue;
                }
                if workers.is_empty() {
                    // Enough files to be worth the threads.
                    for _ in 1..threads {
                        let recv = &recv;
                        workers.push(scope.spawn(move || {
                            let mut out = Vec::new();
                            while let Some(part) = take(recv, true) {
                                stat_all(part, &mut out);
                            }
                            out
                        }));
                    }
                }
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_FILES));
                if send.send(full).is_err() {
                    break;
                }
            }
            Ok(())
        })();
        drop(send);
        stat_all(std::mem::take(&mut batch), &mut files);
        while let Some(part) = take(&recv, false) {
            stat_all(part, &mut files);
        }
        for w in workers {
            files.extend(w.join().expect("stat thread panicked"));
        }
        listing
    })?;
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

fn scan_digest(files: &[(String, Stamp)]) -> String {
    use sha2::{Digest, Sha256};
    // Hashed through a small reused buffer: many small `update`s cost more than the hashing,
    // and one buffer of the whole list (2 MB at 500k tools) more in page faults.
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    for (name, stamp) in files {
        buf.extend_from_slice(name.as_bytes());
        buf.push(0);
        for n in stamp.0 {
            buf.extend_from_slice(&n.to_le_bytes());
        }
        if buf.len() > 60 * 1024 {
            h.update(&buf);
            buf.clear();
        }
    }
    h.update(&buf);
    hex::encode(h.finalize())
}

fn parse(classifier: &Classifier, dir: &Path, name: &str, stamp: Stamp) -> Parsed {
    let result = load_server(&dir.join(name)).map(|server| {
        let c = classifier.classify_tools(&ServerContext::of(&server), &server.tools);
        (server, c)
    });
    Parsed {
        path: name.to_string(),
        stamp: stamp.to_string(),
        result,
    }
}

/// Deletes a file's servers, tools and their full-text rows.
fn drop_file(tx: &rusqlite::Transaction<'_>, file: i64) -> Result<()> {
    tx.execute(
        "DELETE FROM tools_fts WHERE rowid IN
           (SELECT t.id FROM tools t JOIN servers s ON s.id = t.server WHERE s.file = ?1)",
        [file],
    )?;
    tx.execute(
        "DELETE FROM tools WHERE server IN (SELECT id FROM servers WHERE file = ?1)",
        [file],
    )?;
    tx.execute("DELETE FROM servers WHERE file = ?1", [file])?;
    Ok(())
}

fn write_batch(tx: &rusqlite::Transaction<'_>, parsed: &[Parsed], fresh: bool) -> Result<()> {
    let mut upsert_file = tx.prepare_cached(
        "INSERT INTO files(path, stamp, error) VALUES (?1, ?2, ?3)
         ON CONFLICT(path) DO UPDATE SET stamp = excluded.stamp, error = excluded.error
         RETURNING id",
    )?;
    let mut ins_server = tx.prepare_cached(
        "INSERT INTO servers(file, slug, server_id, name) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut ins_tool = tx.prepare_cached(
        "INSERT INTO tools(server, name, title, description, access, class, risk, effects,
                           action, confidence, findings, sort_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    let mut ins_fts = tx.prepare_cached(
        "INSERT INTO tools_fts(rowid, name, server, description) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for p in parsed {
        // The files table keeps the message (the path is its own column).
        let error = p.result.as_ref().err().map(|e| e.message.as_str());
        let file: i64 = upsert_file.query_row(params![p.path, p.stamp, error], |r| r.get(0))?;
        if !fresh {
            drop_file(tx, file)?;
        }
        let Ok((server, classes)) = &p.result else {
            continue;
        };
        ins_server.execute(params![file, server.slug, server.id, server.name])?;
        let sid = tx.last_insert_rowid();
        let mut server_words = text::index_terms(&server.name);
        server_words.extend(text::index_terms(&server.id));
        server_words.dedup();
        let server_words = server_words.join(" ");
        for (tool, c) in server.tools.iter().zip(classes) {
            ins_tool.execute(params![
                sid,
                tool.name,
                tool.title,
                tool.description,
                c.access.as_str(),
                c.class.as_str(),
                risk_rank(c.risk),
                effects_mask(&c.effects),
                c.policy.action.as_str(),
                c.confidence.as_str(),
                c.findings.len() as i64,
                format!("{}\u{0}{}", server.slug, tool.name),
            ])?;
            let tid = tx.last_insert_rowid();
            // Stored already tokenised by `text::index_terms`, the tokeniser the site's search
            // shares, so both find the same tools.
            let mut name = text::index_terms(&tool.name);
            if let Some(t) = tool.title.as_deref() {
                name.extend(text::index_terms(t));
            }
            let description = text::description_terms(tool.description.as_deref().unwrap_or(""));
            ins_fts.execute(params![
                tid,
                name.join(" "),
                server_words,
                description.join(" ")
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_filter_parses() {
        assert_eq!(
            "high+".parse::<RiskFilter>().unwrap(),
            RiskFilter::AtLeast(Risk::High)
        );
        assert_eq!(
            "Low".parse::<RiskFilter>().unwrap(),
            RiskFilter::Exactly(Risk::Low)
        );
        assert!("huge+".parse::<RiskFilter>().is_err());
    }

    #[test]
    fn effect_bits_are_distinct() {
        let all: i64 = Effect::ALL.iter().map(|e| effect_bit(*e)).sum();
        assert_eq!(all, (1 << Effect::ALL.len()) - 1);
    }
}
