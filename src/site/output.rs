//! The output folder: writes a file only when its bytes changed (so unchanged pages keep their
//! mtime), remembers every file a build produced, and removes the ones a later build no longer
//! produces. Every path is checked to stay inside the output folder.
//!
//! The manifest keeps loose files one per line, and the files of each server as one `S\t` line
//! of slugs (its files follow from them), so a rebuild compares 25,000 lines, not 1.5 million
//! paths, and servers whose pages were skipped cost nothing here.

use anyhow::{bail, Context, Result};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Name of the list of files the last build wrote, kept in the output folder.
pub const MANIFEST: &str = ".toolrisk-files";

/// Counts of what a build did to the output folder.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    pub written: u64,
    pub unchanged: u64,
    pub removed: u64,
}

/// The files of one server, named by its slug and its tools' slugs.
pub struct Group<'a> {
    pub slug: &'a str,
    pub members: Vec<&'a str>,
}

/// Lists the files of a group (relative paths), for removing stale ones.
pub type GroupFiles<'f> = &'f dyn Fn(&str, &[&str]) -> Vec<String>;

pub struct Output {
    root: PathBuf,
    /// No manifest was found: the folder holds no earlier build, so files are written without
    /// first looking for an old copy (one syscall less per file on a first build).
    fresh: bool,
    produced: Mutex<HashSet<String>>,
    written: AtomicU64,
    unchanged: AtomicU64,
    /// The output folder, opened and `flock`ed for this build: a second build (or `serve`'s
    /// rebuild) into the same folder waits rather than racing on temp names and stale-file
    /// removal. Released when the build ends (or its process dies).
    _lock: std::fs::File,
}

/// Takes the folder's lock, waiting (and saying so) while another build holds it.
fn lock_folder(root: &Path) -> Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(root)
        .with_context(|| format!("cannot open output folder {}", root.display()))?;
    // SAFETY: flock on a file descriptor this function owns.
    if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(e).with_context(|| format!("cannot lock output folder {}", root.display()));
        }
        eprintln!(
            "waiting: another toolrisk build is writing to {}",
            root.display()
        );
        // SAFETY: as above.
        if unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("cannot lock output folder {}", root.display()));
        }
    }
    Ok(dir)
}

impl Output {
    pub fn new(root: &Path) -> Result<Output> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create output folder {}", root.display()))?;
        let lock = lock_folder(root)?;
        Ok(Output {
            _lock: lock,
            root: root.to_path_buf(),
            fresh: !root.join(MANIFEST).exists(),
            produced: Mutex::new(HashSet::new()),
            written: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `rel` (a `/`-separated path inside the folder) unless it already holds `bytes`.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.write_owned(rel, bytes)?;
        self.mark(rel);
        Ok(())
    }

    /// Writes like `write` but does not record the file: it belongs to a `Group` that
    /// `finish` is given.
    pub fn write_owned(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.resolve(rel)?;
        let meta = if self.fresh {
            Err(std::io::Error::from(std::io::ErrorKind::NotFound))
        } else {
            std::fs::metadata(&path)
        };
        let same = match &meta {
            Ok(m) if m.len() == bytes.len() as u64 => std::fs::read(&path)
                .map(|old| old == bytes)
                .unwrap_or(false),
            _ => false,
        };
        if same {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
        } else if meta.is_err() {
            // A new file: nobody can be reading an older version, so write it in place.
            if let Err(e) = std::fs::write(&path, bytes) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(e).with_context(|| format!("cannot write {}", path.display()));
                }
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create folder {}", dir.display()))?;
                }
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            self.written.fetch_add(1, Ordering::Relaxed);
        } else {
            // Write to a temporary name and rename, so a reader (or `serve`) never sees half a
            // page. Folders are created only when the first write into them fails: most pages
            // live in a folder of their own, and checking first would cost a lookup per level.
            let tmp = path.with_extension(format!(
                "{}.tmp",
                path.extension().and_then(|e| e.to_str()).unwrap_or("")
            ));
            if let Err(e) = std::fs::write(&tmp, bytes) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(e).with_context(|| format!("cannot write {}", tmp.display()));
                }
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create folder {}", dir.display()))?;
                }
                std::fs::write(&tmp, bytes)
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
            }
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("cannot rename into {}", path.display()))?;
            self.written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// True when the folder held no earlier build.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Makes the folder `rel` (and its parents) inside the output folder.
    pub fn create_dir(&self, rel: &str) -> Result<()> {
        let path = self.resolve(rel.trim_end_matches('/'))?;
        // One `mkdir` when the parent exists, which is the common case.
        match std::fs::create_dir(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(_) => std::fs::create_dir_all(&path)
                .with_context(|| format!("cannot create folder {}", path.display())),
        }
    }

    /// Records that this build produces `rel` without writing it (it is known unchanged).
    pub fn mark(&self, rel: &str) {
        if let Ok(mut p) = self.produced.lock() {
            p.insert(rel.to_string());
        }
    }

    /// Path of `rel` inside the folder; refuses anything that could leave it.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf> {
        let p = Path::new(rel);
        if rel.is_empty()
            || rel.contains('\\')
            || rel.contains(['\0', '\t', '\n', '\r'])
            || !p
                .components()
                .all(|c| matches!(c, Component::Normal(s) if !s.is_empty()))
        {
            bail!("refusing to write `{rel}`: output paths must stay inside the output folder");
        }
        Ok(self.root.join(p))
    }

    /// Removes files the previous build wrote and this one did not, then saves the manifest.
    /// `groups` are this build's servers; `files` lists a group's files.
    pub fn finish(self, groups: &[Group<'_>], files: GroupFiles<'_>) -> Result<WriteStats> {
        let produced = self
            .produced
            .into_inner()
            .map_err(|_| anyhow::anyhow!("a render thread panicked"))?;
        let manifest = self.root.join(MANIFEST);
        let by_slug: HashMap<&str, &[&str]> = groups
            .iter()
            .map(|g| (g.slug, g.members.as_slice()))
            .collect();
        let mut removed = 0;
        if let Ok(old) = std::fs::read_to_string(&manifest) {
            let mut stale: Vec<String> = Vec::new();
            for line in old.lines() {
                if let Some(rest) = line.strip_prefix("S\t") {
                    let mut parts = rest.split('\t');
                    let slug = parts.next().unwrap_or("");
                    let members: Vec<&str> = parts.collect();
                    match by_slug.get(slug) {
                        // Same server, same tools: the same files.
                        Some(now) if *now == members.as_slice() => {}
                        Some(now) => {
                            let keep: HashSet<String> = files(slug, now).into_iter().collect();
                            stale.extend(
                                files(slug, &members)
                                    .into_iter()
                                    .filter(|f| !keep.contains(f)),
                            );
                        }
                        None => stale.extend(files(slug, &members)),
                    }
                } else if !line.is_empty() && !produced.contains(line) {
                    stale.push(line.to_string());
                }
            }
            for rel in stale {
                // A manifest is ours, but it sits in a folder others can write to: re-check.
                let Ok(path) = Output::check_rel(&self.root, &rel) else {
                    continue;
                };
                if std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                    // Drop folders left empty (a removed tool's `tools/<server>/<tool>/`).
                    let mut dir = path.parent();
                    while let Some(d) = dir {
                        if d == self.root || std::fs::remove_dir(d).is_err() {
                            break;
                        }
                        dir = d.parent();
                    }
                }
            }
        }
        let mut list: Vec<&String> = produced.iter().collect();
        list.sort();
        let mut text = String::with_capacity(list.len() * 48 + groups.len() * 200);
        for rel in list {
            text.push_str(rel);
            text.push('\n');
        }
        for g in groups {
            text.push_str("S\t");
            text.push_str(g.slug);
            for m in &g.members {
                text.push('\t');
                text.push_str(m);
            }
            text.push('\n');
        }
        crate::catalogue::write_atomic(&manifest, text.as_bytes())?;
        Ok(WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            removed,
        })
    }

    fn check_rel(root: &Path, rel: &str) -> Result<PathBuf> {
        let p = Path::new(rel);
        if rel.contains('\\')
            || rel.contains('\t')
            || !p.components().all(|c| matches!(c, Component::Normal(_)))
        {
            bail!("bad path");
        }
        Ok(root.join(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::new(dir.path()).unwrap();
        for bad in ["../x", "/etc/passwd", "a/../../x", "a\\..\\x", ""] {
            assert!(out.write(bad, b"x").is_err(), "{bad}");
        }
        out.write("a/b/index.html", b"x").unwrap();
    }

    #[test]
    fn unchanged_files_keep_their_mtime_and_stale_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::new(dir.path()).unwrap();
        out.write("keep.html", b"same").unwrap();
        out.write("gone/x/index.html", b"old").unwrap();
        assert_eq!(out.finish(&[], &|_, _| vec![]).unwrap().written, 2);
        let t0 = std::fs::metadata(dir.path().join("keep.html"))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let out = Output::new(dir.path()).unwrap();
        out.write("keep.html", b"same").unwrap();
        let stats = out.finish(&[], &|_, _| vec![]).unwrap();
        assert_eq!((stats.written, stats.unchanged, stats.removed), (0, 1, 1));
        let t1 = std::fs::metadata(dir.path().join("keep.html"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(t0, t1);
        assert!(!dir.path().join("gone").exists());
    }

    #[test]
    fn group_files_go_when_their_server_or_tool_goes() {
        let dir = tempfile::tempdir().unwrap();
        let files = |slug: &str, m: &[&str]| -> Vec<String> {
            m.iter()
                .map(|t| format!("tools/{slug}/{t}/index.html"))
                .collect()
        };
        let out = Output::new(dir.path()).unwrap();
        for rel in [
            "tools/a/x/index.html",
            "tools/a/y/index.html",
            "tools/b/z/index.html",
        ] {
            out.write_owned(rel, b"p").unwrap();
        }
        let groups = [
            Group {
                slug: "a",
                members: vec!["x", "y"],
            },
            Group {
                slug: "b",
                members: vec!["z"],
            },
        ];
        out.finish(&groups, &files).unwrap();
        // Next build: server `a` lost tool `y`, server `b` is gone; nothing is rewritten.
        let out = Output::new(dir.path()).unwrap();
        let stats = out
            .finish(
                &[Group {
                    slug: "a",
                    members: vec!["x"],
                }],
                &files,
            )
            .unwrap();
        assert_eq!(stats.removed, 2);
        assert!(dir.path().join("tools/a/x/index.html").is_file());
        assert!(!dir.path().join("tools/a/y").exists());
        assert!(!dir.path().join("tools/b").exists());
        // A tampered manifest cannot send removals outside the folder.
        std::fs::write(dir.path().join(MANIFEST), "S\t..\t..\n../x\n").unwrap();
        let out = Output::new(dir.path()).unwrap();
        assert_eq!(out.finish(&[], &files).unwrap().removed, 0);
    }
}
