//! Crawler tests against real peers: a hostile stdio server of our own (python3), hostile HTTP
//! endpoints, the pinned reference server `@modelcontextprotocol/server-everything` over stdio,
//! Streamable HTTP and SSE (installed by scripts/setup.d/crawl.sh), an rmcp server, and
//! stand-in registries on 127.0.0.1 serving fixtures in the real shapes.

use axum::extract::{Path as AxPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use toolrisk::catalogue::Catalogue;
use toolrisk::crawl::client::{fetch_tools, Era, Transport};
use toolrisk::crawl::http::{HttpTransport, Politeness};
use toolrisk::crawl::stdio::{LaunchSpec, StdioTransport};
use toolrisk::crawl::Limits;
use toolrisk::model::CrawlStatus;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hostile() -> String {
    root()
        .join("tests/fixtures/crawl/hostile_server.py")
        .to_string_lossy()
        .into_owned()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/crawl/registries").join(name))
        .expect("fixture")
}

fn everything_bin() -> PathBuf {
    let p = root().join("tests/artifacts/crawl-npm/node_modules/.bin/mcp-server-everything");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (scripts/setup.d/crawl.sh installs it)",
        p.display()
    );
    p
}

fn fast_limits() -> Limits {
    Limits {
        init_timeout: Duration::from_secs(20),
        discover_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        server_timeout: Duration::from_secs(40),
        retries: 2,
        ..Limits::default()
    }
}

/// These tests are about the protocol and the process group, with our own servers: they run
/// them unconfined (the sandbox has its own tests, tests/sandbox.rs).
fn spec(program: &str, args: &[&str], scratch: &Path) -> LaunchSpec {
    LaunchSpec {
        program: program.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        scratch: scratch.to_path_buf(),
        sandbox: toolrisk::crawl::sandbox::SandboxMode::Unconfined,
        ..LaunchSpec::default()
    }
}

async fn crawl_hostile(
    mode: &str,
    limits: &Limits,
) -> Result<toolrisk::crawl::client::Fetched, String> {
    let dir = tempfile::tempdir().unwrap();
    let t = StdioTransport::spawn(&spec("python3", &[&hostile(), mode], dir.path()), limits)
        .map_err(|e| e.to_string())?;
    fetch_tools(Transport::Stdio(t), limits)
        .await
        .map_err(|e| e.message)
}

// ---------------------------------------------------------------------------------------
// Hostile stdio server

#[tokio::test]
async fn stdio_pagination_junk_malformed_and_long_descriptions() {
    let f = crawl_hostile("paginate", &fast_limits()).await.unwrap();
    let names: Vec<&str> = f.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["page1_a", "page1_b", "page2_long", "page3_last"]);
    assert_eq!(f.era, Era::Legacy);
    assert_eq!(f.protocol_version.as_deref(), Some("2025-06-18"));
    // Junk: the banner and the warning line.
    assert_eq!(f.junk_lines, 2);
    // The malformed tool is reported, the others kept.
    let partial = f.partial.expect("malformed tool reported");
    assert!(partial.contains("malformed tool #3 on page 1"), "{partial}");
    // Unknown fields kept verbatim.
    let a = &f.tools[0];
    assert_eq!(a.extra["x-unknown"], json!({"kept": true}));
    assert_eq!(a.annotations.as_ref().unwrap()["vendorHint"], json!("kept"));
    // 100 KB description truncated to the 64 KiB default and flagged.
    let long = &f.tools[2];
    assert_eq!(long.description_truncated_from, Some(100_000));
    assert_eq!(long.description.as_ref().unwrap().len(), 64 * 1024);
}

#[tokio::test]
async fn stdio_five_megabyte_reply_is_capped_not_fatal_to_the_crawler() {
    let small = Limits {
        max_message_bytes: 1024 * 1024,
        ..fast_limits()
    };
    let err = crawl_hostile("big", &small).await.unwrap_err();
    assert!(err.contains("1048576 byte limit"), "{err}");
    // With the default 16 MiB cap the same reply is read and its description truncated.
    let f = crawl_hostile("big", &fast_limits()).await.unwrap();
    assert_eq!(f.tools[0].description_truncated_from, Some(5 * 1024 * 1024));
}

#[tokio::test]
async fn stdio_server_that_never_answers_times_out() {
    let limits = Limits {
        init_timeout: Duration::from_secs(2),
        discover_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        ..fast_limits()
    };
    let t0 = std::time::Instant::now();
    let err = crawl_hostile("silent", &limits).await.unwrap_err();
    assert!(err.contains("no answer to `initialize`"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn stdio_server_dying_mid_reply_is_reported_with_exit_code() {
    let err = crawl_hostile("die", &fast_limits()).await.unwrap_err();
    assert!(err.contains("exit code 3"), "{err}");
    assert!(err.contains("tools/list"), "{err}");
}

#[tokio::test]
async fn stdio_repeated_cursor_stops_the_walk() {
    let f = crawl_hostile("loop", &fast_limits()).await.unwrap();
    assert_eq!(f.tools.len(), 2);
    assert!(f.partial.unwrap().contains("repeated the cursor"));
}

#[tokio::test]
async fn stdio_modern_server_answers_server_discover() {
    let f = crawl_hostile("modern", &fast_limits()).await.unwrap();
    assert_eq!(f.era, Era::Modern);
    assert_eq!(f.protocol_version.as_deref(), Some("2026-07-28"));
    assert_eq!(f.tools[0].name, "modern_tool");
    assert_eq!(f.server_info.unwrap()["name"], "hostile-modern");
}

#[tokio::test]
async fn stdio_late_discover_answer_wins_when_initialize_is_refused() {
    let limits = Limits {
        discover_timeout: Duration::from_secs(1),
        ..fast_limits()
    };
    let f = crawl_hostile("slowdiscover", &limits).await.unwrap();
    assert_eq!(f.era, Era::Modern);
    assert_eq!(f.tools[0].name, "modern_tool");
}

#[tokio::test]
async fn stdio_whole_process_group_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("grandchild.pid");
    let mut s = spec("python3", &[&hostile(), "grandchild"], dir.path());
    s.env
        .insert("PIDFILE".into(), pidfile.to_string_lossy().into_owned());
    let limits = Limits {
        init_timeout: Duration::from_secs(2),
        discover_timeout: Duration::from_secs(1),
        ..fast_limits()
    };
    let t = StdioTransport::spawn(&s, &limits).unwrap();
    // Synchronise on the grandchild being started (Python starts slowly on a busy machine)
    // before the 2 s answer timeout may run out and kill the group.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let pid: i32 = loop {
        let text = std::fs::read_to_string(&pidfile).unwrap_or_default();
        if let Ok(pid) = text.trim().parse() {
            break pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the grandchild never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(fetch_tools(Transport::Stdio(t), &limits).await.is_err());
    // The grandchild (a `sleep 300`) must be gone: reaped by init after the group kill
    // (waited for up to 60 s: reaping is slow on a busy machine, and 300 s would pass only if
    // the kill never came).
    let mut alive = true;
    for _ in 0..600 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            alive = false;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!alive, "grandchild {pid} survived");
}

// ---------------------------------------------------------------------------------------
// Interop: the pinned reference server over stdio, Streamable HTTP and SSE

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Bg(std::process::Child);
impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_everything(mode: &str) -> (Bg, u16) {
    let port = free_port();
    let child = Command::new(everything_bin())
        .arg(mode)
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let bg = Bg(child);
    // Up to 60 s: node starts slowly on a busy machine (the test is not about start-up time).
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (bg, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server-everything {mode} did not listen on {port}");
}

#[tokio::test]
async fn interop_server_everything_stdio_streamable_http_and_sse() {
    let limits = fast_limits();
    let dir = tempfile::tempdir().unwrap();
    let bin = everything_bin();
    let t = StdioTransport::spawn(
        &spec(&bin.to_string_lossy(), &["stdio"], dir.path()),
        &limits,
    )
    .unwrap();
    let stdio = fetch_tools(Transport::Stdio(t), &limits).await.unwrap();
    assert!(stdio.tools.len() >= 10, "{}", stdio.tools.len());
    assert!(stdio.tools.iter().any(|t| t.name == "echo"));
    assert_eq!(stdio.partial, None);

    let (_h, port) = start_everything("streamableHttp").await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let t = HttpTransport::new(&url, &limits, Politeness::default()).unwrap();
    let http = fetch_tools(Transport::Http(t), &limits).await.unwrap();
    assert_eq!(http.transport, "streamable-http");

    let (_s, port) = start_everything("sse").await;
    let url = format!("http://127.0.0.1:{port}/sse");
    let t = HttpTransport::new(&url, &limits, Politeness::default()).unwrap();
    let sse = fetch_tools(Transport::Http(t), &limits).await.unwrap();
    assert_eq!(sse.transport, "sse");

    let names = |f: &toolrisk::crawl::client::Fetched| {
        f.tools.iter().map(|t| t.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&stdio), names(&http));
    assert_eq!(names(&stdio), names(&sse));
    assert_eq!(
        toolrisk::model::tools_hash(&stdio.tools),
        toolrisk::model::tools_hash(&http.tools)
    );
}

// ---------------------------------------------------------------------------------------
// Interop: an rmcp (official Rust SDK) server over Streamable HTTP

mod rmcp_peer {
    use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
    use rmcp::model::{ServerCapabilities, ServerConfig};
    use rmcp::{schemars, tool, tool_handler, tool_router, ServerHandler};

    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    pub struct SumRequest {
        /// the left hand side number
        pub a: i32,
        pub b: i32,
    }

    #[derive(Debug, Clone)]
    pub struct Calculator {
        // Read by the code `#[tool_handler]` generates (or not, depending on the rmcp version).
        #[allow(dead_code)]
        tool_router: ToolRouter<Self>,
    }

    #[tool_router]
    impl Calculator {
        pub fn new() -> Self {
            Self {
                tool_router: Self::tool_router(),
            }
        }

        #[tool(description = "Calculate the sum of two numbers")]
        fn sum(&self, Parameters(SumRequest { a, b }): Parameters<SumRequest>) -> String {
            (a + b).to_string()
        }

        #[tool(description = "Delete every number")]
        fn clear(&self) -> String {
            "cleared".into()
        }
    }

    #[tool_handler]
    impl ServerHandler for Calculator {
        fn get_info(&self) -> ServerConfig {
            ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
        }
    }
}

#[tokio::test]
async fn interop_rmcp_streamable_http_server() {
    use rmcp::transport::streamable_http_server::{
        session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
    };
    let service = StreamableHttpService::new(
        || Ok(rmcp_peer::Calculator::new()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let router = Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let limits = fast_limits();
    let t = HttpTransport::new(
        &format!("http://{addr}/mcp"),
        &limits,
        Politeness::default(),
    )
    .unwrap();
    let f = fetch_tools(Transport::Http(t), &limits).await.unwrap();
    let mut names: Vec<&str> = f.tools.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["clear", "sum"]);
    let sum = f.tools.iter().find(|t| t.name == "sum").unwrap();
    assert_eq!(
        sum.input_schema.as_ref().unwrap()["properties"]["a"]["description"],
        "the left hand side number"
    );
}

// ---------------------------------------------------------------------------------------
// Hostile HTTP endpoints

/// A raw TCP server that answers every connection with the given bytes, then closes.
async fn raw_server(reply: Vec<u8>) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = l.accept().await {
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(&reply).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

async fn fetch_url(
    url: &str,
    limits: &Limits,
) -> Result<toolrisk::crawl::client::Fetched, toolrisk::crawl::client::FetchError> {
    let t = HttpTransport::new(url, limits, Politeness::default()).unwrap();
    fetch_tools(Transport::Http(t), limits).await
}

#[tokio::test]
async fn http_lying_content_length_is_an_error_not_a_hang() {
    let body = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}"#;
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len() + 500
    );
    let addr = raw_server(reply.into_bytes()).await;
    let limits = Limits {
        retries: 0,
        ..fast_limits()
    };
    let t0 = std::time::Instant::now();
    let err = fetch_url(&format!("http://{addr}/mcp"), &limits)
        .await
        .unwrap_err();
    assert!(err.message.contains("reading the body failed"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn http_redirect_to_another_host_is_refused_and_401_is_auth_required() {
    let port_holder: Arc<Mutex<u16>> = Arc::default();
    let ph = port_holder.clone();
    let app = Router::new()
        .route(
            "/mcp",
            post(move || {
                let port = *ph.lock().unwrap();
                async move {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [("location", format!("http://localhost:{port}/other"))],
                    )
                }
            }),
        )
        .route(
            "/private",
            post(|| async { (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer")]) }),
        )
        .route("/other", post(|| async { "must never be reached" }));
    let addr = serve_async(app).await;
    *port_holder.lock().unwrap() = addr.port();
    let limits = fast_limits();
    let err = fetch_url(&format!("http://{addr}/mcp"), &limits)
        .await
        .unwrap_err();
    assert!(err.message.contains("not followed"), "{err}");
    assert!(err.message.contains("localhost"), "{err}");
    let err = fetch_url(&format!("http://{addr}/private"), &limits)
        .await
        .unwrap_err();
    assert!(err.auth_required(), "{err}");
    assert_eq!(
        err.kind,
        toolrisk::crawl::transport::FetchErrorKind::AuthRequired
    );
}

/// A minimal Streamable HTTP server that rejects `server/discover` like a 2025 server
/// (400, a JSON-RPC error without id) and forgets the first session after `initialize`.
async fn forgetful_mcp_server() -> SocketAddr {
    let sessions: Arc<Mutex<u32>> = Arc::default();
    let app = Router::new().route(
        "/mcp",
        post(
            |State(n): State<Arc<Mutex<u32>>>, h: HeaderMap, body: String| async move {
                let msg: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                let id = msg["id"].clone();
                let sid = h.get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_string);
                match msg["method"].as_str().unwrap_or_default() {
                    "server/discover" => (
                        StatusCode::BAD_REQUEST,
                        json_response(json!({"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: Server not initialized"},"id":null}).to_string()),
                    )
                        .into_response(),
                    "initialize" => {
                        let s = {
                            let mut n = n.lock().unwrap();
                            *n += 1;
                            format!("s{n}")
                        };
                        let body = json!({"jsonrpc":"2.0","id":id,"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"forgetful","version":"1"}}});
                        ([("mcp-session-id", s), ("content-type", "application/json".into())], body.to_string()).into_response()
                    }
                    "tools/list" if sid.as_deref() == Some("s2") => json_response(
                        json!({"jsonrpc":"2.0","id":id,"result":{"tools":[{"name":"after_reinit","inputSchema":{"type":"object"}}]}}).to_string(),
                    ),
                    "tools/list" => StatusCode::NOT_FOUND.into_response(),
                    _ => StatusCode::ACCEPTED.into_response(),
                }
            },
        ),
    );
    serve_async(app.with_state(sessions)).await
}

#[tokio::test]
async fn http_expired_session_is_started_over_once() {
    let addr = forgetful_mcp_server().await;
    let (f, kind) = toolrisk::crawl::client::fetch_tools_http(
        &format!("http://{addr}/mcp"),
        &fast_limits(),
        &Politeness::default(),
    )
    .await
    .unwrap();
    assert_eq!(kind, "streamable-http");
    assert_eq!(f.tools[0].name, "after_reinit");
    assert_eq!(f.era, Era::Legacy);
}

#[tokio::test]
async fn http_oversized_body_is_refused() {
    let big = "x".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"pad":"{big}"}}}}"#);
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let addr = raw_server(reply.into_bytes()).await;
    let limits = Limits {
        max_message_bytes: 1024 * 1024,
        retries: 0,
        ..fast_limits()
    };
    let err = fetch_url(&format!("http://{addr}/mcp"), &limits)
        .await
        .unwrap_err();
    assert!(err.message.contains("byte limit"), "{err}");
}

async fn serve_async(app: Router) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    addr
}

/// Serves on a background thread with its own runtime, for tests that run the CLI.
fn serve_thread(app: Router) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            let _ = axum::serve(l, app).await;
        });
    });
    rx.recv().unwrap()
}

// ---------------------------------------------------------------------------------------
// The CLI: registries, sources, failures, resume, shards

fn toolrisk(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[derive(Clone, Default)]
struct Seen {
    queries: Arc<Mutex<Vec<String>>>,
    official_calls: Arc<Mutex<usize>>,
}

fn json_response(text: String) -> Response {
    ([("content-type", "application/json")], text).into_response()
}

fn registry_app(seen: Seen) -> Router {
    Router::new()
        .route(
            "/v0.1/servers",
            get(
                |State(seen): State<Seen>, Query(q): Query<HashMap<String, String>>| async move {
                    let mut keys: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    keys.sort();
                    seen.queries.lock().unwrap().push(keys.join("&"));
                    let n = {
                        let mut c = seen.official_calls.lock().unwrap();
                        *c += 1;
                        *c
                    };
                    if n == 1 {
                        // The first call is rate limited: the client must wait and retry.
                        return (
                            StatusCode::TOO_MANY_REQUESTS,
                            [("retry-after", "1")],
                            "slow down",
                        )
                            .into_response();
                    }
                    match q.get("cursor").map(String::as_str) {
                        None => json_response(fixture("official-page1.json")),
                        Some("io.github.domdomegg/airtable-mcp-server:1.7.2") => {
                            json_response(fixture("official-page2.json"))
                        }
                        Some(_) => StatusCode::BAD_REQUEST.into_response(),
                    }
                },
            ),
        )
        .route(
            "/v1/servers",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                match q.get("after") {
                    None => json_response(fixture("glama-page1.json")),
                    Some(_) => json_response(fixture("glama-page2.json")),
                }
            }),
        )
        .route(
            "/servers",
            get(|h: HeaderMap| async move {
                if h.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-key") {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                json_response(fixture("smithery-list.json"))
            }),
        )
        .route(
            "/servers/{name}",
            get(|h: HeaderMap, AxPath(name): AxPath<String>| async move {
                if h.get("authorization").is_none() {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                if name == "smithery/hello-world" {
                    json_response(fixture("smithery-detail.json"))
                } else {
                    StatusCode::NOT_FOUND.into_response()
                }
            }),
        )
        .route(
            "/v0beta/servers",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                match q.get("offset").map(String::as_str) {
                    Some("2") => json_response(fixture("pulsemcp-page2.json")),
                    _ => json_response(fixture("pulsemcp-page1.json")),
                }
            }),
        )
        .with_state(seen)
}

fn load(dir: &Path) -> toolrisk::catalogue::Loaded {
    let l = Catalogue::new(dir).load().unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    l
}

#[test]
fn registries_through_the_cli() {
    let seen = Seen::default();
    let addr = serve_thread(registry_app(seen.clone()));
    let base = format!("http://{addr}");
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().to_string_lossy().into_owned();

    // Official: 429 + Retry-After, cursor pagination, malformed and deleted entries.
    let (code, out, err) = toolrisk(&[
        "crawl",
        "--from",
        "official",
        "--base-url",
        &base,
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("official: 2 servers from 2 page(s), 1 deleted skipped"),
        "{err}"
    );
    assert!(
        err.contains("entry #2: no `server` object; skipped"),
        "{err}"
    );
    assert!(err.contains("entry #3: no `name`; skipped"), "{err}");
    assert!(
        err.contains("malformed tool") || err.contains("tool #2: tool has no `name`"),
        "{err}"
    );
    let l = load(dir.path());
    let weather = l
        .servers
        .iter()
        .find(|s| s.id == "io.github.user/remote-weather")
        .unwrap();
    assert_eq!(weather.tools.len(), 1);
    assert_eq!(weather.tools[0].name, "get_forecast");
    assert_eq!(weather.provenance[0].source, "official");
    assert!(weather.provenance[0].tools);
    assert_eq!(
        weather.crawl.status,
        CrawlStatus::Partial,
        "malformed tool noted"
    );
    let airtable = l
        .servers
        .iter()
        .find(|s| s.id == "io.github.domdomegg/airtable-mcp-server")
        .unwrap();
    assert_eq!(airtable.slug, "airtable-mcp-server");
    assert_eq!(airtable.packages[0].identifier, "airtable-mcp-server");
    assert!(airtable.tools.is_empty());
    {
        let q = seen.queries.lock().unwrap();
        assert!(q
            .iter()
            .all(|q| q.contains("version=latest") && q.contains("limit=100")));
        assert!(q.iter().all(|q| !q.contains("updated_since")), "{q:?}");
    }
    // Second run is incremental: updated_since = the start of the last complete run.
    let (code, _, err) = toolrisk(&[
        "crawl",
        "--from",
        "official",
        "--base-url",
        &base,
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("(updated since 20"), "{err}");
    assert!(seen
        .queries
        .lock()
        .unwrap()
        .last()
        .unwrap()
        .contains("updated_since=20"));

    // Glama: relay pagination, tools in the list, malformed tool and entry.
    let (code, _, err) = toolrisk(&[
        "crawl",
        "--from",
        "glama",
        "--base-url",
        &base,
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("glama: 3 servers from 2 page(s)"), "{err}");
    let l = load(dir.path());
    let obs = l
        .servers
        .iter()
        .find(|s| s.id == "glama:obsidian-tools/obsidian-mcp")
        .unwrap();
    assert_eq!(obs.tools.len(), 2);
    assert_eq!(obs.tools[1].description, None);

    // Smithery: refused without a key, detail with tools with one.
    let (code, _, err) = toolrisk(&[
        "crawl",
        "--from",
        "smithery",
        "--base-url",
        &base,
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("SMITHERY_API_KEY"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args([
            "crawl",
            "--from",
            "smithery",
            "--base-url",
            &base,
            "--catalogue",
            &cat,
        ])
        .env("SMITHERY_API_KEY", "test-key")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = load(dir.path());
    let hello = l
        .servers
        .iter()
        .find(|s| s.id == "smithery:smithery/hello-world")
        .unwrap();
    assert_eq!(hello.tools[0].name, "get_weather");
    assert!(hello.tools[0].output_schema.is_some());
    assert_eq!(
        hello.remotes[0].url,
        "https://server.smithery.ai/smithery/hello-world/mcp"
    );

    // PulseMCP: `next` links, no tools.
    let (code, _, err) = toolrisk(&[
        "crawl",
        "--from",
        "pulsemcp",
        "--base-url",
        &base,
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pulsemcp: 2 servers from 2 page(s)"), "{err}");
    let l = load(dir.path());
    assert!(l
        .servers
        .iter()
        .any(|s| s.id == "npm:@notionhq/notion-mcp-server"));

    // ToolHive (a file) and Docker (a checkout): tool definitions, arguments → JSON Schema.
    let th = root().join("tests/fixtures/crawl/registries/toolhive-upstream.json");
    let (code, _, err) = toolrisk(&[
        "crawl",
        "--from",
        "toolhive",
        "--base-url",
        &th.to_string_lossy(),
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no `name`; skipped"), "{err}");
    let dk = root().join("tests/fixtures/crawl/registries/docker");
    let (code, _, err) = toolrisk(&[
        "crawl",
        "--from",
        "docker",
        "--base-url",
        &dk.to_string_lossy(),
        "--catalogue",
        &cat,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("broken/server.yaml: line"), "{err}");
    let l = load(dir.path());
    let sqlite = l
        .servers
        .iter()
        .find(|s| s.id == "io.github.stacklok/sqlite-mcp")
        .unwrap();
    assert_eq!(sqlite.tools[1].title.as_deref(), Some("Write query"));
    let neo = l.servers.iter().find(|s| s.id == "docker:neo4j").unwrap();
    assert_eq!(
        neo.tools[1].input_schema.as_ref().unwrap()["required"],
        json!(["query"])
    );
    assert_eq!(neo.tools[0].hint("readOnlyHint"), Some(true));
}

fn write_sources(dir: &Path, file: &str, entries: &[(&str, &str)]) -> PathBuf {
    let mut y = String::from("servers:\n");
    for (id, mode) in entries {
        y.push_str(&format!(
            "  - id: {id}\n    command: \"python3 {} {mode}\"\n",
            hostile()
        ));
    }
    let p = dir.join(file);
    std::fs::write(&p, y).unwrap();
    p
}

#[test]
fn sources_failures_history_shards_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("cat");
    let cat_s = cat.to_string_lossy().into_owned();
    let fast = [
        "--init-timeout",
        "3",
        "--discover-timeout",
        "1",
        "--request-timeout",
        "2",
    ];
    let src = write_sources(
        dir.path(),
        "one.yaml",
        &[
            ("test:a", "paginate"),
            ("test:b", "modern"),
            ("test:c", "die"),
        ],
    );
    let mut args = vec![
        "crawl",
        "--sources",
        src.to_str().unwrap(),
        "--catalogue",
        &cat_s,
    ];
    // Without --launch a sources file is refused (it runs third-party code).
    let (code, _, err) = toolrisk(&args);
    assert_eq!(code, 2);
    assert!(err.contains("--launch"), "{err}");
    args.push("--launch");
    args.extend(fast);
    let (code, out, err) = toolrisk(&args);
    assert_eq!(code, 1, "one server failed: {out}{err}");
    assert!(out.contains("3 servers"), "{out}");
    assert!(out.contains("1 failed"), "{out}");
    let l = load(&cat);
    assert_eq!(l.servers.len(), 3, "the failed server is recorded too");
    let a = l.servers.iter().find(|s| s.id == "test:a").unwrap();
    assert_eq!(a.tools.len(), 4);
    let c = l.servers.iter().find(|s| s.id == "test:c").unwrap();
    assert_eq!(c.crawl.status, CrawlStatus::Failed);

    // A failed re-crawl keeps the good tools and records the error beside them.
    let src2 = write_sources(
        dir.path(),
        "two.yaml",
        &[("test:a", "die"), ("test:b", "modern")],
    );
    let mut args2 = vec![
        "crawl",
        "--sources",
        src2.to_str().unwrap(),
        "--catalogue",
        &cat_s,
        "--launch",
    ];
    args2.extend(fast);
    let (code, _, _) = toolrisk(&args2);
    assert_eq!(code, 1);
    let l = load(&cat);
    let a = l.servers.iter().find(|s| s.id == "test:a").unwrap();
    assert_eq!(a.tools.len(), 4);
    assert_eq!(a.crawl.status, CrawlStatus::Failed);
    assert!(a
        .crawl
        .last_error
        .as_deref()
        .unwrap()
        .contains("exit code 3"));
    let b = l.servers.iter().find(|s| s.id == "test:b").unwrap();
    assert!(
        b.history.is_empty(),
        "unchanged definitions leave no history"
    );

    // Shards: 1/2 and 2/2 together crawl each server exactly once.
    let shard_dir = dir.path().join("shards");
    let mut total = 0;
    for shard in ["1/2", "2/2"] {
        let c = shard_dir.join(shard.replace('/', "-"));
        let c = c.to_string_lossy().into_owned();
        let mut a = vec![
            "crawl",
            "--sources",
            src.to_str().unwrap(),
            "--catalogue",
            &c,
            "--launch",
            "--shard",
            shard,
        ];
        a.extend(fast);
        let (_, out, err) = toolrisk(&a);
        let l = Catalogue::new(&c).load().unwrap();
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        assert!(out.contains("servers"), "{err}");
        total += l.servers.len();
    }
    assert_eq!(total, 3);

    // Resume: an interrupted run's marker makes the rerun skip what it already did.
    std::fs::write(cat.join(".crawl-run"), "2000-01-01T00:00:00Z").unwrap();
    let mut args3 = args.clone();
    args3.push("--resume");
    let (_, out, _) = toolrisk(&args3);
    assert!(out.contains("3 skipped"), "{out}");
    assert!(
        !cat.join(".crawl-run").exists(),
        "marker removed after a complete run"
    );
}

#[test]
fn server_crashing_on_discover_is_restarted_without_the_probe() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("python3 {} crashondiscover", hostile());
    let (code, out, err) = toolrisk(&[
        "crawl",
        "--stdio",
        &cmd,
        "--id",
        "test:crash",
        "--catalogue",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let l = load(dir.path());
    assert_eq!(l.servers[0].tools.len(), 4);
    assert_eq!(l.servers[0].provenance[0].source, "stdio");
}

#[test]
fn kill_dash_nine_leaves_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("cat");
    let entries: Vec<(String, &str)> = (0..8).map(|i| (format!("test:k{i}"), "paginate")).collect();
    let refs: Vec<(&str, &str)> = entries.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    let src = write_sources(dir.path(), "kill.yaml", &refs);
    let mut child = Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args([
            "crawl",
            "--sources",
            src.to_str().unwrap(),
            "--launch",
            "-j",
            "1",
            "--catalogue",
        ])
        .arg(&cat)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as the first records are on disk.
    for _ in 0..200 {
        let n = std::fs::read_dir(cat.join("servers"))
            .map(|d| d.count())
            .unwrap_or(0);
        if n >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    // SAFETY: sends SIGKILL to the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let l = Catalogue::new(&cat).load().unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let before = l.servers.len();
    assert!(before < 8, "killed before the end");
    let (code, out, err) = toolrisk(&[
        "crawl",
        "--sources",
        src.to_str().unwrap(),
        "--launch",
        "--resume",
        "--catalogue",
        cat.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{before} skipped")), "{out}");
    assert_eq!(load(&cat).servers.len(), 8);
}
