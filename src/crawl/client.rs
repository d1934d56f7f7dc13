//! The MCP client of the crawler: JSON-RPC 2.0 over any transport, the dual-era handshake
//! (`server/discover` for the 2026-07-28 revision, `initialize` for older ones) and a guarded
//! `tools/list` walk (deadlines, page / tool caps, repeated-cursor stop, malformed tools
//! reported while the rest are kept).

use super::http::HttpTransport;
use super::stdio::Incoming;
pub use super::transport::{FetchError, FetchErrorKind, Transport};
use super::{Limits, LEGACY_VERSION, MODERN_VERSION};
use crate::model::Tool;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use tokio::time::Instant;

/// A JSON-RPC error object.
#[derive(Debug, Clone)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn from_value(v: &Value) -> RpcError {
        RpcError {
            code: v.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .map(|s| super::truncate_str(s, 500).to_string())
                .unwrap_or_else(|| "(no message)".into()),
            data: v.get("data").cloned(),
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}

/// Which protocol era answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2026-07-28, stateless, via `server/discover`.
    Modern,
    /// 2024-11-05 … 2025-11-25, via `initialize`.
    Legacy,
}

/// What one server gave us.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub era: Era,
    pub protocol_version: Option<String>,
    /// `serverInfo` as sent.
    pub server_info: Option<Value>,
    pub tools: Vec<Tool>,
    /// Why the list is incomplete (a limit, an error after some pages, malformed tools).
    pub partial: Option<String>,
    /// Non-JSON lines skipped on stdout.
    pub junk_lines: usize,
    /// `stdio`, `streamable-http` or `sse`: which transport answered.
    pub transport: &'static str,
}

/// One MCP session over a transport.
pub struct Session<'a> {
    t: &'a mut Transport,
    next_id: i64,
    limits: &'a Limits,
    /// Answers that came after we stopped waiting for them (a slow `server/discover`).
    late: std::collections::HashMap<i64, Result<Value, RpcError>>,
}

type RpcResult = Result<Result<Value, RpcError>, FetchError>;

impl<'a> Session<'a> {
    pub fn new(t: &'a mut Transport, limits: &'a Limits) -> Session<'a> {
        Session {
            t,
            next_id: 1,
            limits,
            late: Default::default(),
        }
    }

    async fn notify(&mut self, method: &str, params: Value) -> Result<(), FetchError> {
        self.t
            .send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await
    }

    fn send_request_value(&mut self, method: &str, params: Value) -> (i64, Value) {
        let id = self.next_id;
        self.next_id += 1;
        (
            id,
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
    }

    /// Sends a request and waits for its answer until `timeout`, answering the server's own
    /// requests (`ping`, `roots/list`) and skipping notifications meanwhile.
    async fn request(&mut self, method: &str, params: Value, timeout: Duration) -> RpcResult {
        let (id, msg) = self.send_request_value(method, params);
        self.t.send(&msg).await?;
        self.wait_for(id, method, Instant::now() + timeout).await
    }

    async fn wait_for(&mut self, id: i64, method: &str, deadline: Instant) -> RpcResult {
        loop {
            let ev = match tokio::time::timeout_at(deadline, self.t.recv()).await {
                Ok(ev) => ev,
                Err(_) => {
                    let _ = self
                        .notify(
                            "notifications/cancelled",
                            json!({"requestId": id, "reason": "timeout"}),
                        )
                        .await;
                    return Err(FetchError::of(
                        FetchErrorKind::Timeout,
                        format!(
                        "no answer to `{method}` in time (raise the timeout if the server is just slow)"
                    ),
                    ));
                }
            };
            match ev {
                Incoming::Eof => {
                    return Err(FetchError::of(
                        FetchErrorKind::Protocol,
                        self.t.eof_detail(method).await,
                    ));
                }
                Incoming::Fatal(e) => return Err(e),
                Incoming::Message(m) => {
                    if let Some(req_method) = m.get("method").and_then(Value::as_str) {
                        if let Some(req_id) = m.get("id").filter(|v| !v.is_null()) {
                            let reply = answer_server_request(req_method, req_id);
                            self.t.send(&reply).await?;
                        }
                        continue;
                    }
                    let answer = match m.get("error").filter(|e| !e.is_null()) {
                        Some(err) => Err(RpcError::from_value(err)),
                        None => Ok(m.get("result").cloned().unwrap_or(Value::Null)),
                    };
                    if id_matches(m.get("id"), id) {
                        return Ok(answer);
                    }
                    // An answer to an earlier request we gave up on: kept, it may still tell
                    // us something (a slow `server/discover`).
                    if let Some(other) = m.get("id").and_then(Value::as_i64) {
                        if other < id && self.late.len() < 16 {
                            self.late.insert(other, answer);
                        }
                    }
                }
            }
        }
    }

    /// Dual-era handshake. Returns the era and the negotiated version and server info.
    async fn handshake(&mut self) -> Result<(Era, String, Option<Value>), FetchError> {
        let start = Instant::now();
        let init_deadline = start + self.limits.init_timeout;
        let probe = self.limits.discover_timeout.min(self.limits.init_timeout);
        if !self.limits.probe_discover {
            return self.initialize(init_deadline).await;
        }
        let (discover_id, msg) =
            self.send_request_value("server/discover", json!({"_meta": modern_meta()}));
        self.t.send(&msg).await?;
        let mut unanswered = false;
        match self
            .wait_for(discover_id, "server/discover", Instant::now() + probe)
            .await
        {
            Ok(Ok(result)) => {
                if let Some(found) = modern_from_discover(&result) {
                    return Ok(found);
                }
            }
            // Any error, or silence, means a legacy server: fall back to `initialize`. The
            // code is not checked on purpose (-32601 and -32602 are both seen in the wild).
            Ok(Err(_)) => {}
            Err(e) if e.message.starts_with("no answer") => unanswered = true,
            Err(mut e) => {
                e.retry_without_discover = true;
                return Err(e);
            }
        }
        match self.initialize(init_deadline).await {
            Ok(found) => Ok(found),
            Err(e) => {
                // A slow modern server may have answered discover meanwhile and then refused
                // `initialize` (seen: "duplicate initialize"): use the modern answer.
                match self.late.get(&discover_id) {
                    Some(Ok(result)) => {
                        if let Some(found) = modern_from_discover(result) {
                            return Ok(found);
                        }
                        Err(e)
                    }
                    Some(Err(_)) => Err(e),
                    None => Err(FetchError {
                        retry_without_discover: unanswered,
                        ..e
                    }),
                }
            }
        }
    }

    async fn initialize(
        &mut self,
        deadline: Instant,
    ) -> Result<(Era, String, Option<Value>), FetchError> {
        let mut version = LEGACY_VERSION.to_string();
        for attempt in 0..2 {
            let params = json!({"protocolVersion": version, "capabilities": {}, "clientInfo": super::client_info()});
            let (id, msg) = self.send_request_value("initialize", params);
            self.t.send(&msg).await?;
            let deadline = deadline.max(Instant::now() + self.limits.request_timeout);
            match self.wait_for(id, "initialize", deadline).await? {
                Ok(result) => {
                    let negotiated = result
                        .get("protocolVersion")
                        .and_then(Value::as_str)
                        .unwrap_or(&version)
                        .to_string();
                    self.t.set_protocol_version(&negotiated);
                    self.notify("notifications/initialized", json!({})).await?;
                    return Ok((Era::Legacy, negotiated, result.get("serverInfo").cloned()));
                }
                Err(e) => {
                    // A server that names the versions it supports gets a second try.
                    let supported = e
                        .data
                        .as_ref()
                        .and_then(|d| d.get("supported"))
                        .and_then(Value::as_array)
                        .and_then(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .find(|v| KNOWN_LEGACY.contains(v))
                                .map(str::to_string)
                        });
                    match supported {
                        Some(v) if attempt == 0 && v != version => version = v,
                        _ => {
                            return Err(FetchError::of(
                                FetchErrorKind::Protocol,
                                format!("`initialize` failed: {e}"),
                            ));
                        }
                    }
                }
            }
        }
        Err(FetchError::of(
            FetchErrorKind::Protocol,
            "`initialize` failed",
        ))
    }

    /// Walks `tools/list` to the end or to a limit.
    async fn list_tools(&mut self, era: Era) -> Result<(Vec<Tool>, Option<String>), FetchError> {
        let mut tools = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut page = 0usize;
        loop {
            page += 1;
            if page > self.limits.max_pages {
                problems.push(format!(
                    "stopped after {} pages of tools/list",
                    self.limits.max_pages
                ));
                break;
            }
            let mut params = serde_json::Map::new();
            if let Some(c) = &cursor {
                params.insert("cursor".into(), Value::String(c.clone()));
            }
            if era == Era::Modern {
                params.insert("_meta".into(), modern_meta());
            }
            let res = self
                .request(
                    "tools/list",
                    Value::Object(params),
                    self.limits.request_timeout,
                )
                .await;
            let result = match res {
                Ok(Ok(r)) => r,
                Ok(Err(e)) if page == 1 => {
                    return Err(FetchError::of(
                        FetchErrorKind::Protocol,
                        format!("`tools/list` failed: {e}"),
                    ))
                }
                Err(e) if page == 1 => return Err(e),
                Ok(Err(e)) => {
                    problems.push(format!("`tools/list` page {page} failed: {e}"));
                    break;
                }
                Err(e) => {
                    problems.push(format!("`tools/list` page {page}: {e}"));
                    break;
                }
            };
            let Some(list) = result.get("tools").and_then(Value::as_array) else {
                let msg = format!("`tools/list` page {page} has no `tools` array");
                if page == 1 {
                    return Err(FetchError::of(FetchErrorKind::Protocol, msg));
                }
                problems.push(msg);
                break;
            };
            let mut full = false;
            for (i, raw) in list.iter().enumerate() {
                if tools.len() >= self.limits.max_tools {
                    problems.push(format!(
                        "more than {} tools; the rest were dropped (raise --max-tools)",
                        self.limits.max_tools
                    ));
                    full = true;
                    break;
                }
                match Tool::from_json(raw) {
                    Ok(t) => tools.push(normalize_tool(t, self.limits)),
                    Err(e) => {
                        problems.push(format!("malformed tool #{} on page {page}: {e}", i + 1))
                    }
                }
            }
            if full {
                break;
            }
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(c) if !c.is_empty() => {
                    if !seen.insert(c.to_string()) {
                        problems.push(format!(
                            "the server repeated the cursor {:?}; stopped",
                            super::truncate_str(c, 80)
                        ));
                        break;
                    }
                    cursor = Some(c.to_string());
                }
                _ => break,
            }
        }
        let partial = if problems.is_empty() {
            None
        } else {
            Some(problems.join("; "))
        };
        Ok((tools, partial))
    }
}

/// The era, version and server info of a `server/discover` result that offers our modern
/// revision.
fn modern_from_discover(result: &Value) -> Option<(Era, String, Option<Value>)> {
    let supported = result
        .get("supportedVersions")
        .and_then(Value::as_array)?
        .iter()
        .any(|v| v.as_str() == Some(MODERN_VERSION));
    if !supported {
        return None;
    }
    let info = result
        .get("serverInfo")
        .cloned()
        .or_else(|| meta_server_info(result));
    Some((Era::Modern, MODERN_VERSION.to_string(), info))
}

const KNOWN_LEGACY: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": super::client_info(),
    })
}

fn meta_server_info(result: &Value) -> Option<Value> {
    result
        .get("_meta")?
        .get("io.modelcontextprotocol/serverInfo")
        .cloned()
}

fn id_matches(got: Option<&Value>, want: i64) -> bool {
    match got {
        Some(Value::Number(n)) => n.as_i64() == Some(want) || n.as_f64() == Some(want as f64),
        // Lenient: some servers echo numeric ids as strings.
        Some(Value::String(s)) => s == &want.to_string(),
        _ => false,
    }
}

/// The reply to a request the server sent us: a crawler declares no capabilities, so only
/// `ping` and `roots/list` get a result and everything else -32601.
fn answer_server_request(method: &str, id: &Value) -> Value {
    match method {
        "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
        "roots/list" => json!({"jsonrpc": "2.0", "id": id, "result": {"roots": []}}),
        _ => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not supported by a crawler"}})
        }
    }
}

/// Applies the storage limits to one tool: an over-long description is truncated and its
/// original length kept, so the classifier can flag it.
pub fn normalize_tool(mut t: Tool, limits: &Limits) -> Tool {
    if let Some(d) = &t.description {
        if d.len() > limits.max_description_bytes {
            let len = d.len() as u64;
            t.description = Some(super::truncate_str(d, limits.max_description_bytes).to_string());
            t.description_truncated_from = Some(len);
        }
    }
    t
}

/// Runs the handshake and the tools/list walk, under the per-server budget. The transport is
/// closed in every case.
pub async fn fetch_tools(mut t: Transport, limits: &Limits) -> Result<Fetched, FetchError> {
    let budget = limits.server_timeout;
    let result = tokio::time::timeout(budget, async {
        let mut s = Session::new(&mut t, limits);
        let (mut era, mut version, mut info) = s.handshake().await?;
        let listed = match s.list_tools(era).await {
            Err(e) if era == Era::Modern => {
                // A server that answered discover but fails stateless tools/list: the legacy
                // path still works for every dual-era server seen so far.
                let deadline = Instant::now() + limits.init_timeout;
                let (e2, v2, i2) = s.initialize(deadline).await.map_err(|e2| {
                    FetchError::of(e2.kind, format!("{e}; then `initialize` failed too: {e2}"))
                })?;
                era = e2;
                version = v2;
                info = i2.or(info);
                s.list_tools(era).await?
            }
            other => other?,
        };
        Ok::<_, FetchError>((era, version, info, listed))
    })
    .await;
    let junk = t.junk_lines();
    let transport = match &t {
        Transport::Stdio(_) => "stdio",
        Transport::Http(h) => h.kind,
    };
    t.close().await;
    let (era, version, info, (tools, partial)) = match result {
        Ok(r) => r?,
        Err(_) => {
            return Err(FetchError::of(
                FetchErrorKind::Timeout,
                format!(
                    "the server used up its {} s budget (raise --server-timeout)",
                    budget.as_secs()
                ),
            ))
        }
    };
    Ok(Fetched {
        era,
        protocol_version: Some(version),
        server_info: info,
        tools,
        partial,
        junk_lines: junk,
        transport,
    })
}

/// `fetch_tools` over HTTP, also saying which HTTP transport answered. A session the server
/// forgets (404) is started over once, as the spec asks.
pub async fn fetch_tools_http(
    url: &str,
    limits: &Limits,
    polite: &super::http::Politeness,
) -> Result<(Fetched, &'static str), FetchError> {
    let mut attempt = 0;
    loop {
        let t = HttpTransport::new(url, limits, polite.clone())?;
        match fetch_tools(Transport::Http(t), limits).await {
            Ok(f) => {
                let kind = f.transport;
                return Ok((f, kind));
            }
            Err(e) if e.session_expired && attempt == 0 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}
