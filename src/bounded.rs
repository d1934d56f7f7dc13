//! Bounded reading of files that come from outside the process: catalogue records, overrides,
//! registry files, lock files, users' client configs. Every such read goes through here, so
//! that a FIFO cannot hang a command, `/dev/zero` cannot fill memory, a file cannot grow past
//! its limit between `stat` and `read`, and an error never echoes the file's content (a link
//! to a private key must not print the key into CI logs).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a file could not be read. Callers branch on `kind`; the message never holds content.
#[derive(Debug)]
pub struct ReadError {
    pub path: PathBuf,
    pub kind: ReadErrorKind,
}

#[derive(Debug)]
pub enum ReadErrorKind {
    /// No such file.
    NotFound,
    /// A FIFO, socket, device or folder: refused without opening it for reading.
    NotRegularFile(&'static str),
    /// Larger than the limit (whatever `stat` said).
    TooLarge { limit: u64 },
    /// The bytes are not UTF-8 (for `read_text`).
    NotUtf8 { offset: usize },
    /// Any other I/O error (permissions, a symlink loop, …).
    Io(std::io::Error),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ReadErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.kind {
            ReadErrorKind::NotFound => write!(f, "{p}: no such file"),
            ReadErrorKind::NotRegularFile(what) => {
                write!(f, "{p}: is a {what}, not a regular file; refused")
            }
            ReadErrorKind::TooLarge { limit } => {
                write!(f, "{p}: larger than the {limit} byte limit; refused")
            }
            ReadErrorKind::NotUtf8 { offset } => {
                write!(f, "{p}: not UTF-8 text (invalid byte at offset {offset})")
            }
            ReadErrorKind::Io(e) => write!(f, "{p}: {e}"),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ReadErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

fn kind_name(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "folder"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

/// Reads at most `limit` bytes of a regular file (following symlinks), refusing anything else.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let err = |kind| ReadError {
        path: path.to_path_buf(),
        kind,
    };
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(ReadErrorKind::NotFound)
        } else {
            err(ReadErrorKind::Io(e))
        }
    };
    // Look before opening: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(err(ReadErrorKind::NotRegularFile(kind_name(
            &meta.file_type(),
        ))));
    }
    // O_NONBLOCK as well, in case the path was swapped for a FIFO after the look.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(err(ReadErrorKind::NotRegularFile(kind_name(
            &meta.file_type(),
        ))));
    }
    if meta.len() > limit {
        return Err(err(ReadErrorKind::TooLarge { limit }));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte past the limit tells a file that grew from one that fits.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(err(ReadErrorKind::TooLarge { limit }));
    }
    Ok(bytes)
}

/// Reads a regular file as UTF-8 text of at most `limit` bytes; a leading BOM is dropped.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_bytes(path, limit)?;
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| ReadError {
        path: path.to_path_buf(),
        kind: ReadErrorKind::NotUtf8 {
            offset: e.utf8_error().valid_up_to(),
        },
    })
}

/// Reads standard input up to `limit` bytes (a larger input is an error, never an abort).
pub fn read_stdin(limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin().take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "standard input is larger than the {limit} byte limit"
        )));
    }
    Ok(bytes)
}

/// How deep YAML may nest in files toolrisk reads: records nest tool schemas, which rarely go
/// past a dozen levels. Deeper input is refused before parsing (parsers take quadratic time).
pub const MAX_YAML_DEPTH: usize = 64;

/// YAML nested deeper than allowed: where it crossed the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line.
    pub line: usize,
    /// The limit.
    pub max: usize,
}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: nested deeper than {} levels; refused",
            self.line, self.max
        )
    }
}

impl std::error::Error for TooDeep {}

/// Rejects YAML (or JSON, a subset) whose flow or block nesting is deeper than `max`, in one
/// linear pass before a parser sees it. Counts `[`/`{` outside quoted scalars and comments,
/// and block indentation levels, conservatively: it may over-count, never under-count.
pub fn check_yaml_depth(text: &str, max: usize) -> Result<(), TooDeep> {
    let mut flow: usize = 0;
    let mut indents: Vec<usize> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let content = line.trim_start_matches(' ');
        if flow == 0 && !content.is_empty() && !content.starts_with('#') {
            // Block nesting: one level per deeper indentation, plus `- ` sequence markers.
            let indent = line.len() - content.len();
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
            let dashes = content
                .as_bytes()
                .chunks(2)
                .take_while(|c| c == b"- " || *c == b"-")
                .count();
            if indents.len() + dashes > max {
                return Err(TooDeep {
                    line: lineno + 1,
                    max,
                });
            }
        }
        // Quotes are tracked within a line: a quoted scalar that spans lines can only make
        // the count higher, never lower.
        let mut quote: Option<u8> = None;
        let mut escaped = false;
        for &b in content.as_bytes() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' && q == b'"' {
                        escaped = true;
                    } else if b == q {
                        quote = None;
                    }
                }
                None => match b {
                    b'"' | b'\'' => quote = Some(b),
                    b'#' => break,
                    b'[' | b'{' => {
                        flow += 1;
                        if flow + indents.len() > max {
                            return Err(TooDeep {
                                line: lineno + 1,
                                max,
                            });
                        }
                    }
                    b']' | b'}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_bytes(&p, 100).unwrap_err();
        assert!(
            matches!(e.kind, ReadErrorKind::NotRegularFile("FIFO")),
            "{e}"
        );
    }

    #[test]
    fn a_device_is_refused() {
        let e = read_bytes(Path::new("/dev/zero"), 100).unwrap_err();
        assert!(
            matches!(e.kind, ReadErrorKind::NotRegularFile("device")),
            "{e}"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused_and_its_content_never_echoed() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_rsa");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nsecret\n").unwrap();
        let link = dir.path().join("record.yaml");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let e = read_bytes(&link, 5).unwrap_err();
        assert!(matches!(e.kind, ReadErrorKind::TooLarge { limit: 5 }));
        assert!(!e.to_string().contains("PRIVATE"), "{e}");
        // Within the limit, the link is followed.
        assert_eq!(read_bytes(&link, 100).unwrap().len(), 35);
    }

    #[test]
    fn a_bom_is_dropped_and_bad_utf8_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, b"\xEF\xBB\xBFid: x\n").unwrap();
        assert_eq!(read_text(&p, 100).unwrap(), "id: x\n");
        std::fs::write(&p, b"ab\xFFcd").unwrap();
        let e = read_text(&p, 100).unwrap_err();
        assert!(
            matches!(e.kind, ReadErrorKind::NotUtf8 { offset: 2 }),
            "{e}"
        );
        assert!(read_text(&dir.path().join("none"), 10)
            .unwrap_err()
            .is_not_found());
    }

    #[test]
    fn deep_yaml_is_refused_in_linear_time() {
        let deep = "[".repeat(100_000);
        assert!(check_yaml_depth(&deep, MAX_YAML_DEPTH).is_err());
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&" ".repeat(i * 2));
            block.push_str("a:\n");
        }
        assert!(check_yaml_depth(&block, MAX_YAML_DEPTH).is_err());
        let ok = "id: x\ntools:\n  - name: t\n    input_schema: {type: object, properties: {a: {type: string}}}\n    description: \"[[[[ not nesting ]]]] # {{{\"\n";
        assert_eq!(check_yaml_depth(ok, MAX_YAML_DEPTH), Ok(()));
        let seq = "- - - - - a\n";
        assert!(check_yaml_depth(seq, 3).is_err());
    }
}
