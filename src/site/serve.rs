//! `toolrisk serve`: previews the built site on 127.0.0.1 with hyper (HTTP/1.1) and
//! tower-http's `ServeDir`, rebuilds when anything under the catalogue, the templates folder
//! or the rules file changes (watched with `notify`), and reloads the open pages.
//!
//! A site built for a sub-path (`--base-url https://owner.github.io/toolrisk/`) is served
//! under that path (`/toolrisk/…`), as its host will serve it: `/` redirects there, and
//! anything else outside it is not found.
//!
//! The request line and headers together are capped at `MAX_HEAD` bytes and `MAX_HEADERS`
//! headers (hyper answers 431 past them), and a client has `HEAD_TIMEOUT` to send them.

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::{header, Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::TcpListener;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

/// Longest request line plus headers accepted (hyper's read buffer; 431 past it).
pub const MAX_HEAD: usize = 16 * 1024;
/// Most request headers accepted.
pub const MAX_HEADERS: usize = 64;
/// Time a client has to send its request line and headers.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a live-reload request waits for a rebuild before answering anyway.
const LIVE_WAIT: Duration = Duration::from_secs(25);
/// The script `serve` adds to every HTML page it serves (never to the built files).
const LIVE_JS: &str = r#"// toolrisk serve: reload this page when the site is rebuilt.
(function () {
  var gen = null;
  function poll() {
    fetch("/__toolrisk/live?since=" + (gen === null ? "" : gen), { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (t) {
        if (gen !== null && t !== gen) { location.reload(); return; }
        gen = t; poll();
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
"#;
const LIVE_TAG: &str = "<script src=\"/__toolrisk/live.js\" defer></script>";
const CSP: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
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

/// The file a URL path maps to inside `root`, or `None` if it would leave it. (`ServeDir`
/// does its own check; this one is kept as the tested statement of the rule.)
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

struct State {
    root: PathBuf,
    /// The path the site is served under (`Site::root`): `""` or `/sub`.
    prefix: String,
    dir: ServeDir<tower_http::set_status::SetStatus<ServeFile>>,
    /// The build generation, when pages reload on rebuilds.
    live: Option<watch::Receiver<u64>>,
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(full(text));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    st: Arc<State>,
) -> Result<Response<Body>, Infallible> {
    let mut resp = route(req, &st).await;
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CSP),
    );
    Ok(resp)
}

fn not_found(st: &State) -> Response<Body> {
    match std::fs::read(st.root.join("404.html")) {
        Ok(b) => {
            let mut r = Response::new(full(b));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        Err(_) => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn redirect(to: &str) -> Response<Body> {
    let mut r = Response::new(full(""));
    *r.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if let Ok(v) = header::HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn route(mut req: Request<hyper::body::Incoming>, st: &State) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    if let Some(live) = &st.live {
        match req.uri().path() {
            "/__toolrisk/live.js" => {
                let mut r = Response::new(full(LIVE_JS));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/javascript; charset=utf-8"),
                );
                return r;
            }
            "/__toolrisk/live" => {
                let since = req
                    .uri()
                    .query()
                    .and_then(|q| q.strip_prefix("since="))
                    .and_then(|v| v.parse::<u64>().ok());
                let mut rx = live.clone();
                if since == Some(*rx.borrow()) {
                    let _ = tokio::time::timeout(LIVE_WAIT, rx.changed()).await;
                }
                let now = *rx.borrow();
                return Response::new(full(now.to_string()));
            }
            _ => {}
        }
    }
    if !st.prefix.is_empty() {
        // Under a sub-path: the site's files answer `<prefix>/…`; the rest of the host is
        // not the site's.
        let path = req.uri().path();
        let rest = match path.strip_prefix(st.prefix.as_str()) {
            Some(rest) if rest.starts_with('/') => rest.to_string(),
            Some("") => return redirect(&format!("{}/", st.prefix)),
            _ if path == "/" => return redirect(&format!("{}/", st.prefix)),
            _ => return not_found(st),
        };
        let target = match req.uri().query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest,
        };
        match target.parse() {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return plain(StatusCode::BAD_REQUEST, "bad request\n"),
        }
    }
    if resolve(&st.root, req.uri().path()).is_none() {
        return not_found(st);
    }
    let head = req.method() == Method::HEAD;
    let mut resp = match st.dir.clone().oneshot(req).await {
        Ok(r) => r.map(|b| b.boxed_unsync()),
        Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "error\n"),
    };
    // `ServeDir` redirects `/servers` to `/servers/` as it saw the path: put the prefix back.
    if resp.status().is_redirection() && !st.prefix.is_empty() {
        let moved = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .filter(|l| l.starts_with('/'))
            .and_then(|l| header::HeaderValue::from_str(&format!("{}{l}", st.prefix)).ok());
        if let Some(v) = moved {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if st.live.is_none() || !html || head {
        return resp;
    }
    // Live reload: the page gets one script tag before `</body>` (pages are small).
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = body.collect().await.map(|c| c.to_bytes()) else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "error\n");
    };
    let mut page = bytes.to_vec();
    match find_last(&page, b"</body>") {
        Some(i) => {
            page.splice(i..i, LIVE_TAG.bytes());
        }
        None => page.extend_from_slice(LIVE_TAG.as_bytes()),
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, full(page))
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Serves `root` on an already bound listener until the process ends.
pub fn serve_dir(listener: TcpListener, root: PathBuf) {
    serve_dir_under(listener, root, "")
}

/// Serves `root` under the URL path `prefix` (`""` or `/sub`, as `Site::root`): `/sub/x`
/// is `root/x`, `/` redirects to `/sub/`.
pub fn serve_dir_under(listener: TcpListener, root: PathBuf, prefix: &str) {
    if let Err(e) = serve_dir_live(listener, root, prefix, None) {
        eprintln!("error: {e:#}");
    }
}

/// Serves `root` under `prefix`; with `live`, HTML pages reload when the generation it
/// carries changes.
pub fn serve_dir_live(
    listener: TcpListener,
    root: PathBuf,
    prefix: &str,
    live: Option<watch::Receiver<u64>>,
) -> Result<()> {
    let prefix = prefix.trim_end_matches('/').to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the server's runtime")?;
    rt.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let dir = ServeDir::new(&root)
            .append_index_html_on_directories(true)
            .not_found_service(ServeFile::new(root.join("404.html")));
        let st = Arc::new(State {
            root,
            prefix,
            dir,
            live,
        });
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(_) => continue,
            };
            let st = st.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(req, st.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .max_buf_size(MAX_HEAD)
                    .max_headers(MAX_HEADERS)
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEAD_TIMEOUT)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    })
}

/// Whether a file event is one to rebuild for: not a read, and not inside the output folder.
fn relevant(ev: &notify::Event, out: &Path) -> bool {
    !matches!(ev.kind, notify::EventKind::Access(_)) && ev.paths.iter().any(|p| !p.starts_with(out))
}

/// Checks the port, builds, serves on 127.0.0.1:`port`, and rebuilds on any change under
/// the catalogue (server files, `overrides.yaml`), the templates folder or the rules file;
/// open pages reload after each rebuild.
pub fn serve(opts: &super::BuildOptions, port: u16) -> Result<()> {
    // The port first: a build of a large catalogue should not run only to find it taken.
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{port} (is it in use? try --port)"))?;
    let addr = listener.local_addr()?;
    let report = super::build(opts)?;
    print_report(&report);
    let (tx, rx) = watch::channel(0u64);
    let root = opts.out.clone();
    let prefix = super::root_of(&opts.base_url);
    let under = prefix.clone();
    std::thread::spawn(move || {
        if let Err(e) = serve_dir_live(listener, root, &under, Some(rx)) {
            eprintln!("error: {e:#}");
        }
    });
    eprintln!(
        "serving {} on http://{addr}{prefix}/ (Ctrl+C to stop)",
        opts.out.display()
    );
    let (etx, erx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        let _ = etx.send(ev);
    })
    .context("starting the file watcher")?;
    use notify::Watcher as _;
    let mut watch = |p: &Path, mode| {
        watcher
            .watch(p, mode)
            .with_context(|| format!("watching {}", p.display()))
    };
    watch(&opts.catalogue, notify::RecursiveMode::Recursive)?;
    if let Some(t) = &opts.templates {
        watch(t, notify::RecursiveMode::Recursive)?;
    }
    if let Some(r) = &opts.rules {
        watch(r, notify::RecursiveMode::NonRecursive)?;
    }
    let out = std::fs::canonicalize(&opts.out).unwrap_or_else(|_| opts.out.clone());
    loop {
        let Ok(ev) = erx.recv() else { return Ok(()) };
        if !ev
            .as_ref()
            .is_ok_and(|e| relevant(e, &out) || relevant(e, &opts.out))
        {
            continue;
        }
        // Let a burst of writes (an editor's save, a crawl) settle into one rebuild.
        loop {
            match erx.recv_timeout(Duration::from_millis(300)) {
                Ok(_) => continue,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
        eprintln!("change seen, rebuilding…");
        match super::build(opts) {
            Ok(r) => {
                print_report(&r);
                tx.send_modify(|g| *g += 1);
            }
            Err(e) => eprintln!("error: {e:#}"),
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
