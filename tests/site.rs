//! The static site, built from the fixture catalogues in tests/fixtures/site/: pages and their
//! structure, hostile input, incremental rebuilds, template overrides and flat page weight.

use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toolrisk::model::{Server, Tool};
use toolrisk::site::{build, BuildOptions, BuildReport};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/site")
        .join(name)
}

fn opts(catalogue: &Path, out: &Path) -> BuildOptions {
    BuildOptions {
        catalogue: catalogue.to_path_buf(),
        out: out.to_path_buf(),
        base_url: "https://catalogue.example".into(),
        templates: None,
        retain_bytes: toolrisk::site::RETAIN_BYTES,
        rules: None,
        repo_url: toolrisk::site::DEFAULT_REPO_URL.into(),
    }
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn files(dir: &Path) -> BTreeMap<String, std::fs::Metadata> {
    let mut map = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                map.insert(rel, m);
            }
        }
    }
    map
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

fn build_fixture() -> (tempfile::TempDir, BuildReport) {
    let out = tempfile::tempdir().unwrap();
    let report = build(&opts(&fixture("catalogue"), out.path())).unwrap();
    (out, report)
}

#[test]
fn builds_every_kind_of_page_and_reports_the_broken_file() {
    let (out, report) = build_fixture();
    let out = out.path();
    assert_eq!(report.servers, 2);
    assert_eq!(report.tools, 6);
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].path.ends_with("broken.yaml"));
    assert!(report.errors[0].to_string().contains("surprise_field"));
    for rel in [
        "index.html",
        "404.html",
        "robots.txt",
        "sitemap.xml",
        "servers/index.html",
        "servers/sktime-mcp/index.html",
        "servers/sktime-mcp/policy.json",
        "servers/sktime-mcp/claude-code.json",
        "tools/sktime-mcp/check-job-status/index.html",
        "tools/jobs-server/send-report/index.html",
        "risk/low/index.html",
        "risk/critical/index.html",
        "class/read/index.html",
        "class/financial/index.html",
        "attacks/index.html",
        "attacks/lethal-trifecta/index.html",
        "changes/index.html",
        "changes/atom.xml",
        "api/index.json",
        "api/servers/sktime-mcp.json",
        "api/tools/sktime-mcp/check-job-status.json",
        "search/index.html",
        "search/meta.json",
        "static/style.css",
        "static/search.js",
    ] {
        assert!(out.join(rel).is_file(), "missing {rel}");
    }
    assert!(!out.join("servers/broken").exists());
}

#[test]
fn tool_page_says_what_an_operator_needs() {
    let (out, _) = build_fixture();
    let page = read(out.path(), "tools/sktime-mcp/check-job-status/index.html");
    let must = [
        "<link rel=\"canonical\" href=\"https://catalogue.example/tools/sktime-mcp/check-job-status/\">",
        "<meta name=\"description\" content=\"check_job_status on sktime MCP",
        "class=\"badge risk-",
        "Check the status of a background forecasting job.",
        "Why it needs a policy",
        "Evidence from the definition",
        "<code>job_id</code>",
        "readOnlyHint",
        "Declared by the server",
        "Inferred by toolrisk",
        "/attacks/tool-poisoning/",
        "&quot;default&quot;: &quot;deny&quot;",
        "mcp__sktime-mcp__check_job_status",
        "class=\"copy\"",
        "Other tools on sktime MCP",
        "href=\"/tools/sktime-mcp/fit-forecaster/\"",
        // The same tool name on another server is "similar".
        "href=\"/tools/jobs-server/check-job-status/\"",
        "What does check_job_status do?",
        "How do I enforce a policy on check_job_status?",
        "What is the risk level of check_job_status?",
        "Can check_job_status be rate-limited?",
        "How do I block check_job_status?",
        "Which server provides check_job_status?",
        "Change history",
        "<main id=\"main\">",
        "<html lang=\"en\">",
    ];
    for m in must {
        assert!(page.contains(m), "tool page lacks {m:?}");
    }
    // The history of a changed tool shows the old description (a rug pull is visible).
    let page = read(out.path(), "tools/sktime-mcp/delete-job/index.html");
    assert!(page.contains("description_changed"));
    assert!(page.contains("Delete a job."));
    // The server's policy download is the native format, default deny, one rule per tool.
    let policy: serde_json::Value =
        serde_json::from_str(&read(out.path(), "servers/sktime-mcp/policy.json")).unwrap();
    assert_eq!(policy["default"], "deny");
    assert_eq!(policy["tools"].as_object().unwrap().len(), 4);
    let api: serde_json::Value = serde_json::from_str(&read(
        out.path(),
        "api/tools/sktime-mcp/check-job-status.json",
    ))
    .unwrap();
    assert_eq!(api["tool"]["name"], "check_job_status");
    assert!(api["classification"]["risk"].is_string());
}

#[test]
fn server_listing_feed_and_sitemap_pages_are_complete() {
    let (out, _) = build_fixture();
    let out = out.path();
    let server = read(out, "servers/jobs-server/index.html");
    assert!(server.contains("initialize timed out after 90 s"));
    assert!(server.contains("href=\"/tools/jobs-server/send-report/\""));
    assert!(server.contains("policy.json"));
    let sitemap = read(out, "sitemap.xml");
    assert!(sitemap.contains("<urlset"));
    assert!(sitemap.contains("<loc>https://catalogue.example/tools/jobs-server/send-report/</loc>"));
    let feed = read(out, "changes/atom.xml");
    assert!(feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
    assert!(feed.contains("https://catalogue.example/tools/sktime-mcp/delete-job/"));
    assert!(read(out, "robots.txt").contains("Sitemap: https://catalogue.example/sitemap.xml"));
    let index: serde_json::Value = serde_json::from_str(&read(out, "api/index.json")).unwrap();
    assert_eq!(index["tools_count"], 6);
    // Each tool appears on exactly one risk page and one class page.
    let mut on_risk = 0;
    for r in ["low", "medium", "high", "critical"] {
        on_risk += read(out, &format!("risk/{r}/index.html"))
            .matches("href=\"/tools/")
            .count();
    }
    assert_eq!(on_risk, 6);
}

#[test]
fn search_index_finds_tools_by_name_and_words() {
    let (out, _) = build_fixture();
    let out = out.path();
    let meta: serde_json::Value = serde_json::from_str(&read(out, "search/meta.json")).unwrap();
    assert_eq!(meta["docs"], 8); // 6 tools + 2 servers
    let shard: serde_json::Value =
        serde_json::from_str(&read(out, "search/terms/ch.json")).unwrap();
    let check = shard["check"].as_array().unwrap();
    assert_eq!(check.len(), 2, "two tools are named check_…");
    let docs: serde_json::Value = serde_json::from_str(&read(out, "search/docs/0.json")).unwrap();
    let code = check[0].as_u64().unwrap();
    let doc = (code / 4 / 6) / 3;
    let field = (code / 4 / 6) % 3;
    assert_eq!(field, 0, "matched in the name");
    assert_eq!(docs[doc as usize][0], "check_job_status");
    // Words from descriptions are indexed too.
    let em: serde_json::Value = serde_json::from_str(&read(out, "search/terms/em.json")).unwrap();
    assert!(em.get("email").is_some());
}

/// Every tag the site emits comes from a template: crawled text must never create one, nor an
/// event-handler attribute, nor a link to a non-web scheme.
fn assert_safe_html(rel: &str, html: &str) {
    let tag = Regex::new(r"(?s)<([a-zA-Z][a-zA-Z0-9]*)((?:[^>\x22']|\x22[^\x22]*\x22|'[^']*')*)>")
        .unwrap();
    let attr = Regex::new(r#"([a-zA-Z-]+)\s*=\s*"([^"]*)""#).unwrap();
    let local_json = Regex::new(r"^[a-z0-9-]+\.json$").unwrap();
    let allowed_tags = [
        "html",
        "head",
        "meta",
        "title",
        "link",
        "body",
        "a",
        "header",
        "nav",
        "ul",
        "li",
        "form",
        "label",
        "input",
        "main",
        "footer",
        "p",
        "script",
        "h1",
        "h2",
        "h3",
        "span",
        "code",
        "section",
        "div",
        "strong",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "br",
        "pre",
        "details",
        "summary",
        "button",
        "article",
        "img",
        "dl",
        "dt",
        "dd",
        "time",
        "ol",
        "em",
        "mark",
        "select",
        "option",
        "fieldset",
        "legend",
        "noscript",
        "blockquote",
        "del",
        "hr",
        "h4",
        "h5",
        "h6",
    ];
    let external = Regex::new(r#"href="https?://"#).unwrap();
    for cap in tag.captures_iter(html) {
        let name = cap[1].to_ascii_lowercase();
        assert!(
            allowed_tags.contains(&name.as_str()),
            "{rel}: unexpected tag <{name}{}>",
            &cap[2]
        );
        let attrs = &cap[2];
        let bare = attr.replace_all(attrs, "");
        assert!(
            bare.trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || c == '-' || c == '/'),
            "{rel}: stray text in <{name}{attrs}>"
        );
        for a in attr.captures_iter(attrs) {
            let key = a[1].to_ascii_lowercase();
            assert!(
                !key.starts_with("on"),
                "{rel}: event handler in <{name}{attrs}>"
            );
            if matches!(key.as_str(), "href" | "src" | "action") {
                let v = a[2].trim().to_ascii_lowercase();
                assert!(
                    v.starts_with('/')
                        || v.starts_with('#')
                        || v.starts_with("https://")
                        || v.starts_with("http://")
                        || v.starts_with("mailto:")
                        || local_json.is_match(&v),
                    "{rel}: unsafe {key}={v:?}"
                );
            }
            if name == "script" {
                assert!(
                    key == "src"
                        || key == "defer"
                        || (key == "type" && a[2].trim() == "application/ld+json"),
                    "{rel}: inline script attribute {key}"
                );
            }
        }
        if name == "a" && external.is_match(attrs) && !attrs.contains("catalogue.example") {
            assert!(
                attrs.contains("rel=\"nofollow noopener"),
                "{rel}: external link without rel: {attrs}"
            );
        }
    }
    // No script element has a body: scripts only load our own files. The one data block,
    // FAQ structured data, is JSON with no `<` in it (so nothing can close it early).
    let data = Regex::new(r#"(?s)<script type="application/ld\+json">(.*?)</script>"#).unwrap();
    for block in data.captures_iter(html) {
        assert!(!block[1].contains('<'), "{rel}: `<` in structured data");
        serde_json::from_str::<serde_json::Value>(&block[1])
            .unwrap_or_else(|e| panic!("{rel}: structured data is not JSON: {e}"));
    }
    let without_data = data.replace_all(html, "");
    let inline = Regex::new(r"(?s)<script[^>]*>\s*[^<\s]").unwrap();
    assert!(!inline.is_match(&without_data), "{rel}: inline script");
}

#[test]
fn hostile_catalogue_cannot_inject_markup_or_escape_the_folder() {
    let cat = tempfile::tempdir().unwrap();
    copy_dir(&fixture("hostile"), cat.path());
    // A 300 KB description, generated rather than committed.
    let huge = Server {
        id: "huge".into(),
        slug: "huge".into(),
        name: "Huge".into(),
        tools: vec![Tool {
            name: "wall_of_text".into(),
            description: Some("<script>alert('big')</script> lorem ipsum ".repeat(7_500)),
            ..Tool::default()
        }],
        ..Server::default()
    };
    assert!(huge.tools[0].description.as_ref().unwrap().len() > 300_000);
    toolrisk::catalogue::Catalogue::new(cat.path())
        .write(&huge)
        .unwrap();

    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("site");
    let report = build(&opts(cat.path(), &out)).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.servers, 3);

    // Nothing was written outside the output folder, and names became safe slugs.
    let outside: Vec<_> = std::fs::read_dir(parent.path())
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(outside.len(), 1);
    let all = files(&out);
    for rel in all.keys() {
        assert!(
            rel.split('/').all(|part| !part.is_empty()
                && part != ".."
                && part != "."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))),
            "unsafe output path {rel}"
        );
    }
    // Five colliding or empty tool names get five distinct pages, deterministically.
    let dotdot: Vec<_> = all
        .keys()
        .filter(|k| k.starts_with("tools/dotdot/"))
        .collect();
    assert_eq!(dotdot.len(), 5, "{dotdot:?}");
    let again = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), again.path())).unwrap();
    let again_keys: Vec<String> = files(again.path()).into_keys().collect();
    assert_eq!(all.keys().cloned().collect::<Vec<_>>(), again_keys);

    for (rel, _) in all.iter().filter(|(k, _)| k.ends_with(".html")) {
        let html = read(&out, rel);
        assert_safe_html(rel, &html);
        // Crawled bidi controls are shown, not obeyed.
        assert!(!html.contains('\u{202E}'), "{rel}: raw bidi override");
    }
    let evil = read(&out, "tools/evil/svg-onload-alert-name/index.html");
    assert!(evil.contains("[U+202E]exe.txt[U+202C]"));
    assert!(evil.contains("&lt;svg/onload=alert("));
    // The huge description is cut for display, so the page stays small.
    let big = all["tools/huge/wall-of-text/index.html"].len();
    assert!(big < 200_000, "huge tool page is {big} bytes");
    // JSON in the API stays valid whatever the strings hold.
    let api: serde_json::Value =
        serde_json::from_str(&read(&out, "api/servers/evil.json")).unwrap();
    assert!(api["server"]["name"].as_str().unwrap().contains("<script>"));
    // The Atom feed escapes crawled text too.
    let feed = read(&out, "changes/atom.xml");
    assert!(!feed.contains("<script>"));
}

#[test]
fn rebuild_writes_only_what_changed_and_removes_vanished_tools() {
    let cat = tempfile::tempdir().unwrap();
    copy_dir(&fixture("catalogue"), cat.path());
    std::fs::remove_file(cat.path().join("servers/broken.yaml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let first = build(&opts(cat.path(), out.path())).unwrap();
    assert!(first.written > 50);
    let before = files(out.path());

    std::thread::sleep(std::time::Duration::from_millis(30));
    let second = build(&opts(cat.path(), out.path())).unwrap();
    assert_eq!(second.written, 0, "an unchanged catalogue rewrote files");
    assert_eq!(second.removed, 0);
    let after = files(out.path());
    for (rel, m) in &before {
        if !rel.starts_with(".toolrisk-") {
            assert_eq!(
                m.modified().unwrap(),
                after[rel].modified().unwrap(),
                "{rel} was touched"
            );
        }
    }

    // Drop a tool from one server: its pages go, the other server's tool pages stay untouched.
    let catalogue = toolrisk::catalogue::Catalogue::new(cat.path());
    let mut jobs = catalogue.find("jobs-server").unwrap();
    jobs.tools.retain(|t| t.name != "send_report");
    catalogue.write(&jobs).unwrap();
    let third = build(&opts(cat.path(), out.path())).unwrap();
    assert!(third.removed >= 2, "{third:?}");
    assert!(!out.path().join("tools/jobs-server/send-report").exists());
    assert!(!out
        .path()
        .join("api/tools/jobs-server/send-report.json")
        .exists());
    let now = files(out.path());
    let mut kept = 0;
    for (rel, m) in before.iter().filter(|(k, _)| k.contains("/sktime-mcp/")) {
        assert_eq!(
            m.modified().unwrap(),
            now[rel].modified().unwrap(),
            "{rel} was rewritten"
        );
        kept += 1;
    }
    assert!(kept >= 10);
    assert!(third.written < first.written, "{third:?}");

    // The cached rebuild produced exactly what a build from scratch produces.
    let fresh = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), fresh.path())).unwrap();
    let a = files(out.path());
    let b = files(fresh.path());
    let names = |m: &BTreeMap<String, std::fs::Metadata>| -> Vec<String> {
        m.keys()
            .filter(|k| !k.starts_with(".toolrisk-"))
            .cloned()
            .collect()
    };
    assert_eq!(names(&a), names(&b));
    for rel in names(&a) {
        assert_eq!(
            read(out.path(), &rel),
            read(fresh.path(), &rel),
            "{rel} differs from a fresh build"
        );
    }
}

#[test]
fn records_kept_in_memory_and_records_read_again_render_the_same_site() {
    let kept = tempfile::tempdir().unwrap();
    let reread = tempfile::tempdir().unwrap();
    build(&opts(&fixture("catalogue"), kept.path())).unwrap();
    let mut o = opts(&fixture("catalogue"), reread.path());
    o.retain_bytes = 0;
    build(&o).unwrap();
    let names = |d: &Path| -> Vec<String> {
        files(d)
            .into_keys()
            .filter(|k| !k.starts_with(".toolrisk-"))
            .collect()
    };
    let a = names(kept.path());
    assert!(a.len() > 50, "{}", a.len());
    assert_eq!(a, names(reread.path()));
    for rel in a {
        assert_eq!(
            std::fs::read(kept.path().join(&rel)).unwrap(),
            std::fs::read(reread.path().join(&rel)).unwrap(),
            "{rel} differs"
        );
    }
}

#[test]
fn a_templates_folder_overrides_builtins_by_name() {
    let tpl = tempfile::tempdir().unwrap();
    std::fs::write(
        tpl.path().join("404.html"),
        "{% extends \"base.html\" %}{% block content %}<p>custom missing page</p>{% endblock content %}",
    )
    .unwrap();
    std::fs::create_dir(tpl.path().join("static")).unwrap();
    std::fs::write(tpl.path().join("static/style.css"), "body{color:red}").unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut o = opts(&fixture("catalogue"), out.path());
    o.templates = Some(tpl.path().to_path_buf());
    build(&o).unwrap();
    assert!(read(out.path(), "404.html").contains("custom missing page"));
    assert_eq!(read(out.path(), "static/style.css"), "body{color:red}");
    // Others stay built in.
    assert!(read(out.path(), "index.html").contains("Tools by risk"));

    std::fs::write(tpl.path().join("home.html"), "{% if %}").unwrap();
    let err = build(&o).expect_err("a broken template must fail the build");
    assert!(format!("{err:#}").contains("home.html"), "{err:#}");
}

/// A tool page lists each operation an argument chooses, and says where the values come from.
#[test]
fn tool_page_lists_operations_by_where_their_values_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let cat = toolrisk::catalogue::Catalogue::new(dir.path());
    let tool = |name: &str, desc: &str, props: serde_json::Value| Tool {
        name: name.into(),
        description: Some(desc.into()),
        input_schema: Some(serde_json::json!({"type": "object", "properties": props})),
        ..Tool::default()
    };
    cat.write(&Server {
        id: "example/db".into(),
        slug: "db".into(),
        name: "DB".into(),
        tools: vec![
            tool(
                "execute_sql",
                "Execute a SQL statement against the Postgres database.",
                serde_json::json!({"sql": {"type": "string"}}),
            ),
            tool(
                "branches",
                "Work with the repository's branches.",
                serde_json::json!({"command": {"type": "string",
                    "description": "One of: list, create, delete."}}),
            ),
        ],
        ..Server::default()
    })
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    build(&opts(dir.path(), out.path())).unwrap();
    let sql = read(out.path(), "tools/db/execute-sql/index.html");
    assert!(sql.contains("Per operation"), "{sql}");
    assert!(
        sql.contains("<code>DROP</code> …</td><td>SQL statement kind</td>"),
        "{sql}"
    );
    assert!(sql.contains("never allows SQL by its first word"));
    let router = read(out.path(), "tools/db/branches/index.html");
    assert!(
        router.contains("<code>delete</code></td><td>the parameter's description</td>"),
        "{router}"
    );
    assert!(!router.contains("never allows SQL"));
}

fn synthetic(dir: &Path, servers: usize) {
    let cat = toolrisk::catalogue::Catalogue::new(dir);
    for i in 0..servers {
        let tools = [
            "get_item",
            "create_item",
            "delete_item",
            "search",
            "send_message",
        ]
        .iter()
        .map(|n| Tool {
            name: n.to_string(),
            description: Some(format!("Does {n} on service {i}.")),
            input_schema: Some(
                serde_json::json!({"type":"object","properties":{"id":{"type":"string"}}}),
            ),
            ..Tool::default()
        })
        .collect();
        cat.write(&Server {
            id: format!("example/s{i:04}"),
            slug: format!("s{i:04}"),
            name: format!("Service {i:04}"),
            tools,
            ..Server::default()
        })
        .unwrap();
    }
}

#[test]
fn page_weight_stays_flat_as_the_catalogue_grows() {
    let sizes: Vec<(u64, u64, u64)> = [3usize, 60]
        .iter()
        .map(|&n| {
            let cat = tempfile::tempdir().unwrap();
            synthetic(cat.path(), n);
            let out = tempfile::tempdir().unwrap();
            build(&opts(cat.path(), out.path())).unwrap();
            let f = files(out.path());
            let tool = f["tools/s0001/get-item/index.html"].len();
            let server = f["servers/s0001/index.html"].len();
            let home = f["index.html"].len();
            (tool, server, home)
        })
        .collect();
    // Similar tools are capped, so a tool page grows by a bounded list, not with the catalogue.
    assert!(sizes[1].0 < sizes[0].0 + 4_000, "{sizes:?}");
    assert!(sizes[1].1 <= sizes[0].1 + 200, "{sizes:?}");
    assert!(sizes[1].2 <= sizes[0].2 + 200, "{sizes:?}");
}

/// A catalogue crawled once has no history: the changes page says so and when changes will
/// appear, instead of an empty table; a catalogue with history lists it and says nothing of
/// the kind.
#[test]
fn changes_page_says_plainly_when_there_is_no_history_yet() {
    let cat = tempfile::tempdir().unwrap();
    synthetic(cat.path(), 2);
    let out = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let page = read(out.path(), "changes/index.html");
    assert!(page.contains("No history yet:"), "{page}");
    assert!(page.contains("after a second crawl"), "{page}");
    assert!(!page.contains("<table"), "no empty table");

    let (out, _) = build_fixture();
    let page = read(out.path(), "changes/index.html");
    assert!(!page.contains("No history yet"));
    assert!(page.contains("<table class=\"tools\">"));
}

#[test]
fn a_missing_catalogue_is_an_error_that_says_what_to_do() {
    let out = tempfile::tempdir().unwrap();
    let err = build(&opts(Path::new("/nonexistent/catalogue"), out.path())).unwrap_err();
    assert!(format!("{err}").contains("--catalogue"), "{err}");
}

fn http_get(addr: std::net::SocketAddr, target: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

#[test]
fn serve_answers_pages_and_refuses_to_leave_the_folder() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("site");
    std::fs::write(parent.path().join("secret.txt"), "do not serve").unwrap();
    build(&opts(&fixture("catalogue"), &out)).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || toolrisk::site::serve::serve_dir(listener, out));
    let (head, body) = http_get(addr, "/tools/sktime-mcp/check-job-status/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/html"));
    assert!(head
        .to_ascii_lowercase()
        .contains("content-security-policy: default-src 'self'"));
    assert!(body.contains("check_job_status"));
    let (head, body) = http_get(addr, "/search/meta.json?x=1");
    assert!(head.contains("application/json"), "{head}");
    assert!(body.contains("\"docs\""));
    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/tools/%2E%2E/%2E%2E/../secret.txt",
    ] {
        let (head, body) = http_get(addr, bad);
        assert!(head.starts_with("HTTP/1.1 404"), "{bad}: {head}");
        assert!(!body.contains("do not serve"), "{bad}");
        assert!(
            body.contains("Page not found"),
            "{bad}: the site's 404 page"
        );
    }
}

/// Every file under `search/`, with its bytes.
fn search_files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    files(out)
        .into_keys()
        .filter(|k| k.starts_with("search/") && k != "search/index.html")
        .map(|k| {
            let bytes = std::fs::read(out.join(&k)).unwrap();
            (k, bytes)
        })
        .collect()
}

#[test]
fn search_index_rebuilt_from_digests_equals_a_fresh_build() {
    // 70 servers of 5 tools: 420 documents, two doc chunks, dozens of term files.
    let cat = tempfile::tempdir().unwrap();
    synthetic(cat.path(), 70);
    let catalogue = toolrisk::catalogue::Catalogue::new(cat.path());
    let out = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let same_as_fresh = |what: &str| {
        let fresh = tempfile::tempdir().unwrap();
        build(&opts(cat.path(), fresh.path())).unwrap();
        let (a, b) = (search_files(out.path()), search_files(fresh.path()));
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{what}: other files than a fresh build"
        );
        for (rel, bytes) in &a {
            assert!(bytes == &b[rel], "{what}: {rel} differs from a fresh build");
        }
        a
    };
    let before = search_files(out.path());
    assert!(before.keys().any(|k| k == "search/docs/1.json"));

    // One tool of the last server says something else: its chunk and some term files change,
    // the first chunk is kept as it was.
    let t0 = files(out.path())["search/docs/0.json"].modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut last = catalogue.find("s0069").unwrap();
    last.tools[1].description = Some("Quickly reads every invoice of service 69.".into());
    catalogue.write(&last).unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let edited = same_as_fresh("edited description");
    assert_ne!(edited["search/docs/1.json"], before["search/docs/1.json"]);
    assert_eq!(
        files(out.path())["search/docs/0.json"].modified().unwrap(),
        t0,
        "an unchanged doc chunk was rewritten"
    );

    // The same words move to another tool: some term files keep their terms and counts, only
    // their postings differ.
    let original = last.tools[3].description.clone();
    last.tools[3].description = last.tools[1].description.take();
    last.tools[1].description = original;
    catalogue.write(&last).unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let moved = same_as_fresh("moved words");
    assert_ne!(
        moved["search/terms/qu.json"],
        edited["search/terms/qu.json"]
    );

    // A kept file that someone deleted is written again.
    std::fs::remove_file(out.path().join("search/docs/0.json")).unwrap();
    std::fs::remove_file(out.path().join("search/terms/se.json")).unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    same_as_fresh("deleted files");

    // A server goes: every later document moves up.
    std::fs::remove_file(catalogue.server_path("s0010")).unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    same_as_fresh("removed server");

    // Servers come, one in the middle: documents move down, a third chunk appears.
    let mut extra = catalogue.find("s0020").unwrap();
    for slug in [
        "s0020b", "s0070", "s0071", "s0072", "s0073", "s0074", "s0075",
    ] {
        extra.slug = slug.into();
        extra.id = format!("example/{slug}");
        extra.name = format!("Added {slug} Server");
        catalogue.write(&extra).unwrap();
    }
    for i in 76..100 {
        extra.slug = format!("s{i:04}");
        extra.id = format!("example/{}", extra.slug);
        catalogue.write(&extra).unwrap();
    }
    build(&opts(cat.path(), out.path())).unwrap();
    let grown = same_as_fresh("added servers");
    assert!(grown.contains_key("search/docs/2.json"));
}

/// The site uses the same classifier as every other command: the catalogue's
/// `overrides.yaml` decides the tool page, the server's policy files and the search index,
/// and adding it rebuilds what it changes (it is part of the build cache key).
#[test]
fn catalogue_overrides_reach_the_page_the_policy_files_and_the_search_index() {
    let cat = tempfile::tempdir().unwrap();
    copy_dir(&fixture("catalogue"), cat.path());
    let out = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let page = "tools/jobs-server/check-job-status/index.html";
    assert!(!read(out.path(), page).contains("Reviewed: polling leaks queue names"));
    std::fs::write(
        cat.path().join("overrides.yaml"),
        "overrides:\n- server: jobs-server\n  tool: check_job_status\n  reason: 'Reviewed: polling leaks queue names'\n  risk: critical\n  action: deny\n",
    )
    .unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let html = read(out.path(), page);
    assert!(
        html.contains("Reviewed: polling leaks queue names"),
        "the reason is shown"
    );
    assert!(
        html.contains("risk-critical"),
        "the overridden risk is shown"
    );
    let policy: serde_json::Value =
        serde_json::from_str(&read(out.path(), "servers/jobs-server/policy.json")).unwrap();
    let rule = policy.to_string();
    assert!(
        rule.contains("check_job_status") && rule.contains("deny"),
        "the server policy denies the tool: {rule}"
    );
    let claude = read(out.path(), "servers/jobs-server/claude-code.json");
    let claude: serde_json::Value = serde_json::from_str(&claude).unwrap();
    let deny = claude["permissions"]["deny"].to_string();
    assert!(deny.contains("check_job_status"), "{claude}");
    // The search index: the posting of `check_job_status` carries risk critical (3).
    let shard: serde_json::Value =
        serde_json::from_str(&read(out.path(), "search/terms/ch.json")).unwrap();
    let docs: serde_json::Value =
        serde_json::from_str(&read(out.path(), "search/docs/0.json")).unwrap();
    let risk_of = |name: &str| {
        shard["check"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .find(|c| docs[((c / 4 / 6) / 3) as usize][0] == name)
            .map(|c| c % 4)
    };
    assert_eq!(risk_of("check_job_status"), Some(3));
    let doc = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d[0] == "check_job_status")
        .unwrap();
    assert_eq!(doc[5], "critical");
}

/// The Atom feed and sitemap parse as XML whatever the names and changes hold: markup,
/// entities, CDATA ends, NUL, escape and other control characters, U+FFFE, bidi and tags.
#[test]
fn atom_feed_stays_well_formed_xml_whatever_the_names_contain() {
    let cat = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cat.path().join("servers")).unwrap();
    std::fs::write(
        cat.path().join("servers/odd.yaml"),
        r#"id: "odd\u0001<&>"
slug: odd
name: "Odd ]]> & <b>\e\0\uFFFE\u202E\U000E0041 server"
tools:
- name: "get_]]>&amp;\e\x08\uFFFF"
  description: "x"
history:
- at: "2026-11-22T00:00:00Z\u0007"
  tool: "get_]]>&amp;\e\x08\uFFFF"
  change: "description_changed<![CDATA[ \0 ]]> \"'"
"#,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let report = build(&opts(cat.path(), out.path())).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let feed = read(out.path(), "changes/atom.xml");
    let doc = roxmltree::Document::parse(&feed).unwrap_or_else(|e| panic!("{e}\n{feed}"));
    let entries: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .collect();
    assert_eq!(entries.len(), 1);
    let title = entries[0]
        .children()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(title.contains("get_]]>&amp;"), "{title}");
    assert!(!title.contains('\u{1b}') && !title.contains('\u{FFFF}'));
    let sitemap = read(out.path(), "sitemap.xml");
    roxmltree::Document::parse(&sitemap).unwrap();
}

/// A server with very many tools gets `/servers/<slug>/page/N/` pages: every page stays
/// under 200 KB, every tool is listed on exactly one page, and the summary of what the
/// server can do counts all of them.
#[test]
fn a_server_page_with_very_many_tools_is_paginated() {
    let cat = tempfile::tempdir().unwrap();
    let long = "Deletes the record and sends a notice. ".repeat(20);
    let tools = (0..450)
        .map(|i| Tool {
            name: format!("delete_record_{i:03}"),
            description: Some(long.clone()),
            ..Tool::default()
        })
        .collect();
    toolrisk::catalogue::Catalogue::new(cat.path())
        .write(&Server {
            id: "example/huge".into(),
            slug: "huge".into(),
            name: "Huge".into(),
            tools,
            ..Server::default()
        })
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let pages = [
        "servers/huge/index.html",
        "servers/huge/page/2/index.html",
        "servers/huge/page/3/index.html",
    ];
    let mut seen = Vec::new();
    let link = Regex::new(r#"href="/tools/huge/(delete-record-\d+)/""#).unwrap();
    for p in pages {
        let html = read(out.path(), p);
        assert!(html.len() < 200_000, "{p}: {} bytes", html.len());
        assert!(html.contains("Page "), "{p} has a pager");
        let table = &html[html.find("id=\"tools\"").unwrap()..];
        let mut here: Vec<String> = link
            .captures_iter(table)
            .map(|c| c[1].to_string())
            .collect();
        here.dedup();
        seen.extend(here);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 450, "every tool on one of the pages");
    assert!(!out.path().join("servers/huge/page/4").exists());
    let first = read(out.path(), pages[0]);
    assert!(first.contains("450"), "the summary counts every tool");
    let badge: serde_json::Value =
        serde_json::from_str(&read(out.path(), "servers/huge/badge.json")).unwrap();
    assert_eq!(badge["schemaVersion"], 1);
    assert!(badge["message"].as_str().unwrap().contains("450 tools"));
}

/// Every rule id and confidence badge on a tool page links to the method; every rule link
/// has a page that counts the tools it fired on; the "wrong label?" link opens an issue on
/// `--repo-url` carrying the verdict and an `overrides.yaml` entry the overrides loader reads.
#[test]
fn tool_pages_link_the_method_and_a_prefilled_wrong_label_issue() {
    let (out, _) = build_fixture();
    let out = out.path();
    let html = read(out, "tools/jobs-server/send-report/index.html");
    assert!(html.contains(r#"href="/method/#confidence""#));
    let rule_link = Regex::new(r#"href="/method/rules/([a-z0-9-]+)/""#).unwrap();
    let rules: Vec<String> = rule_link
        .captures_iter(&html)
        .map(|c| c[1].to_string())
        .collect();
    assert!(!rules.is_empty(), "evidence rules link their pages");
    for r in &rules {
        let page = read(out, &format!("method/rules/{r}/index.html"));
        assert!(
            page.contains("send_report"),
            "rule {r} lists the tool it fired on"
        );
    }
    let method = read(out, "method/index.html");
    assert!(method.contains(r#"id="confidence""#) && method.contains("Risk grading"));
    let href = Regex::new(r#"class="wrong-label" href="([^"]+)""#).unwrap();
    let href = href.captures(&html).unwrap()[1].replace("&amp;", "&");
    let url = url::Url::parse(&href).unwrap();
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        "https://github.com/toolrisk/toolrisk/issues/new"
    );
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert!(q["title"].contains("send_report"));
    let body = &q["body"];
    assert!(body.contains("https://catalogue.example/tools/jobs-server/send-report/"));
    let yaml = body
        .split("```yaml\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let filled = yaml.replace("FILL IN: why the rules are wrong", "It only drafts");
    let o = toolrisk::classify::overrides::Overrides::parse("issue", &filled).unwrap();
    assert_eq!(o.list.len(), 1);
    assert_eq!(o.list[0].tool, "send_report");
    assert_eq!(o.list[0].server, "jobs-server");
}

/// `serve` of a site built for a sub-path answers under it, as the site's host will: `/` and
/// `/sub` redirect to `/sub/`, a folder without its slash redirects inside `/sub/`, and the rest
/// of the host is not found.
#[test]
fn serve_serves_a_sub_path_build_under_its_path() {
    let out = tempfile::tempdir().unwrap();
    let mut o = opts(&fixture("catalogue"), out.path());
    o.base_url = "https://example.org/sub/".into();
    build(&o).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let root = out.path().to_path_buf();
    std::thread::spawn(move || toolrisk::site::serve::serve_dir_under(listener, root, "/sub"));
    let (head, body) = http_get(addr, "/sub/tools/sktime-mcp/check-job-status/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("href=\"/sub/servers/sktime-mcp/\""));
    let (head, body) = http_get(addr, "/sub/search/meta.json");
    assert!(
        head.starts_with("HTTP/1.1 200") && body.contains("\"docs\""),
        "{head}"
    );
    for (from, to) in [
        ("/", "/sub/"),
        ("/sub", "/sub/"),
        ("/sub/servers", "/sub/servers/"),
    ] {
        let (head, _) = http_get(addr, from);
        let lower = head.to_ascii_lowercase();
        assert!(head.starts_with("HTTP/1.1 30"), "{from}: {head}");
        assert!(
            lower.contains(&format!("location: {to}\r"))
                || lower.ends_with(&format!("location: {to}")),
            "{from}: {head}"
        );
    }
    for outside in [
        "/servers/",
        "/search/meta.json",
        "/subx/",
        "/static/style.css",
    ] {
        let (head, _) = http_get(addr, outside);
        assert!(head.starts_with("HTTP/1.1 404"), "{outside}: {head}");
    }
}

fn http_raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    // The server may answer and close before it has read everything.
    let _ = s.write_all(request);
    let mut text = Vec::new();
    let _ = s.read_to_end(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

/// `serve` caps the request line and the headers: past `MAX_HEAD` bytes or `MAX_HEADERS`
/// headers it answers 431 (or 414 for a long target) instead of reading on, and a request
/// just under the cap is still served.
#[test]
fn serve_caps_the_request_line_and_header_size() {
    use toolrisk::site::serve::{MAX_HEAD, MAX_HEADERS};
    let out = tempfile::tempdir().unwrap();
    build(&opts(&fixture("catalogue"), out.path())).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let root = out.path().to_path_buf();
    std::thread::spawn(move || toolrisk::site::serve::serve_dir(listener, root));
    let long_line = format!(
        "GET /?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(MAX_HEAD * 2)
    );
    let r = http_raw(addr, long_line.as_bytes());
    assert!(
        r.starts_with("HTTP/1.1 431") || r.starts_with("HTTP/1.1 414"),
        "long request line: {}",
        &r[..r.len().min(80)]
    );
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(MAX_HEAD * 2)
    );
    let r = http_raw(addr, big_header.as_bytes());
    assert!(
        r.starts_with("HTTP/1.1 431"),
        "big header: {}",
        &r[..r.len().min(80)]
    );
    let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..MAX_HEADERS + 10 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let r = http_raw(addr, many.as_bytes());
    assert!(
        r.starts_with("HTTP/1.1 431"),
        "many headers: {}",
        &r[..r.len().min(80)]
    );
    let ok = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Fine: {}\r\nConnection: close\r\n\r\n",
        "c".repeat(MAX_HEAD / 2)
    );
    let r = http_raw(addr, ok.as_bytes());
    assert!(r.starts_with("HTTP/1.1 200"), "{}", &r[..r.len().min(80)]);
    // Only GET and HEAD.
    let r = http_raw(
        addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert!(r.starts_with("HTTP/1.1 405"), "{r}");
}

/// `serve` checks its port before it builds: a taken port is reported at once, not after
/// (here: instead of) a build.
#[test]
fn serve_checks_its_port_before_building() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = tempfile::tempdir().unwrap();
    let missing = out.path().join("no-catalogue-here");
    let err =
        toolrisk::site::serve::serve(&opts(&missing, &out.path().join("site")), port).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("cannot listen on 127.0.0.1"), "{msg}");
    assert!(!out.path().join("site").exists(), "nothing was built");
}

/// Every file of a built site, by path, with its bytes (the build's own bookkeeping aside).
fn site_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    files(out)
        .into_keys()
        .filter(|rel| !rel.starts_with(".toolrisk-"))
        .map(|rel| {
            let b = std::fs::read(out.join(&rel)).unwrap();
            (rel, b)
        })
        .collect()
}

/// After each kind of change (a description, a server renamed that other servers' pages
/// list as similar, a tool added with a name other servers share, a server removed, an
/// override, a history entry), the incremental rebuild equals a fresh build byte for byte.
#[test]
fn incremental_build_equals_fresh_build_after_every_kind_of_change() {
    let cat = tempfile::tempdir().unwrap();
    copy_dir(&fixture("catalogue"), cat.path());
    std::fs::remove_file(cat.path().join("servers/broken.yaml")).unwrap();
    synthetic(cat.path(), 4);
    let catalogue = toolrisk::catalogue::Catalogue::new(cat.path());
    let inc = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), inc.path())).unwrap();
    let check = |what: &str| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        build(&opts(cat.path(), inc.path())).unwrap();
        let fresh = tempfile::tempdir().unwrap();
        build(&opts(cat.path(), fresh.path())).unwrap();
        let (a, b) = (site_bytes(inc.path()), site_bytes(fresh.path()));
        let a_keys: Vec<&String> = a.keys().collect();
        let b_keys: Vec<&String> = b.keys().collect();
        assert_eq!(a_keys, b_keys, "{what}: the same files");
        for (rel, bytes) in &a {
            assert!(bytes == &b[rel], "{what}: {rel} differs from a fresh build");
        }
    };
    let mut s = catalogue.find("s0001").unwrap();
    s.tools[0].description = Some("Fetches one item by its id, quickly.".into());
    catalogue.write(&s).unwrap();
    check("a description changed");

    let mut s = catalogue.find("s0002").unwrap();
    s.name = "Renamed Service".into();
    catalogue.write(&s).unwrap();
    check("a server renamed");

    let mut jobs = catalogue.find("jobs-server").unwrap();
    jobs.tools.push(Tool {
        name: "delete_item".into(),
        description: Some("Deletes an item for good.".into()),
        ..Tool::default()
    });
    catalogue.write(&jobs).unwrap();
    check("a tool added that other servers have too");

    std::fs::remove_file(cat.path().join("servers/s0003.yaml")).unwrap();
    check("a server removed");

    std::fs::write(
        cat.path().join("overrides.yaml"),
        "overrides:\n- server: s0000\n  tool: search\n  reason: reviewed\n  risk: high\n",
    )
    .unwrap();
    check("an override added");

    let mut s = catalogue.find("s0000").unwrap();
    s.history.push(toolrisk::model::HistoryEntry {
        at: "2026-11-30T00:00:00Z".into(),
        tool: "get_item".into(),
        change: "description_changed".into(),
        ..Default::default()
    });
    catalogue.write(&s).unwrap();
    check("a history entry");
}

#[test]
fn server_page_shows_package_facts_needed_env_and_install_snippets_escaped() {
    use toolrisk::model::{
        EnvVar, Package, PackageMetadata, Provenance, RegistryEntry, RegistryMetadata,
    };
    let cat = tempfile::tempdir().unwrap();
    toolrisk::catalogue::Catalogue::new(cat.path())
        .write(&Server {
            id: "npm:@demo/pay-mcp".into(),
            slug: "demo-pay-mcp".into(),
            name: "Demo Pay".into(),
            packages: vec![Package {
                registry: "npm".into(),
                identifier: "@demo/pay-mcp".into(),
                version: Some("1.2.3".into()),
                transport: Some("stdio".into()),
            }],
            provenance: vec![Provenance {
                source: "npm-launch".into(),
                fetched_at: "2026-12-01T00:00:00Z".into(),
                location: Some("npx -y @demo/pay-mcp@1.2.3 serve --dir {work}".into()),
                ..Provenance::default()
            }],
            package_metadata: Some(PackageMetadata {
                source: "npm package.json".into(),
                license: Some("MIT".into()),
                description: Some("Payments <script>alert(1)</script>".into()),
                ..PackageMetadata::default()
            }),
            registry_metadata: Some(RegistryMetadata {
                entries: vec![RegistryEntry {
                    source: "docker".into(),
                    id: "docker:pay".into(),
                    fetched_at: "2026-12-01T00:00:00Z".into(),
                    env: vec![EnvVar {
                        name: "PAY_API_KEY".into(),
                        secret: true,
                        required: true,
                        ..EnvVar::default()
                    }],
                    ..RegistryEntry::default()
                }],
                disagreements: vec![],
            }),
            tools: vec![Tool {
                name: "create_payment".into(),
                description: Some("Create a payment".into()),
                ..Tool::default()
            }],
            ..Server::default()
        })
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    build(&opts(cat.path(), out.path())).unwrap();
    let html = read(out.path(), "servers/demo-pay-mcp/index.html");
    assert!(html.contains("Install and configure"), "{html}");
    // The command the launch crawl used, its placeholder made readable; the secret by name.
    assert!(
        html.contains("claude mcp add -e PAY_API_KEY=… demo-pay-mcp -- npx -y @demo/pay-mcp@1.2.3 serve --dir /path/to/folder"),
        "{html}"
    );
    assert!(html.contains("&quot;mcpServers&quot;"), "{html}");
    assert!(html.contains("<code>PAY_API_KEY</code>"), "{html}");
    assert!(html.contains("MIT"), "{html}");
    assert!(
        !html.contains("<script>alert(1)"),
        "package text is escaped"
    );
}

#[test]
fn server_pages_offer_every_policy_target_parsed_back() {
    let (out, _) = build_fixture();
    let servers = std::fs::read_dir(out.path().join("servers")).unwrap();
    let mut checked = 0;
    for s in servers {
        let dir = s.unwrap().path();
        if !dir.join("index.html").exists() || !dir.join("policy").is_dir() {
            continue;
        }
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        for t in toolrisk::classify::policy::Target::all() {
            let file = format!("policy/{}.{}", t.as_str(), t.extension());
            assert!(html.contains(&file), "{}: no link to {file}", dir.display());
            let text = std::fs::read_to_string(dir.join(&file)).unwrap();
            match t.extension() {
                "json" => {
                    serde_json::from_str::<serde_json::Value>(&text)
                        .unwrap_or_else(|e| panic!("{file}: {e}\n{text}"));
                }
                "toml" => {
                    text.parse::<toml::Table>()
                        .unwrap_or_else(|e| panic!("{file}: {e}\n{text}"));
                }
                "cedar" => {
                    text.parse::<cedar_policy::PolicySet>()
                        .unwrap_or_else(|e| panic!("{file}: {e}\n{text}"));
                }
                other => panic!("unexpected extension {other}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 8 * 2, "{checked} policy files checked");
}

/// The tags of an HTML document with their attributes (names lower-cased, values with the
/// entities our escaping produces decoded). Comments are skipped, and the bodies of `script`
/// and `style` elements are not read as markup.
fn html_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    fn decode(v: &str) -> String {
        v.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
    let b = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i..].find("-->").map_or(b.len(), |e| i + e + 3);
            continue;
        }
        if i + 1 >= b.len() || !b[i + 1].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        let name = html[i + 1..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                j += 1;
                break;
            }
            let k = j;
            while j < b.len() && !b"=>/ \t\n\r".contains(&b[j]) {
                j += 1;
            }
            let key = html[k..j].to_ascii_lowercase();
            let mut value = String::new();
            if j < b.len() && b[j] == b'=' {
                j += 1;
                if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
                    let q = b[j];
                    let end = b[j + 1..]
                        .iter()
                        .position(|&c| c == q)
                        .map_or(b.len(), |e| j + 1 + e);
                    value = decode(&html[j + 1..end]);
                    j = end + 1;
                } else {
                    let k = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    value = decode(&html[k..j]);
                }
            }
            attrs.push((key, value));
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            j = html[j.min(b.len())..]
                .find(&close)
                .map_or(b.len(), |e| j + e);
        }
        tags.push((name, attrs));
        i = j;
    }
    tags
}

#[test]
fn html_tags_reads_quoted_values_and_skips_scripts_and_comments() {
    let t = html_tags(
        "<!-- <a href=\"/no\"> --><a class=x href=\"/a?b=1&amp;c=2\" title='it&#39;s'>x</a>\
         <script>var s = \"<a href='/no'>\";</script><img src=/i.svg alt=\"\">",
    );
    let names: Vec<&str> = t.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "script", "img"]);
    assert_eq!(t[0].1[1], ("href".into(), "/a?b=1&c=2".into()));
    assert_eq!(t[0].1[2], ("title".into(), "it's".into()));
    assert_eq!(t[2].1[0], ("src".into(), "/i.svg".into()));
}

/// A site built for a sub-path (a GitHub Pages project site) keeps every internal link under
/// it: each href, src and action of every HTML page, resolved against the page's own URL,
/// either leaves the host or stays under `/sub/`; canonical and OpenGraph URLs, the feed, the
/// sitemap, the API's links and the scripts' fetches do too. The same catalogue built at a
/// host's root has none of it.
#[test]
fn a_sub_path_base_url_keeps_every_internal_link_under_it() {
    let out = tempfile::tempdir().unwrap();
    let mut o = opts(&fixture("catalogue"), out.path());
    o.base_url = "https://example.org/sub/".into();
    build(&o).unwrap();
    let out = out.path();
    let site = url::Url::parse("https://example.org/sub/").unwrap();
    let under = |u: &url::Url| u.host_str() != Some("example.org") || u.path().starts_with("/sub/");
    let mut pages = 0;
    let mut links = 0;
    for rel in files(out).keys().filter(|r| r.ends_with(".html")) {
        pages += 1;
        let html = read(out, rel);
        let page_url = site
            .join(rel.strip_suffix("index.html").unwrap_or(rel))
            .unwrap();
        let tags = html_tags(&html);
        assert_eq!(tags[0].0, "html", "{rel}");
        assert!(
            tags[0].1.contains(&("data-root".into(), "/sub".into())),
            "{rel}: <html> without data-root=\"/sub\""
        );
        for (name, attrs) in &tags {
            for (key, value) in attrs {
                let is_url = matches!(key.as_str(), "href" | "src" | "action")
                    || (name == "meta" && key == "content" && value.starts_with("http"));
                if !is_url || value.starts_with('#') || value.starts_with("mailto:") {
                    continue;
                }
                let u = page_url
                    .join(value)
                    .unwrap_or_else(|e| panic!("{rel}: <{name} {key}={value:?}>: {e}"));
                assert!(
                    under(&u),
                    "{rel}: <{name} {key}={value:?}> is outside /sub/"
                );
                if u.host_str() == Some("example.org") {
                    links += 1;
                }
            }
        }
    }
    assert!(
        pages > 20 && links > pages * 10,
        "{pages} pages, {links} links"
    );
    let home = read(out, "index.html");
    assert!(home.contains(r#"<link rel="canonical" href="https://example.org/sub/">"#));

    // The feed and the sitemap: absolute URLs, all under the base URL.
    for rel in ["changes/atom.xml", "sitemap.xml"] {
        let xml = read(out, rel);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let mut n = 0;
        for node in doc.descendants() {
            let v = match node.tag_name().name() {
                "loc" | "id" => node.text(),
                "link" => node.attribute("href"),
                _ => None,
            };
            if let Some(v) = v {
                n += 1;
                assert!(v.starts_with("https://example.org/sub/"), "{rel}: {v}");
            }
        }
        assert!(n >= 4, "{rel}: {n} URLs");
    }
    let robots = read(out, "robots.txt");
    assert!(
        robots.contains("Disallow: /sub/api/")
            && robots.contains("Sitemap: https://example.org/sub/sitemap.xml"),
        "{robots}"
    );

    // The API index links each server's record under /sub/.
    let index: serde_json::Value = serde_json::from_str(&read(out, "api/index.json")).unwrap();
    for s in index["servers"].as_array().unwrap() {
        let api = s["api"].as_str().unwrap();
        assert!(api.starts_with("/sub/api/servers/"), "{api}");
        assert!(out.join(&api["/sub/".len()..]).is_file(), "{api}");
    }

    // Scripts fetch and link only through the root the page gives them: no string in them
    // starts with `/` unless it is added to ROOT.
    let literal = Regex::new(r#"(ROOT \+ )?["'`]/[A-Za-z_]"#).unwrap();
    for js in ["static/search.js", "static/compare.js", "static/site.js"] {
        let text = read(out, js);
        for c in literal.captures_iter(&text) {
            assert!(
                c.get(1).is_some(),
                "{js}: a root-absolute string: {}",
                &c[0]
            );
        }
        if js != "static/site.js" {
            assert!(text.contains("getAttribute(\"data-root\")"), "{js}");
        }
    }

    // At a host's root nothing says data-root, and links start at `/`.
    let (root_out, _) = build_fixture();
    let home = read(root_out.path(), "index.html");
    assert!(home.starts_with("<!doctype html>\n<html lang=\"en\">"));
    assert!(home.contains(r#"<a href="/servers/">Servers</a>"#));
}
