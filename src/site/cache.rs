//! The build cache that makes a rebuild after a small change fast: the summary of every server
//! file keyed by its size and mtime (so unchanged files are not parsed again), and a digest of
//! the inputs of every page group (so pages whose inputs did not change are not rendered again).
//!
//! It lives in the output folder as `.toolrisk-cache.bin`: a magic line, the key, then the
//! summaries in postcard (a compact serde binary format; at 500k tools JSON took a second to
//! read and write, a third of a rebuild). A cache from another binary, base URL or template set
//! is ignored, and a missing, truncated or unreadable one only costs time.

use super::{ServerEntry, ToolEntry};
use crate::model::HistoryEntry;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

pub const FILE: &str = ".toolrisk-cache.bin";
/// The JSON cache of earlier versions, removed when a new cache is saved.
const OLD_FILE: &str = ".toolrisk-cache.json";
/// Starts the file; the format version is in it.
const MAGIC: &[u8; 8] = b"TRCACHE2";

/// One server file's summary, valid while the file keeps the size and mtime in `entry.stamp`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedServer {
    pub entry: ServerEntry,
    pub tools: Vec<ToolEntry>,
    pub history: Vec<CachedChange>,
}

/// A history entry as the changes page needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedChange {
    pub at: String,
    pub tool: String,
    pub change: String,
}

impl From<&HistoryEntry> for CachedChange {
    fn from(h: &HistoryEntry) -> Self {
        CachedChange {
            at: h.at.clone(),
            tool: h.tool.clone(),
            change: h.change.clone(),
        }
    }
}

impl From<CachedChange> for HistoryEntry {
    fn from(c: CachedChange) -> Self {
        HistoryEntry {
            at: c.at,
            tool: c.tool,
            change: c.change,
            ..HistoryEntry::default()
        }
    }
}

#[derive(Debug, Default)]
pub struct Cache {
    /// What the cached results depend on besides the catalogue (binary, options, templates).
    pub key: u64,
    /// Summaries by server file. The build takes them out as it reuses them.
    pub files: HashMap<PathBuf, CachedServer>,
    /// Digest of the inputs of a page or page group (a listing page, a search index file),
    /// by its path.
    pub digests: HashMap<String, u64>,
    /// By server slug, digests of the inputs of its pages: first what comes from its own file,
    /// then for each tool what its page shows of other servers' tools (similar tools), so a
    /// change elsewhere re-renders only the tool pages that show it.
    pub servers: HashMap<String, Vec<u64>>,
}

#[derive(Deserialize)]
struct Stored {
    files: Vec<CachedServer>,
    digests: HashMap<String, u64>,
    servers: HashMap<String, Vec<u64>>,
}

#[derive(Serialize)]
struct StoredRef<'a> {
    files: &'a [CachedRef<'a>],
    digests: &'a HashMap<String, u64>,
    servers: &'a HashMap<String, Vec<u64>>,
}

/// What `save` writes for one server: borrowed from the site summary, not copied.
#[derive(Serialize)]
pub struct CachedRef<'a> {
    pub entry: &'a ServerEntry,
    pub tools: &'a [ToolEntry],
    pub history: Vec<CachedChange>,
}

impl Cache {
    /// The cache in `out`, if it was made with `key`; an empty one otherwise.
    pub fn load(out: &Path, key: u64) -> Cache {
        let empty = Cache {
            key,
            ..Cache::default()
        };
        let Ok(bytes) = std::fs::read(out.join(FILE)) else {
            return empty;
        };
        if bytes.len() < 16 || &bytes[..8] != MAGIC || bytes[8..16] != key.to_le_bytes() {
            return empty;
        }
        match postcard::from_bytes::<Stored>(&bytes[16..]) {
            Ok(s) => Cache {
                key,
                files: s
                    .files
                    .into_iter()
                    .map(|c| (c.entry.file.clone(), c))
                    .collect(),
                digests: s.digests,
                servers: s.servers,
            },
            Err(_) => empty,
        }
    }

    /// Removes the cache from `out` (a missing one is fine).
    pub fn discard(out: &Path) -> anyhow::Result<()> {
        for name in [FILE, OLD_FILE] {
            match std::fs::remove_file(out.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| {
                        format!("cannot remove the build cache {}", out.join(name).display())
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Saves this cache's digests with the server summaries `files`.
    pub fn save(&self, out: &Path, files: &[CachedRef<'_>]) -> anyhow::Result<()> {
        let mut bytes = Vec::with_capacity(16 + files.len() * 4096);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.key.to_le_bytes());
        let bytes = postcard::to_extend(
            &StoredRef {
                files,
                digests: &self.digests,
                servers: &self.servers,
            },
            bytes,
        )?;
        crate::catalogue::write_atomic(&out.join(FILE), &bytes)
    }
}

/// Size and mtime (ns since the epoch) of a file.
pub fn stamp(path: &Path) -> Option<(u64, i128)> {
    let m = std::fs::metadata(path).ok()?;
    let t = m.modified().ok()?;
    let ns = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    Some((m.len(), ns))
}

/// A stable 64-bit digest of anything hashable.
pub fn digest<T: Hash + ?Sized>(v: &T) -> u64 {
    // SipHash with fixed keys: stable across runs of the same binary, which is all the cache
    // needs (the binary is part of the key).
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// What a cache depends on besides the catalogue: this binary, the base URL, the templates.
pub fn key(base_url: &str, templates: &super::templates::Templates) -> u64 {
    let exe = std::env::current_exe().ok().and_then(|p| stamp(&p));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    exe.hash(&mut h);
    base_url.hash(&mut h);
    templates.sources_digest.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_from_another_key_or_a_damaged_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Cache {
            key: 7,
            ..Cache::default()
        };
        c.digests.insert("s:a".into(), 42);
        c.save(dir.path(), &[]).unwrap();
        assert_eq!(Cache::load(dir.path(), 7).digests.get("s:a"), Some(&42));
        assert!(Cache::load(dir.path(), 8).digests.is_empty());
        let path = dir.path().join(FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(Cache::load(dir.path(), 7).digests.is_empty());
        std::fs::write(&path, b"{\"key\":7}").unwrap();
        assert!(Cache::load(dir.path(), 7).digests.is_empty());
        // A build discards the cache when it starts; a missing one is no error.
        c.save(dir.path(), &[]).unwrap();
        Cache::discard(dir.path()).unwrap();
        assert!(!path.exists());
        Cache::discard(dir.path()).unwrap();
        Cache::discard(&dir.path().join("no-such-folder")).unwrap();
    }
}
