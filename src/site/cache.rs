//! The build cache that makes a rebuild after a small change fast: the summary of every server
//! file keyed by its size and mtime (so unchanged files are not parsed again), and a digest of
//! the inputs of every page group (so pages whose inputs did not change are not rendered again).
//!
//! It lives in the output folder under `.toolrisk-cache/`: an index (a magic line, the key,
//! the digests, the names of the parts) and the summaries in part files of 1,024 servers, all
//! in postcard (a compact serde binary format; at 500k tools JSON took a second to read and
//! write, a third of a rebuild). Parts are read on all cores, and a rebuild writes only the
//! parts whose servers changed. A cache from another binary, base URL or template set
//! is ignored, and a missing, truncated or unreadable one only costs time.

use super::{ServerEntry, ToolEntry};
use crate::model::HistoryEntry;
use anyhow::Context as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The folder (in the output folder) that holds the cache: `index.bin` and the parts.
pub const DIR: &str = ".toolrisk-cache";
const INDEX: &str = "index.bin";
/// Caches of earlier versions, removed when a new cache is saved.
const OLD_FILES: [&str; 2] = [".toolrisk-cache.bin", ".toolrisk-cache.json"];
/// Starts the index; the format version is in it.
const MAGIC: &[u8; 8] = b"TRCACHE4";
/// Servers per part file.
const PART: usize = 1024;

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
    /// Summaries by server file (its path as bytes: hashing a `Path` goes component by
    /// component). The build takes them out as it reuses them.
    pub files: HashMap<std::ffi::OsString, CachedServer>,
    /// Digest of the inputs of a page or page group (a listing page, a search index file),
    /// by its path.
    pub digests: HashMap<String, u64>,
    /// By server slug, digests of the inputs of its pages: first what comes from its own file,
    /// then for each tool what its page shows of other servers' tools (similar tools), so a
    /// change elsewhere re-renders only the tool pages that show it.
    pub servers: HashMap<String, Vec<u64>>,
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
        let dir = out.join(DIR);
        let Ok(bytes) = std::fs::read(dir.join(INDEX)) else {
            return empty;
        };
        if bytes.len() < 16 || &bytes[..8] != MAGIC || bytes[8..16] != key.to_le_bytes() {
            return empty;
        }
        let Some([digests, servers, parts]) =
            split_sections(&bytes[16..]).and_then(|s| <[&[u8]; 3]>::try_from(s).ok())
        else {
            return empty;
        };
        let Ok(parts) = postcard::from_bytes::<Vec<u64>>(parts) else {
            return empty;
        };
        let ((digests, servers), parts) = rayon::join(
            || {
                (
                    postcard::from_bytes::<HashMap<String, u64>>(digests),
                    postcard::from_bytes::<HashMap<String, Vec<u64>>>(servers),
                )
            },
            || {
                parts
                    .par_iter()
                    .map(|d| {
                        let bytes = std::fs::read(dir.join(part_name(*d))).ok()?;
                        postcard::from_bytes::<Vec<CachedServer>>(&bytes).ok()
                    })
                    .collect::<Option<Vec<_>>>()
            },
        );
        let (Ok(digests), Ok(servers), Some(parts)) = (digests, servers, parts) else {
            return empty;
        };
        Cache {
            key,
            files: parts
                .into_iter()
                .flatten()
                .map(|c| (c.entry.file.clone().into_os_string(), c))
                .collect(),
            digests,
            servers,
        }
    }

    /// Makes the cache in `out` unusable (a missing one is fine): its index goes, so no
    /// part is trusted until a build saves a new one.
    pub fn discard(out: &Path) -> anyhow::Result<()> {
        let index = out.join(DIR).join(INDEX);
        let old = OLD_FILES.iter().map(|f| out.join(f));
        for path in std::iter::once(index).chain(old) {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| {
                        format!("cannot remove the build cache {}", path.display())
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Saves this cache's digests with the server summaries `files`, `PART` servers to a part
    /// file. A part is named by a digest of the key and its servers' files, stamps and slugs,
    /// which decide its content: a part the last build saved is kept as it is, so a rebuild
    /// after one server changed writes one part, not the whole cache (70 MB at 500k tools).
    /// The index (digests, then the part names) is written last, and parts it does not name
    /// are removed.
    pub fn save(&self, out: &Path, files: &[CachedRef<'_>]) -> anyhow::Result<()> {
        let dir = out.join(DIR);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the build cache folder {}", dir.display()))?;
        let parts: Vec<u64> = files
            .par_chunks(PART)
            .map(|chunk| -> anyhow::Result<u64> {
                let d = digest(&(
                    self.key,
                    chunk
                        .iter()
                        .map(|c| (&c.entry.file, c.entry.stamp, &c.entry.slug))
                        .collect::<Vec<_>>(),
                ));
                let path = dir.join(part_name(d));
                if !path.is_file() {
                    crate::catalogue::write_atomic(&path, &postcard::to_stdvec(chunk)?)?;
                }
                Ok(d)
            })
            .collect::<anyhow::Result<_>>()?;
        let mut bytes = Vec::with_capacity(16);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&self.key.to_le_bytes());
        for s in [
            postcard::to_stdvec(&self.digests)?,
            postcard::to_stdvec(&self.servers)?,
            postcard::to_stdvec(&parts)?,
        ] {
            bytes.extend_from_slice(&(s.len() as u64).to_le_bytes());
            bytes.extend_from_slice(&s);
        }
        crate::catalogue::write_atomic(&dir.join(INDEX), &bytes)?;
        let keep: std::collections::HashSet<String> = parts.iter().map(|d| part_name(*d)).collect();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name != INDEX && !keep.contains(&name) {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        for f in OLD_FILES {
            let _ = std::fs::remove_file(out.join(f));
        }
        Ok(())
    }
}

fn part_name(digest: u64) -> String {
    format!("{digest:016x}.bin")
}

/// The sections of a saved index, or `None` if it is cut short.
fn split_sections(mut rest: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
        let len = usize::try_from(len).ok()?;
        let section = rest.get(8..8usize.checked_add(len)?)?;
        out.push(section);
        rest = &rest[8 + len..];
    }
    Some(out)
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
pub fn key(
    base_url: &str,
    templates: &super::templates::Templates,
    classifier_inputs: &[PathBuf],
) -> u64 {
    let exe = std::env::current_exe().ok().and_then(|p| stamp(&p));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // What decides every classification: the bytes of the overrides and rules files (a file
    // that is absent or unreadable hashes as such; the classifier reports it).
    for p in classifier_inputs {
        p.hash(&mut h);
        crate::bounded::read_bytes(p, 64 << 20).ok().hash(&mut h);
    }
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
        let path = dir.path().join(DIR).join(INDEX);
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

    fn refs_of(entries: &[ServerEntry]) -> Vec<CachedRef<'_>> {
        entries
            .iter()
            .map(|e| CachedRef {
                entry: e,
                tools: &[],
                history: vec![],
            })
            .collect()
    }

    #[test]
    fn summaries_in_many_parts_come_back_whole() {
        use std::path::PathBuf;
        let dir = tempfile::tempdir().unwrap();
        let n = PART * 2 + 7;
        let entries: Vec<ServerEntry> = (0..n)
            .map(|i| ServerEntry {
                file: PathBuf::from(format!("servers/s{i}.yaml")),
                id: format!("s{i}"),
                slug: format!("s{i}"),
                source_slug: format!("s{i}"),
                name: format!("Server {i}"),
                summary: String::new(),
                status: Default::default(),
                first_tool: 0,
                tool_count: 0,
                max_risk: None,
                last_crawl: None,
                stamp: (i as u64, i as i128),
                terms: format!("server s{i}"),
            })
            .collect();
        let refs = refs_of(&entries);
        let mut c = Cache {
            key: 3,
            ..Cache::default()
        };
        c.servers.insert("s1".into(), vec![1, 2, 3]);
        c.save(dir.path(), &refs).unwrap();
        let back = Cache::load(dir.path(), 3);
        assert_eq!(back.files.len(), n);
        let last = &back.files[std::ffi::OsStr::new(&format!("servers/s{}.yaml", n - 1))];
        assert_eq!(last.entry.stamp, ((n - 1) as u64, (n - 1) as i128));
        assert_eq!(back.servers["s1"], [1, 2, 3]);

        // One server changes: only its part is written again, the stale part goes.
        let parts = |d: &Path| -> std::collections::BTreeSet<String> {
            std::fs::read_dir(d.join(DIR))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != INDEX)
                .collect()
        };
        let before = parts(dir.path());
        assert_eq!(before.len(), 3);
        let mut entries = entries;
        entries[PART + 5].stamp = (1, 1);
        let refs = refs_of(&entries);
        c.save(dir.path(), &refs).unwrap();
        let after = parts(dir.path());
        assert_eq!(after.len(), 3);
        assert_eq!(before.intersection(&after).count(), 2);
        let back = Cache::load(dir.path(), 3);
        assert_eq!(
            back.files[entries[PART + 5].file.as_os_str()].entry.stamp,
            (1, 1)
        );

        // A part gone missing: the cache is not trusted.
        std::fs::remove_file(dir.path().join(DIR).join(after.iter().next().unwrap())).unwrap();
        let back = Cache::load(dir.path(), 3);
        assert!(back.files.is_empty() && back.servers.is_empty());
    }
}
