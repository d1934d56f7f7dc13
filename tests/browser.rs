//! The built site in a real headless Chromium (Debian's chromium + chromedriver, installed by
//! scripts/setup.d/site.sh), driven over WebDriver with a small client on reqwest. Serves the
//! fixture sites on 127.0.0.1 and checks: pages render without console errors, search finds a
//! known tool, and on the hostile catalogue no dialog opens and no request leaves 127.0.0.1.
//! Screenshots go to tests/artifacts/ (not committed).

use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use toolrisk::site::{build, BuildOptions};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Hooks installed before any page script: dialogs are recorded instead of shown.
const HOOKS: &str = "window.__dialogs = [];\
    ['alert','confirm','prompt','print'].forEach(function (n) {\
      window[n] = function (m) { window.__dialogs.push(n + ':' + m); return null; };\
    });";

struct Driver {
    child: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    async fn start() -> Driver {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: run scripts/setup (it installs Debian's chromium and chromium-driver)"
            );
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .no_proxy()
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await {
                if let Ok(v) = r.json::<Value>().await {
                    if v["value"]["ready"] == true {
                        break;
                    }
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--hide-scrollbars", "--window-size=1200,900",
                         format!("--user-data-dir={}", profile.path().display())],
                "perfLoggingPrefs": {"enableNetwork": true, "enablePage": false}
            }
        }}});
        let mut d = Driver {
            child,
            http,
            base,
            session: String::new(),
            _profile: profile,
        };
        let v = d.call("POST", "/session", Some(caps)).await;
        d.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        d.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": HOOKS}),
        )
        .await;
        d
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or(json!({}))),
        };
        let r = req.send().await.expect("webdriver request");
        let v: Value = r.json().await.expect("webdriver json");
        v["value"].clone()
    }

    async fn s(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let p = format!("/session/{}{}", self.session, path);
        self.call(method, &p, body).await
    }

    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.s(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
        .await
    }

    async fn goto(&self, url: &str) {
        let v = self.s("POST", "/url", Some(json!({"url": url}))).await;
        assert!(
            v.is_null() || v.get("error").is_none(),
            "navigate {url}: {v}"
        );
    }

    async fn js(&self, script: &str) -> Value {
        self.s(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Browser console entries since the last call.
    async fn console(&self) -> Vec<Value> {
        let v = self
            .s("POST", "/se/log", Some(json!({"type": "browser"})))
            .await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// URLs of every network request since the last call.
    async fn requests(&self) -> Vec<String> {
        let v = self
            .s("POST", "/se/log", Some(json!({"type": "performance"})))
            .await;
        let mut urls = vec![];
        for e in v.as_array().cloned().unwrap_or_default() {
            let Some(msg) = e["message"].as_str() else {
                continue;
            };
            let Ok(m) = serde_json::from_str::<Value>(msg) else {
                continue;
            };
            if m["message"]["method"] == "Network.requestWillBeSent" {
                if let Some(u) = m["message"]["params"]["request"]["url"].as_str() {
                    urls.push(u.to_string());
                }
            }
        }
        urls
    }

    async fn open_dialog(&self) -> Option<String> {
        let v = self.s("GET", "/alert/text", None).await;
        v.as_str().map(str::to_string)
    }

    async fn screenshot(&self, name: &str) {
        let v = self.s("GET", "/screenshot", None).await;
        let b64 = v.as_str().expect("screenshot data");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), decode_base64(b64)).unwrap();
    }

    async fn full_page(&self, name: &str, width: u32) {
        let h = self
            .js("return document.documentElement.scrollHeight")
            .await;
        let h = h.as_u64().unwrap_or(900).clamp(600, 6000);
        self.s(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": h})),
        )
        .await;
        self.screenshot(name).await;
        self.s(
            "POST",
            "/window/rect",
            Some(json!({"width": 1200, "height": 900})),
        )
        .await;
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let table = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(table) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || toolrisk::site::serve::serve_dir(listener, dir));
    format!("http://{addr}")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/site")
        .join(name)
}

fn build_to(catalogue: &Path, out: &Path, base: &str) {
    build(&BuildOptions {
        catalogue: catalogue.to_path_buf(),
        out: out.to_path_buf(),
        base_url: base.to_string(),
        templates: None,
        retain_bytes: toolrisk::site::RETAIN_BYTES,
        rules: None,
        repo_url: toolrisk::site::DEFAULT_REPO_URL.into(),
    })
    .unwrap();
}

fn errors(console: &[Value]) -> Vec<String> {
    console
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or("").to_string())
        .collect()
}

async fn wait_for(d: &Driver, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = d.js(script).await;
        if !v.is_null() && v != false && v != "" {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_renders_searches_and_contains_hostile_text() {
    // Both sites are built before the browser starts; each is served from its own folder.
    let out = tempfile::tempdir().unwrap();
    let site_dir = out.path().join("site");
    let hostile_dir = out.path().join("hostile");
    let base = serve(site_dir.clone());
    build_to(&fixture("catalogue"), &site_dir, &base);
    let hbase = serve(hostile_dir.clone());
    build_to(&fixture("hostile"), &hostile_dir, &hbase);

    let d = Driver::start().await;
    // Positive control: the dialog hook is installed, so "no dialog" below means something.
    d.goto(&format!("{base}/")).await;
    d.js("alert('control')").await;
    assert_eq!(
        d.js("return window.__dialogs").await,
        json!(["alert:control"])
    );

    // Home, a server page, a tool page: rendered, no console errors, nothing fetched elsewhere.
    for (name, path, expect) in [
        ("home", "/", "Tools by risk"),
        ("server", "/servers/sktime-mcp/", "check_job_status"),
        (
            "tool",
            "/tools/sktime-mcp/check-job-status/",
            "Policy to paste",
        ),
        ("listing", "/risk/low/", "Low risk tools"),
        ("notfound", "/no/such/page/", "Page not found"),
    ] {
        d.goto(&format!("{base}{path}")).await;
        let text = d.js("return document.body.innerText").await;
        assert!(
            text.as_str().unwrap_or("").contains(expect),
            "{path}: {text}"
        );
        d.full_page(name, 1200).await;
        let console = d.console().await;
        let errs: Vec<String> = errors(&console)
            .into_iter()
            // The 404 page is served with status 404 on purpose.
            .filter(|m| !(name == "notfound" && m.contains("404")))
            .collect();
        assert!(errs.is_empty(), "{path}: console errors {errs:?}");
        for u in d.requests().await {
            assert!(!leaves(&u, &base), "{path} requested {u}");
        }
    }

    // Narrow screen and dark mode.
    d.goto(&format!("{base}/tools/sktime-mcp/check-job-status/"))
        .await;
    d.full_page("tool-mobile", 390).await;
    d.cdp(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    )
    .await;
    d.goto(&format!("{base}/tools/sktime-mcp/check-job-status/"))
        .await;
    let bg = d
        .js("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_ne!(bg, "rgb(255, 255, 255)", "dark mode not applied");
    d.full_page("tool-dark", 1200).await;
    d.cdp("Emulation.setEmulatedMedia", json!({"features": []}))
        .await;
    // Keyboard: the first Tab lands on the skip link.
    let skip = d
        .js("document.activeElement.blur(); return document.querySelector('a.skip').getAttribute('href')")
        .await;
    assert_eq!(skip, "#main");

    // Search finds a known tool from the static index, and the class filter narrows it.
    d.goto(&format!("{base}/search/?q=check_job_status")).await;
    let first = wait_for(
        &d,
        "var a = document.querySelector('#search-results li a'); return a ? a.getAttribute('href') : null",
    )
    .await;
    assert!(
        first.as_str().unwrap_or("").contains("check-job-status"),
        "first hit {first}"
    );
    let n = d
        .js("return document.querySelectorAll('#search-results li').length")
        .await;
    assert_eq!(n, 2, "both check_job_status tools");
    d.screenshot("search").await;
    d.goto(&format!("{base}/search/?q=report&class=server"))
        .await;
    wait_for(&d, "return document.getElementById('search-status').textContent.indexOf('No ') === 0 || document.querySelectorAll('#search-results li').length > 0").await;
    let hits = d.js("return Array.from(document.querySelectorAll('#search-results li a')).map(a => a.getAttribute('href'))").await;
    for h in hits.as_array().cloned().unwrap_or_default() {
        assert!(
            h.as_str().unwrap_or("").starts_with("/servers/"),
            "filter let through {h}"
        );
    }
    d.goto(&format!("{base}/search/?q=email")).await;
    let hit = wait_for(&d, "var a = document.querySelector('#search-results li a'); return a ? a.getAttribute('href') : null").await;
    assert_eq!(hit, "/tools/jobs-server/send-report/");
    let errs = errors(&d.console().await);
    assert!(errs.is_empty(), "search console errors {errs:?}");
    for u in d.requests().await {
        assert!(!leaves(&u, &base), "search requested {u}");
    }

    // The hostile catalogue: every page, no dialog, no script run, no request elsewhere.
    let mut pages: Vec<String> = vec!["/".into(), "/servers/".into(), "/changes/".into()];
    for entry in walk(&hostile_dir) {
        let rel = entry
            .strip_prefix(&hostile_dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("tools/") || rel.starts_with("servers/") {
            if let Some(p) = rel.strip_suffix("index.html") {
                pages.push(format!("/{p}"));
            }
        }
    }
    pages.sort();
    pages.dedup();
    assert!(pages.len() >= 10, "{pages:?}");
    for path in &pages {
        d.goto(&format!("{hbase}{path}")).await;
        assert_eq!(d.open_dialog().await, None, "{path}: a dialog opened");
        let dialogs = d.js("return window.__dialogs").await;
        assert_eq!(
            dialogs,
            json!([]),
            "{path}: page script tried to open a dialog"
        );
        // Hover and focus everything, in case a handler slipped through.
        d.js("document.querySelectorAll('*').forEach(function (e) { ['mouseover','focus','click'].forEach(function (t) { if (e.tagName !== 'A' && e.tagName !== 'BUTTON' && e.tagName !== 'SUMMARY') e.dispatchEvent(new Event(t)); }); })").await;
        let dialogs = d.js("return window.__dialogs").await;
        assert_eq!(dialogs, json!([]), "{path}: an event handler ran");
        for u in d.requests().await {
            assert!(!leaves(&u, &hbase), "{path} requested {u}");
        }
        let scripts = d
            // Data blocks (FAQ structured data) never run; every other script is ours.
            .js("return Array.from(document.scripts).filter(s => s.type !== 'application/ld+json').map(s => s.getAttribute('src'))")
            .await;
        for s in scripts.as_array().cloned().unwrap_or_default() {
            assert!(
                s.as_str().unwrap_or("").starts_with("/static/"),
                "{path}: script {s}"
            );
        }
    }
    d.goto(&format!("{hbase}/tools/evil/svg-onload-alert-name/"))
        .await;
    d.full_page("hostile-tool", 1200).await;
    d.goto(&format!("{hbase}/servers/evil/")).await;
    d.full_page("hostile-server", 1200).await;
    assert_eq!(d.open_dialog().await, None);
    d.s("DELETE", "", None).await;
}

/// Whether a request goes over the network somewhere other than the site under test
/// (`chrome://` and `data:` are the browser's own).
fn leaves(url: &str, base: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let networked = ["http:", "https:", "ws:", "wss:", "ftp:"]
        .iter()
        .any(|s| lower.starts_with(s));
    networked && !url.starts_with(&format!("{base}/"))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The fixture catalogue plus a server with 130 mail tools, so that search has pages.
fn analyst_catalogue(dir: &Path) {
    copy_dir(&fixture("catalogue"), dir);
    std::fs::remove_file(dir.join("servers/broken.yaml")).unwrap();
    let tools = (0..130)
        .map(|i| toolrisk::model::Tool {
            name: format!("send_email_{i:03}"),
            description: Some(if i % 2 == 0 {
                "Sends an email to any address.".to_string()
            } else {
                "Deletes emails from the mailbox for good.".to_string()
            }),
            ..Default::default()
        })
        .collect();
    toolrisk::catalogue::Catalogue::new(dir)
        .write(&toolrisk::model::Server {
            id: "example/mailer".into(),
            slug: "mailer".into(),
            name: "Mailer".into(),
            tools,
            ..Default::default()
        })
        .unwrap();
}

/// Waits for the search page to settle and returns every match as (server slug, tool name),
/// servers left out, read from the page's own ranking and doc files.
async fn browser_matches(d: &Driver) -> Vec<(String, String)> {
    wait_for(d, "var s = document.getElementById('search-status').textContent; return s && s !== 'Searching…' ? s : null").await;
    let v = d
        .s(
            "POST",
            "/execute/async",
            Some(json!({"script": "var done = arguments[arguments.length - 1];\
                var ids = window.toolriskSearch.results();\
                fetch('/search/meta.json').then(r => r.json()).then(function (m) {\
                  var chunks = Array.from(new Set(ids.map(i => Math.floor(i / m.chunk))));\
                  return Promise.all(chunks.map(c => fetch('/search/docs/' + c + '.json').then(r => r.json()))).then(function (all) {\
                    var by = {}; chunks.forEach((c, k) => by[c] = all[k]);\
                    done(ids.map(i => by[Math.floor(i / m.chunk)][i % m.chunk]).filter(x => x[4] !== 'server').map(x => [x[3].split('/')[2], x[0]]));\
                  });\
                });", "args": []})),
        )
        .await;
    let mut out: Vec<(String, String)> = serde_json::from_value(v).unwrap();
    out.sort();
    out
}

/// What the page's scripts add: sortable and filterable tables, search pages and filters
/// that agree with `toolrisk query`, the wrong-label link, live reload under `serve`, and no
/// serious or critical axe-core violation on the main kinds of page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyst_features_work_in_the_browser() {
    let work = tempfile::tempdir().unwrap();
    let cat = work.path().join("catalogue");
    analyst_catalogue(&cat);
    let site_dir = work.path().join("site");
    let base = serve(site_dir.clone());
    build_to(&cat, &site_dir, &base);
    let d = Driver::start().await;

    // Sorting: the risk column of the server page, both ways; filtering as you type.
    d.goto(&format!("{base}/servers/jobs-server/")).await;
    let risks = "return Array.from(document.querySelectorAll('table.tools tbody tr')).filter(r => !r.hidden).map(r => r.cells[2].textContent.trim())";
    let order = |v: &Value| -> Vec<u8> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| match r.as_str().unwrap() {
                "low" => 0,
                "medium" => 1,
                "high" => 2,
                _ => 3,
            })
            .collect()
    };
    d.js("document.querySelectorAll('table.tools thead button.sort')[2].click()")
        .await;
    let up = order(&d.js(risks).await);
    assert!(
        up.windows(2).all(|w| w[0] <= w[1]) && up.len() >= 2,
        "{up:?}"
    );
    d.js("document.querySelectorAll('table.tools thead button.sort')[2].click()")
        .await;
    let down = order(&d.js(risks).await);
    assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
    d.js("var f = document.querySelector('input.table-filter'); f.value = 'report'; f.dispatchEvent(new Event('input'))").await;
    let shown = d.js("return Array.from(document.querySelectorAll('table.tools tbody tr')).filter(r => !r.hidden).map(r => r.cells[0].textContent.trim())").await;
    assert_eq!(shown, json!(["send_report"]));

    // Search: every match, 50 a page; filters; and the same matches as `toolrisk query`.
    d.goto(&format!("{base}/search/?q=email")).await;
    wait_for(
        &d,
        "return document.getElementById('search-pager').hidden === false",
    )
    .await;
    let first_page = d
        .js("return document.querySelectorAll('#search-results li').length")
        .await;
    assert_eq!(first_page, 50);
    d.js("document.getElementById('search-next').click()").await;
    wait_for(&d, "return location.search.indexOf('page=2') >= 0 && document.querySelectorAll('#search-results li').length === 50").await;
    let status = d
        .js("return document.getElementById('search-status').textContent")
        .await;
    assert!(status.as_str().unwrap().contains("51–100"), "{status}");
    let ix = toolrisk::index::Index::open(&toolrisk::catalogue::Catalogue::new(&cat)).unwrap();
    use toolrisk::index::{Query, RiskFilter};
    use toolrisk::model::{Class, Effect, Risk};
    let cases: Vec<(&str, &str, Query)> = vec![
        ("send email", "", Query::default()),
        ("emails", "", Query::default()),
        ("job status", "", Query::default()),
        ("checkJobStatus", "", Query::default()),
        ("report", "", Query::default()),
        ("mailbox good", "", Query::default()),
        (
            "email",
            "&class=destructive",
            Query {
                class: Some(Class::Destructive),
                ..Query::default()
            },
        ),
        (
            "email",
            "&risk=high%2B",
            Query {
                risk: Some(RiskFilter::AtLeast(Risk::High)),
                ..Query::default()
            },
        ),
        (
            "email",
            "&effect=send",
            Query {
                effect: Some(Effect::Send),
                ..Query::default()
            },
        ),
        (
            "send",
            "&server=jobs-server",
            Query {
                server: Some("jobs-server".into()),
                ..Query::default()
            },
        ),
    ];
    for (text, filters, mut q) in cases {
        q.text = Some(text.to_string());
        q.limit = 0;
        let mut want: Vec<(String, String)> = ix
            .search(&q)
            .unwrap()
            .into_iter()
            .map(|h| (h.server, h.tool))
            .collect();
        want.sort();
        d.goto(&format!(
            "{base}/search/?q={}{filters}",
            text.replace(' ', "+")
        ))
        .await;
        let got = browser_matches(&d).await;
        assert_eq!(got, want, "query {text:?} {filters}");
        assert!(
            !want.is_empty() || text == "report",
            "{text} {filters} should find something"
        );
    }

    // The wrong-label link opens a prefilled issue on the catalogue's repository.
    d.goto(&format!("{base}/tools/jobs-server/send-report/"))
        .await;
    let href = d
        .js("return document.querySelector('a.wrong-label').href")
        .await;
    let href = href.as_str().unwrap();
    assert!(
        href.starts_with("https://github.com/toolrisk/toolrisk/issues/new?title="),
        "{href}"
    );
    assert!(
        href.contains("overrides.yaml")
            || href.contains("overrides.yaml".replace('.', "%2E").as_str())
    );

    // The compare page, reached from a server page.
    d.goto(&format!("{base}/servers/jobs-server/")).await;
    let link = d
        .js("return document.querySelector('a[href^=\"/compare/\"]').getAttribute('href')")
        .await;
    d.goto(&format!("{base}{},mailer", link.as_str().unwrap()))
        .await;
    wait_for(
        &d,
        "return document.querySelectorAll('table.compare thead th').length === 3",
    )
    .await;
    let cells = d.js("return Array.from(document.querySelectorAll('table.compare tbody tr')).map(r => Array.from(r.cells).map(c => c.textContent))").await;
    let rows = cells.as_array().unwrap();
    assert_eq!(rows[0], json!(["Tools", "2", "130"]), "{cells}");
    assert!(
        rows.iter().any(
            |r| r[0] == "It deletes or overwrites" && r[2].as_str().unwrap().starts_with("yes")
        ),
        "{cells}"
    );

    // Accessibility: no serious or critical axe-core violations.
    let axe_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run scripts/setup.d/site.sh",
            axe_path.display()
        )
    });
    for path in [
        "/",
        "/servers/jobs-server/",
        "/tools/jobs-server/send-report/",
        "/search/?q=email",
        "/method/",
    ] {
        d.goto(&format!("{base}{path}")).await;
        d.js(&format!("{axe}\n;return true")).await;
        let v = d
            .s("POST", "/execute/async", Some(json!({"script": "var done = arguments[arguments.length - 1];\
                axe.run(document, {resultTypes: ['violations']}).then(function (r) {\
                  done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')));\
                }, function (e) { done(['axe failed: ' + e]); });", "args": []})))
            .await;
        assert_eq!(v, json!([]), "{path}: axe-core violations");
    }

    // Live reload: `serve` rebuilds on a catalogue change and the open page reloads.
    let port = free_port();
    let live_out = work.path().join("live");
    let live_cat = work.path().join("live-cat");
    copy_dir(&cat, &live_cat);
    let mut opts = BuildOptions {
        catalogue: live_cat.clone(),
        out: live_out,
        base_url: format!("http://127.0.0.1:{port}"),
        templates: None,
        retain_bytes: toolrisk::site::RETAIN_BYTES,
        rules: None,
        repo_url: toolrisk::site::DEFAULT_REPO_URL.into(),
    };
    opts.retain_bytes = 0;
    std::thread::spawn(move || toolrisk::site::serve::serve(&opts, port));
    let live = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{live}/")).await.is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    d.goto(&format!("{live}/tools/jobs-server/send-report/"))
        .await;
    wait_for(
        &d,
        "return document.querySelector('script[src=\"/__toolrisk/live.js\"]') !== null",
    )
    .await;
    d.js("window.__before_reload = 1").await;
    // Give the page's first live request time to be waiting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let file = live_cat.join("servers/jobs-server.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "Email a job report to a recipient.",
            "Email a weekly digest to a recipient.",
        ),
    )
    .unwrap();
    wait_for(&d, "return window.__before_reload === undefined && document.body.innerText.indexOf('weekly digest') >= 0").await;
    d.s("DELETE", "", None).await;
}

/// Polls `script` until it returns a string (a page being navigated away from answers with
/// an error object or null, which are not).
async fn wait_for_text(d: &Driver, script: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(s) = d.js(script).await.as_str().filter(|s| !s.is_empty()) {
            return s.to_string();
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {script}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A site built for a sub-path (`--base-url http://127.0.0.1:PORT/sub/`, as a GitHub Pages
/// project site) and served under `/sub/` only: search fetches its index from there and finds
/// a tool, its result links and a server link navigate to pages that render, the compare page
/// loads its records, and no request goes outside `/sub/` (the host's root is not the site's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_site_under_a_sub_path_searches_and_navigates() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("site");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let site = format!("{origin}/sub");
    build_to(&fixture("catalogue"), &dir, &format!("{site}/"));
    let served = dir.clone();
    std::thread::spawn(move || toolrisk::site::serve::serve_dir_under(listener, served, "/sub"));

    let d = Driver::start().await;
    d.goto(&format!("{site}/search/?q=check_job_status")).await;
    let first = wait_for_text(
        &d,
        "var a = document.querySelector('#search-results li a'); return a ? a.getAttribute('href') : null",
    )
    .await;
    assert_eq!(first, "/sub/tools/jobs-server/check-job-status/");
    let n = d
        .js("return document.querySelectorAll('#search-results li').length")
        .await;
    assert_eq!(n, 2, "both check_job_status tools");
    // A result navigates to its tool page.
    d.js("document.querySelector('#search-results li a').click(); return true")
        .await;
    let text = wait_for_text(
        &d,
        "return location.pathname === '/sub/tools/jobs-server/check-job-status/' && document.readyState === 'complete' ? document.body.innerText : null",
    )
    .await;
    assert!(text.contains("Policy to paste"), "{text}");
    // Its server link navigates to the server page.
    d.js("document.querySelector('a[href=\"/sub/servers/jobs-server/\"]').click(); return true")
        .await;
    let text = wait_for_text(
        &d,
        "return location.pathname === '/sub/servers/jobs-server/' && document.readyState === 'complete' ? document.body.innerText : null",
    )
    .await;
    assert!(text.contains("send_report"), "{text}");
    // A server hit in search links under /sub/ too.
    d.goto(&format!("{site}/search/?q=sktime&class=server"))
        .await;
    let hit = wait_for_text(&d, "var a = document.querySelector('#search-results li a'); return a ? a.getAttribute('href') : null").await;
    assert_eq!(hit, "/sub/servers/sktime-mcp/");
    // The compare page fetches both records.
    d.goto(&format!("{site}/compare/?s=sktime-mcp,jobs-server"))
        .await;
    let head = wait_for_text(
        &d,
        "var t = document.querySelector('table.compare'); return t ? t.tHead.innerText : null",
    )
    .await;
    assert!(
        head.contains("sktime MCP") && head.contains("Jobs Server"),
        "{head}"
    );
    let link = d
        .js("return document.querySelector('table.compare thead a').getAttribute('href')")
        .await;
    assert_eq!(link, "/sub/servers/sktime-mcp/");

    let errs = errors(&d.console().await);
    assert!(errs.is_empty(), "console errors {errs:?}");
    let requests = d.requests().await;
    assert!(
        requests
            .iter()
            .any(|u| u.ends_with("/sub/search/meta.json")),
        "{requests:?}"
    );
    for u in &requests {
        assert!(!leaves(u, &site), "requested {u}, outside {site}/");
    }
    d.s("DELETE", "", None).await;
}
