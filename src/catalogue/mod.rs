//! The catalogue on disk: one YAML file per server under `servers/`, read leniently (one bad
//! file never stops the others) and written atomically (temp file + rename), with a stable key
//! order so that a crawl shows in `git diff` as exactly what changed.

pub mod yaml;

use crate::model::Server;
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Largest catalogue file read, in bytes; a larger one is reported, not loaded.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A catalogue directory.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub root: PathBuf,
}

/// A file that could not be loaded, with the reason.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for LoadError {}

/// Everything that loaded, and everything that did not.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Servers sorted by slug.
    pub servers: Vec<Server>,
    pub errors: Vec<LoadError>,
}

impl Catalogue {
    pub fn new(root: impl Into<PathBuf>) -> Catalogue {
        Catalogue { root: root.into() }
    }

    /// `<root>/servers`.
    pub fn servers_dir(&self) -> PathBuf {
        self.root.join("servers")
    }

    /// `<root>/servers/<slug>.yaml`.
    pub fn server_path(&self, slug: &str) -> PathBuf {
        self.servers_dir().join(format!("{slug}.yaml"))
    }

    /// An error saying how to get a catalogue when there is none at `root`.
    pub fn require(&self) -> Result<()> {
        if self.servers_dir().is_dir() {
            return Ok(());
        }
        Err(self.missing())
    }

    /// The error for a folder with no `servers/`: says how to get a catalogue.
    pub fn missing(&self) -> anyhow::Error {
        anyhow::anyhow!(
            "no catalogue at {}: expected a folder {}. Give one with --catalogue DIR \
             or TOOLRISK_CATALOGUE, run inside a toolrisk checkout, or install one with \
             `toolrisk catalogue install` (`toolrisk catalogue path` shows where \
             toolrisk looks)",
            self.root.display(),
            self.servers_dir().display()
        )
    }

    /// Paths of all server files, sorted.
    pub fn server_files(&self) -> Result<Vec<PathBuf>> {
        let dir = self.servers_dir();
        let mut files = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(self.missing());
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
                files.push(path);
            }
        }
        // All in one folder: byte order of the whole path is file-name order, and cheaper
        // than comparing paths component by component.
        files.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        Ok(files)
    }

    /// Loads every server file in parallel. A file that fails is reported in `errors` and the
    /// others still load.
    pub fn load(&self) -> Result<Loaded> {
        let files = self.server_files()?;
        let results: Vec<Result<Server, LoadError>> =
            files.par_iter().map(|p| load_server(p)).collect();
        let mut loaded = Loaded::default();
        for r in results {
            match r {
                Ok(s) => loaded.servers.push(s),
                Err(e) => loaded.errors.push(e),
            }
        }
        loaded.servers.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(loaded)
    }

    /// Loads one server by slug or id.
    pub fn find(&self, key: &str) -> Result<Server> {
        let direct = self.server_path(&crate::slug::slugify(key));
        if crate::slug::slugify(key) == key && direct.is_file() {
            return load_server(&direct).map_err(|e| anyhow::anyhow!("{e}"));
        }
        let loaded = self.load()?;
        if let Some(s) = loaded
            .servers
            .into_iter()
            .find(|s| s.slug == key || s.id == key || s.name == key)
        {
            return Ok(s);
        }
        anyhow::bail!(
            "no server `{key}` in the catalogue at {} (give its slug or id; the slugs are the \
             file names in {})",
            self.root.display(),
            self.servers_dir().display()
        )
    }

    /// `<root>/.lock`, the file a writer locks.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// Takes the catalogue's write lock (`flock` on `<root>/.lock`), so that two crawls
    /// never write one catalogue at once (two new servers with the same slug would otherwise
    /// both be written to one file). When another process holds it, `waiting` is called
    /// once and this blocks until it is released. The lock goes with the returned guard (or
    /// the process: a killed crawl never leaves a stale lock).
    pub fn lock_for_writing(&self, waiting: impl FnOnce(&Path)) -> Result<WriteLock> {
        fs::create_dir_all(&self.root)
            .with_context(|| format!("creating {}", self.root.display()))?;
        let path = self.lock_path();
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        let lock = WriteLock { file, path };
        if !lock.flock(libc::LOCK_EX | libc::LOCK_NB)? {
            waiting(&lock.path);
            lock.flock(libc::LOCK_EX)?;
        }
        Ok(lock)
    }

    /// Writes a server atomically to `servers/<slug>.yaml`.
    pub fn write(&self, server: &Server) -> Result<PathBuf> {
        let path = self.server_path(&server.slug);
        write_server(&path, server)?;
        Ok(path)
    }
}

/// The catalogue's write lock; released when dropped.
#[derive(Debug)]
pub struct WriteLock {
    file: fs::File,
    path: PathBuf,
}

impl WriteLock {
    /// `flock(2)`; `Ok(false)` when `LOCK_NB` was given and another holder has it.
    fn flock(&self, op: libc::c_int) -> Result<bool> {
        use std::os::fd::AsRawFd;
        loop {
            // SAFETY: flock on a file descriptor this struct owns; no memory is passed.
            let r = unsafe { libc::flock(self.file.as_raw_fd(), op) };
            if r == 0 {
                return Ok(true);
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) if op & libc::LOCK_NB != 0 => return Ok(false),
                _ => return Err(e).with_context(|| format!("locking {}", self.path.display())),
            }
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as above; closing the file would release it too.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// Reads and parses one server file, with an error that names the file, line and field.
pub fn load_server(path: &Path) -> Result<Server, LoadError> {
    let err = |message: String| LoadError {
        path: path.to_path_buf(),
        message,
    };
    // Bounded: FIFOs and devices refused, at most the limit read, no content in errors; a
    // leading BOM is dropped; nesting checked before the parser sees it.
    let text = crate::bounded::read_text(path, MAX_FILE_BYTES).map_err(|e| match e.kind {
        crate::bounded::ReadErrorKind::TooLarge { limit } => {
            err(format!("larger than the {limit} byte limit; not read"))
        }
        crate::bounded::ReadErrorKind::NotRegularFile(what) => {
            err(format!("is a {what}, not a regular file; not read"))
        }
        crate::bounded::ReadErrorKind::NotUtf8 { offset } => {
            err(format!("not UTF-8 text (invalid byte at offset {offset})"))
        }
        crate::bounded::ReadErrorKind::NotFound => err("no such file".into()),
        crate::bounded::ReadErrorKind::Io(io) => err(io.to_string()),
    })?;
    crate::bounded::check_yaml_depth(&text, crate::bounded::MAX_YAML_DEPTH)
        .map_err(|e| err(e.to_string()))?;
    let server: Server = serde_yaml::from_str(&text).map_err(|e| err(yaml_error(&e)))?;
    if server.slug != crate::slug::slugify(&server.slug) {
        return Err(err(format!(
            "field `slug`: `{}` is not a valid slug (lower-case letters, digits and dashes)",
            server.slug
        )));
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != server.slug {
        return Err(err(format!(
            "field `slug`: `{}` does not match the file name `{stem}.yaml`",
            server.slug
        )));
    }
    Ok(server)
}

/// A YAML error as `line L column C: message`. Values quoted from the file are left out
/// (`invalid type: string "…"`): the file may be a link to a private key or a `.env`, and
/// errors end up in CI logs.
pub fn yaml_error(e: &serde_yaml::Error) -> String {
    let msg = redact_values(&e.to_string());
    match e.location() {
        Some(loc) => {
            // The library appends "at line L column C"; say it once, up front.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            format!("line {} column {}: {}", loc.line(), loc.column(), msg)
        }
        None => msg,
    }
}

/// Replaces every double-quoted value in a parser message with `"…"`.
fn redact_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut chars = msg.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            let mut escaped = false;
            for d in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == '"' {
                    break;
                }
            }
            out.push_str("…\"");
        }
    }
    out
}

/// Serialises a server to YAML with stable key order, quoting every scalar a YAML 1.1 reader
/// would take for something other than a string (see [`yaml`]).
pub fn to_yaml(server: &Server) -> Result<String> {
    let value = serde_yaml::to_value(server).context("serialising server record")?;
    yaml::emit(&value).map_err(|e| anyhow::anyhow!("serialising server record: {e}"))
}

/// Writes `server` to `path` atomically: a temp file in the same folder, fsync, rename.
pub fn write_server(path: &Path, server: &Server) -> Result<()> {
    let text = to_yaml(server)?;
    write_atomic(path, text.as_bytes())
}

/// The text the record store's writer gives the record at `path`, when it differs from the
/// file's bytes (`None` when the file is already as the writer would write it), for
/// `toolrisk catalogue normalise`. The record is read as every command reads it; the new text
/// is parsed back and must hold the same record, so normalising changes only how the file
/// is spelt (quoting, key order, indentation), never what it says.
pub fn normalised_record(path: &Path) -> Result<Option<String>, LoadError> {
    let err = |message: String| LoadError {
        path: path.to_path_buf(),
        message,
    };
    let server = load_server(path)?;
    let text = to_yaml(&server).map_err(|e| err(format!("{e:#}")))?;
    let back: Server = serde_yaml::from_str(&text).map_err(|e| {
        err(format!(
            "the writer's text does not parse back ({}); left as it is",
            yaml_error(&e)
        ))
    })?;
    if back != server {
        return Err(err(
            "the writer's text reads back as a different record; left as it is".into(),
        ));
    }
    let bytes = crate::bounded::read_bytes(path, MAX_FILE_BYTES).map_err(|e| err(e.to_string()))?;
    Ok((bytes != text.as_bytes()).then_some(text))
}

/// An error when `path` (or what a link there points to) exists and is not a regular file:
/// renaming a temp file over it would replace a device such as `/dev/null` or `/dev/stdout`
/// (as root, for every process on the machine).
pub fn refuse_special(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            let ft = m.file_type();
            let what = if ft.is_dir() {
                "folder"
            } else if ft.is_fifo() {
                "FIFO"
            } else if ft.is_socket() {
                "socket"
            } else {
                "device"
            };
            anyhow::bail!(
                "{} is a {what}, not a regular file: refusing to replace it",
                path.display()
            )
        }
        _ => Ok(()),
    }
}

/// Writes bytes to `path` atomically, creating the parent folder. A `path` that is a device,
/// FIFO, socket or folder is refused, never replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    refuse_special(path)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

/// JSON Schema of the catalogue record, for editors.
pub fn record_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Server);
    serde_json::to_value(schema).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CrawlStatus, Tool};

    fn sample() -> Server {
        Server {
            id: "npm:@x/y".into(),
            slug: "x-y".into(),
            name: "Y".into(),
            tools: vec![Tool::from_json(&serde_json::json!({"name":"get_a","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":true}})).unwrap()],
            ..Server::default()
        }
    }

    #[test]
    fn round_trip_and_errors_name_file_line_field() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalogue::new(dir.path());
        let s = sample();
        cat.write(&s).unwrap();
        fs::write(
            cat.server_path("bad"),
            "id: a\nslug: bad\nname: b\ntools:\n  - name: t\n    colour: red\n",
        )
        .unwrap();
        let loaded = cat.load().unwrap();
        assert_eq!(loaded.servers, vec![s.clone()]);
        assert_eq!(loaded.errors.len(), 1);
        let msg = loaded.errors[0].to_string();
        assert!(msg.contains("bad.yaml"), "{msg}");
        assert!(msg.contains("line 6"), "{msg}");
        assert!(msg.contains("colour"), "{msg}");
        assert_eq!(loaded.servers[0].crawl.status, CrawlStatus::Never);
        // writing twice gives identical bytes
        let a = fs::read(cat.server_path("x-y")).unwrap();
        cat.write(&s).unwrap();
        assert_eq!(a, fs::read(cat.server_path("x-y")).unwrap());
    }

    #[test]
    fn slug_must_match_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalogue::new(dir.path());
        let mut s = sample();
        s.slug = "../evil".into();
        write_server(&cat.server_path("evil"), &s).unwrap();
        let loaded = cat.load().unwrap();
        assert!(loaded.servers.is_empty());
        assert!(loaded.errors[0].message.contains("slug"));
    }

    #[test]
    fn schema_mentions_fields() {
        let s = record_schema().to_string();
        assert!(s.contains("input_schema") && s.contains("tools_hash"));
    }
}

#[cfg(test)]
mod schema_file {
    /// The published schema (catalogue/schema.json) is what the code generates: regenerate it
    /// with `toolrisk schema > catalogue/schema.json` after changing the record types.
    #[test]
    fn published_schema_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/catalogue/schema.json");
        let published: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            published,
            super::record_schema(),
            "catalogue/schema.json is stale"
        );
    }
}

#[cfg(test)]
mod yaml_1_1 {
    //! Records read back the same by a YAML 1.1 reader (PyYAML, whose resolver follows the
    //! 1.1 type repository) as by our own reader. PyYAML is a test requirement
    //! (scripts/setup.d/cli.sh installs python3-yaml).
    use super::*;
    use crate::model::Tool;

    /// Sends (yaml, json) pairs to PyYAML; returns the indexes whose YAML it reads differently.
    fn pyyaml_disagrees(pairs: &[(String, serde_json::Value)]) -> Vec<(usize, String)> {
        use std::io::Write as _;
        let script = r#"
import sys, json, yaml
bad = []
for i, line in enumerate(sys.stdin):
    pair = json.loads(line)
    try:
        got = yaml.safe_load(pair["yaml"])
        if got != pair["json"]:
            bad.append([i, "read as " + repr(got)[:300]])
    except Exception as e:
        bad.append([i, "error " + str(e)[:300]])
print(json.dumps(bad))
"#;
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs (a test requirement: scripts/setup.d/cli.sh)");
        {
            let mut stdin = child.stdin.take().unwrap();
            for (y, j) in pairs {
                let line = serde_json::json!({"yaml": y, "json": j});
                writeln!(stdin, "{line}").unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "PyYAML check failed to run (is python3-yaml installed?)"
        );
        serde_json::from_slice::<Vec<(usize, String)>>(&out.stdout).unwrap()
    }

    fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: String) -> String {
        use serde_json::Value as J;
        match (a, b) {
            (J::Object(x), J::Object(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) if w != v => return first_difference(v, w, format!("{at}/{k}")),
                        None => return format!("{at}/{k} missing"),
                        _ => {}
                    }
                }
                format!(
                    "{at}: keys {:?} vs {:?}",
                    x.keys().collect::<Vec<_>>(),
                    y.keys().collect::<Vec<_>>()
                )
            }
            (J::Array(x), J::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    if v != w {
                        return first_difference(v, w, format!("{at}/{i}"));
                    }
                }
                at
            }
            _ => format!("{at}: {a:?} vs {b:?}"),
        }
    }

    fn awkward_strings() -> Vec<String> {
        let mut v: Vec<String> = [
            "2025-11-25",
            "2026-11-26T14:00:02Z",
            "2001-12-14 21:59:43.10 -5",
            "1.10",
            "3.3.0",
            "no",
            "on",
            "Off",
            "y",
            "~",
            "null",
            "",
            "0755",
            "0x1F",
            "1_000",
            "190:20:30",
            "+.inf",
            ".nan",
            "<<",
            "=",
            "1e5",
            "- a",
            "? q",
            ": x",
            "a: b",
            "a #b",
            "#c",
            "'q'",
            "\"d\"",
            "&anchor",
            "*alias",
            "!tag",
            "|",
            ">",
            "%x",
            "@x",
            "`x",
            "[a]",
            "{a: 1}",
            "tab\there",
            " lead",
            "trail ",
            "colon:",
            "x\u{1b}[2Jy",
            "nel\u{85}x",
            "ls\u{2028}x",
            "bom\u{feff}x",
            "nul\0x",
            "cr\rx",
            "a\nb",
            "a\nb\n",
            "a\n\nb\n\n",
            "\nlead",
            "  indented\nx",
            "x\n  \ny",
            "x\n\ty",
            "é ü 漢字 🎉",
            "\\back\\slash",
            "a\u{7f}b",
            "\u{9f}c1",
            "\u{fffe}x",
            "-1",
            "-",
            "--",
            "---",
            "...",
            "y: n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // And some pseudo-random mixes of the troublesome characters.
        let alphabet: Vec<char> = "ab01.:-_ #'\"\n\t\\{}[],&*!|>%@`~yYnN\u{85}\u{2028}\u{1b}é"
            .chars()
            .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for k in 0..(x % 12) {
                let r = x.rotate_left((k * 5) as u32);
                s.push(alphabet[(r % alphabet.len() as u64) as usize]);
            }
            v.push(s);
        }
        v
    }

    #[test]
    fn records_round_trip_through_yaml_1_1_rules() {
        // Every awkward string as a name, a description, a version, a schema key and value.
        let mut servers = Vec::new();
        for (i, s) in awkward_strings().into_iter().enumerate() {
            let tool = Tool::from_json(&serde_json::json!({
                "name": s,
                "description": s,
                "inputSchema": {"type": "object", "properties": {s.clone(): {"type": "string", "default": s, "enum": [s, 1.10, 2, true, null]}}},
            }))
            .unwrap();
            servers.push(Server {
                id: format!("test:{i}"),
                slug: format!("s{i}"),
                name: s.clone(),
                version: Some(s),
                tools: vec![tool],
                ..Server::default()
            });
        }
        // A key too long to be an implicit key.
        let long = "k".repeat(2000);
        servers.push(Server {
            id: "test:long".into(),
            slug: "long".into(),
            name: "long".into(),
            tools: vec![Tool::from_json(&serde_json::json!({"name": "t", "inputSchema": {"type": "object", "properties": {long: {"type": "array", "items": [{"a": ["b"]}]}}}})).unwrap()],
            ..Server::default()
        });
        // And the shipped catalogue's records, as they are.
        let shipped = Catalogue::new(concat!(env!("CARGO_MANIFEST_DIR"), "/catalogue"))
            .load()
            .unwrap();
        assert!(shipped.servers.len() > 10);
        servers.extend(shipped.servers);

        let mut pairs = Vec::new();
        for s in &servers {
            let text = to_yaml(s).unwrap();
            let back: Server = serde_yaml::from_str(&text)
                .unwrap_or_else(|e| panic!("our reader fails on {}: {e}\n{text}", s.slug));
            if &back != s {
                let (a, b) = (
                    serde_json::to_value(s).unwrap(),
                    serde_json::to_value(&back).unwrap(),
                );
                panic!(
                    "our reader reads {} differently at {}",
                    s.slug,
                    first_difference(&a, &b, String::new())
                );
            }
            pairs.push((text, serde_json::to_value(s).unwrap()));
        }
        let bad = pyyaml_disagrees(&pairs);
        let shown: Vec<String> = bad
            .iter()
            .take(5)
            .map(|(i, why)| format!("{}: {why}\n{}", servers[*i].slug, pairs[*i].0))
            .collect();
        assert!(
            bad.is_empty(),
            "PyYAML reads {} records differently:\n{}",
            bad.len(),
            shown.join("\n---\n")
        );
    }
}
