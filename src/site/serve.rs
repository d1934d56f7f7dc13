//! `toolrisk serve`: a small static file server on 127.0.0.1 for previewing the built site,
//! and a watcher that rebuilds when the catalogue or the templates change.

use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Longest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The file a URL path maps to inside `root`, or `None` if it would leave it.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let path = url_path.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let rel = Path::new(decoded.trim_start_matches('/'));
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) || decoded.contains('\0') {
        return None;
    }
    let mut p = root.join(rel);
    if p.is_dir() {
        p = p.join("index.html");
    }
    Some(p)
}

fn respond(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // Drain the headers; we need none of them.
    let mut total = line.len();
    loop {
        let mut h = String::new();
        let n = reader.read_line(&mut h)?;
        total += n;
        if n == 0 || h == "\r\n" || h == "\n" || total > MAX_HEAD {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    if method != "GET" && method != "HEAD" {
        let body = b"method not allowed\n";
        write!(
            stream,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        return stream.write_all(body);
    }
    let (status, path) = match resolve(root, target).filter(|p| p.is_file()) {
        Some(p) => ("200 OK", p),
        None => ("404 Not Found", root.join("404.html")),
    };
    let body = std::fs::read(&path).unwrap_or_else(|_| b"not found\n".to_vec());
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'\r\nConnection: close\r\n\r\n",
        content_type(&path),
        body.len()
    )?;
    if method == "GET" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// Serves `root` on an already bound listener until the process ends (one thread per request).
pub fn serve_dir(listener: TcpListener, root: PathBuf) {
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || {
            let _ = respond(stream, &root);
        });
    }
}

/// A cheap fingerprint of a folder tree: names, sizes and mtimes of its files.
pub fn fingerprint(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(m) = e.metadata() else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else {
                e.path().hash(&mut h);
                m.len().hash(&mut h);
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH).hash(&mut h);
            }
        }
    }
    h.finish()
}

/// Builds, serves on 127.0.0.1:`port`, and rebuilds when the catalogue or templates change.
pub fn serve(opts: &super::BuildOptions, port: u16) -> Result<()> {
    let report = super::build(opts)?;
    print_report(&report);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} (is it in use? try --port)"))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "serving {} on http://{addr}/ (Ctrl+C to stop)",
        opts.out.display()
    );
    let root = opts.out.clone();
    std::thread::spawn(move || serve_dir(listener, root));
    let watched = |o: &super::BuildOptions| {
        let a = fingerprint(&o.catalogue.join("servers"));
        let b = o.templates.as_deref().map(fingerprint).unwrap_or(0);
        a ^ b.rotate_left(1)
    };
    let mut last = watched(opts);
    loop {
        std::thread::sleep(Duration::from_millis(700));
        let now = watched(opts);
        if now != last {
            last = now;
            eprintln!("change seen, rebuilding…");
            match super::build(opts) {
                Ok(r) => print_report(&r),
                Err(e) => eprintln!("error: {e:#}"),
            }
        }
    }
}

/// Prints what a build did, with each unreadable file on its own line.
pub fn print_report(r: &super::BuildReport) {
    for e in &r.errors {
        eprintln!("warning: skipped {e}");
    }
    eprintln!(
        "built {} pages for {} tools on {} servers in {:.2}s: {} files written, {} unchanged, {} removed{}",
        r.pages,
        r.tools,
        r.servers,
        r.seconds,
        r.written,
        r.unchanged,
        r.removed,
        if r.errors.is_empty() { String::new() } else { format!(", {} catalogue files skipped", r.errors.len()) }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_cannot_leave_the_root() {
        let root = Path::new("/srv/site");
        assert!(resolve(root, "/../etc/passwd").is_none());
        assert!(resolve(root, "/%2e%2e/etc/passwd").is_none());
        assert!(resolve(root, "/a/%2E%2E/%2E%2E/x").is_none());
        assert_eq!(
            resolve(root, "/tools/a/b.json?x=1"),
            Some(PathBuf::from("/srv/site/tools/a/b.json"))
        );
    }
}
