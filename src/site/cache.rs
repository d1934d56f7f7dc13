//! The build cache that makes a rebuild after a small change fast: the summary of every server
//! file keyed by its size and mtime (so unchanged files are not parsed again), and a digest of
//! the inputs of every page group (so pages whose inputs did not change are not rendered again).
//! It lives in the output folder as `.toolrisk-cache.json`; a cache from another binary,
//! base URL or template set is ignored, and a missing or unreadable one only costs time.

use super::{ServerEntry, ToolEntry};
use crate::model::HistoryEntry;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

pub const FILE: &str = ".toolrisk-cache.json";

/// One server file's summary, valid while the file keeps its size and mtime.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedServer {
    pub size: u64,
    pub mtime: i128,
    pub entry: ServerEntry,
    pub tools: Vec<ToolEntry>,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Cache {
    /// What the cached results depend on besides the catalogue (binary, options, templates).
    pub key: u64,
    pub files: HashMap<PathBuf, CachedServer>,
    /// Digest of the inputs of a page group: `s:<slug>` for a server's pages, the path of a
    /// listing page for the others.
    pub digests: HashMap<String, u64>,
}

impl Cache {
    /// The cache in `out`, if it was made with `key`; an empty one otherwise.
    pub fn load(out: &Path, key: u64) -> Cache {
        let read = std::fs::read(out.join(FILE))
            .ok()
            .and_then(|b| serde_json::from_slice::<Cache>(&b).ok());
        match read {
            Some(c) if c.key == key => c,
            _ => Cache {
                key,
                ..Cache::default()
            },
        }
    }

    pub fn save(&self, out: &Path) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(self)?;
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
