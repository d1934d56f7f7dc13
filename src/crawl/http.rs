//! HTTP for the crawler: the MCP Streamable HTTP transport with fallback to the legacy
//! HTTP+SSE transport, an SSE parser with size caps, and the shared polite HTTP client
//! (timeouts, same-host redirects only, bounded bodies, retries that honour Retry-After).

use super::stdio::Incoming;
use super::transport::{FetchError, FetchErrorKind};
use super::Limits;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use url::Url;

/// Builds the HTTP client every crawler request uses: connect timeout, a descriptive
/// User-Agent, and redirects followed only within the same scheme, host and port.
pub fn client(limits: &Limits) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .connect_timeout(limits.connect_timeout)
        .user_agent(concat!(
            "toolrisk/",
            env!("CARGO_PKG_VERSION"),
            " (MCP tool catalogue crawler)"
        ))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            let same = attempt.previous().first().is_some_and(|first| {
                first.scheme() == attempt.url().scheme()
                    && first.host_str() == attempt.url().host_str()
                    && first.port_or_known_default() == attempt.url().port_or_known_default()
            });
            if attempt.previous().len() > 5 || !same {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(|e| FetchError::new(format!("cannot build the HTTP client: {e}")))
}

/// Spaces out requests to the same host (politeness), shared by all tasks of a crawl.
#[derive(Debug, Clone, Default)]
pub struct Politeness {
    gap: Duration,
    next: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Politeness {
    pub fn new(gap: Duration) -> Politeness {
        Politeness {
            gap,
            next: Arc::default(),
        }
    }

    /// Waits for this host's turn.
    pub async fn wait(&self, url: &Url) {
        if self.gap.is_zero() {
            return;
        }
        let host = url.host_str().unwrap_or_default().to_string();
        let at = {
            let Ok(mut m) = self.next.lock() else { return };
            let now = Instant::now();
            let at = m.get(&host).copied().unwrap_or(now).max(now);
            m.insert(host, at + self.gap);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// `status_error` for a response, with its `Location` header for redirects.
pub fn response_error(resp: &reqwest::Response, url: &Url) -> FetchError {
    let location = resp.headers().get("location").and_then(|v| v.to_str().ok());
    status_error(resp.status(), url, location)
}

/// Explains a non-success HTTP status for the report (401/403: auth required).
pub fn status_error(status: reqwest::StatusCode, url: &Url, location: Option<&str>) -> FetchError {
    let code = status.as_u16();
    match code {
        401 | 403 => FetchError::of(
            FetchErrorKind::AuthRequired,
            format!("auth required: {url} answered HTTP {code}"),
        ),
        300..=399 => FetchError::of(
            FetchErrorKind::Protocol,
            format!(
                "{url} redirects to {} (another host, or too many redirects): not followed",
                location.unwrap_or("?")
            ),
        ),
        406 | 415 => FetchError::of(FetchErrorKind::Protocol, format!(
            "{url} answered HTTP {code}: the server rejected our headers (a client bug; please report it)"
        )),
        413 => FetchError::of(FetchErrorKind::TooLarge, format!("{url} answered HTTP {code}")),
        _ => FetchError::of(FetchErrorKind::Protocol, format!("{url} answered HTTP {code}")),
    }
}

/// How long a 429/503 asks us to wait (`Retry-After` in seconds or as an HTTP date),
/// capped at a minute.
pub fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs.min(60)));
    }
    let when =
        time::OffsetDateTime::parse(v.trim(), &time::format_description::well_known::Rfc2822)
            .ok()?;
    let secs = (when - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .clamp(0, 60);
    Some(Duration::from_secs(secs as u64))
}

/// Sends a request built by `build`, retrying connection errors and 429/503 with
/// exponential backoff (honouring Retry-After), at most `limits.retries` times.
pub async fn send_with_retry<F>(
    build: F,
    limits: &Limits,
    polite: &Politeness,
    url: &Url,
) -> Result<reqwest::Response, FetchError>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    let mut attempt = 0u32;
    loop {
        polite.wait(url).await;
        let res = build().send().await;
        let wait = match &res {
            Ok(r) if matches!(r.status().as_u16(), 429 | 503) => {
                Some(retry_after(r).unwrap_or_else(|| backoff(attempt)))
            }
            Ok(_) => None,
            Err(e) if e.is_connect() || e.is_timeout() => Some(backoff(attempt)),
            Err(_) => None,
        };
        match (wait, attempt < limits.retries) {
            (Some(d), true) => {
                attempt += 1;
                tokio::time::sleep(d).await;
            }
            _ => {
                return res.map_err(|e| {
                    FetchError::of(reqwest_kind(&e), format!("{url}: {}", describe(&e)))
                });
            }
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(8)))
}

/// The kind of a reqwest error: a timeout, a connection that could not be made, or the
/// peer breaking HTTP.
pub fn reqwest_kind(e: &reqwest::Error) -> FetchErrorKind {
    if e.is_timeout() {
        FetchErrorKind::Timeout
    } else if e.is_connect() {
        FetchErrorKind::Refused
    } else {
        FetchErrorKind::Protocol
    }
}

/// A reqwest error in words, with its cause.
pub fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(&format!(": {c}"));
        src = c.source();
    }
    s
}

/// Reads a whole body, refusing more than `max` bytes (also when Content-Length says so).
pub async fn read_body(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, FetchError> {
    let url = resp.url().clone();
    if let Some(len) = resp.content_length() {
        if len as usize > max {
            return Err(FetchError::of(
                FetchErrorKind::TooLarge,
                format!("{url}: the body is {len} bytes, over the {max} byte limit"),
            ));
        }
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if body.len() + c.len() > max {
                    return Err(FetchError::of(
                        FetchErrorKind::TooLarge,
                        format!("{url}: the body is over the {max} byte limit"),
                    ));
                }
                body.extend_from_slice(&c);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(FetchError::of(
                    reqwest_kind(&e),
                    format!("{url}: reading the body failed: {}", describe(&e)),
                ))
            }
        }
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Incremental SSE parser (`event:`, `data:`, `id:`, `retry:`, comments, multi-line data,
/// `\n` / `\r\n` / `\r` line ends) with a cap on the size of one event.
pub struct SseDecoder {
    line: Vec<u8>,
    event: String,
    data: String,
    max: usize,
    last_cr: bool,
}

impl SseDecoder {
    pub fn new(max: usize) -> SseDecoder {
        SseDecoder {
            line: Vec::new(),
            event: String::new(),
            data: String::new(),
            max,
            last_cr: false,
        }
    }

    /// Feeds bytes; complete events are appended to `out`. Err ([`FetchErrorKind::TooLarge`])
    /// when an event is too big.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), FetchError> {
        for &b in bytes {
            if b == b'\n' && self.last_cr {
                self.last_cr = false;
                continue;
            }
            self.last_cr = b == b'\r';
            if b == b'\n' || b == b'\r' {
                let line = std::mem::take(&mut self.line);
                self.line_done(&line, out);
            } else {
                self.line.push(b);
            }
            if self.line.len() + self.data.len() > self.max {
                return Err(FetchError::of(
                    FetchErrorKind::TooLarge,
                    format!("an SSE event is over the {} byte limit", self.max),
                ));
            }
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        let line = String::from_utf8_lossy(line);
        if line.is_empty() {
            if !self.data.is_empty() {
                out.push(SseEvent {
                    event: if self.event.is_empty() {
                        "message".into()
                    } else {
                        std::mem::take(&mut self.event)
                    },
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(value);
            }
            _ => {}
        }
    }
}

fn parse_messages(data: &[u8], out: &mut Vec<Incoming>) -> usize {
    let mut n = 0;
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Object(o)) => {
            out.push(Incoming::Message(Value::Object(o)));
            n += 1;
        }
        Ok(Value::Array(items)) => {
            for i in items {
                if i.is_object() {
                    out.push(Incoming::Message(i));
                    n += 1;
                }
            }
        }
        _ => {}
    }
    n
}

/// Which HTTP transport the server speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Not known yet (nothing sent).
    Unknown,
    Streamable,
    /// Legacy HTTP+SSE: messages are POSTed here; answers arrive on the GET stream.
    Legacy(Url),
}

/// A connection to a remote MCP server.
pub struct HttpTransport {
    client: reqwest::Client,
    url: Url,
    mode: Mode,
    session_id: Option<String>,
    /// Negotiated protocol revision, sent as `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    tx: mpsc::Sender<Incoming>,
    rx: mpsc::Receiver<Incoming>,
    queue: VecDeque<Incoming>,
    limits: Limits,
    polite: Politeness,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Which transport answered, for provenance (`streamable-http` or `sse`).
    pub kind: &'static str,
}

impl HttpTransport {
    pub fn new(
        url: &str,
        limits: &Limits,
        polite: Politeness,
    ) -> Result<HttpTransport, FetchError> {
        let url = Url::parse(url).map_err(|e| FetchError::new(format!("bad URL `{url}`: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::new(format!(
                "{url}: only http and https are supported"
            )));
        }
        let (tx, rx) = mpsc::channel(256);
        Ok(HttpTransport {
            client: client(limits)?,
            url,
            mode: Mode::Unknown,
            session_id: None,
            protocol_version: None,
            tx,
            rx,
            queue: VecDeque::new(),
            limits: limits.clone(),
            polite,
            tasks: Vec::new(),
            kind: "streamable-http",
        })
    }

    /// Sends one message. Answers arrive through `recv`.
    pub async fn send(&mut self, msg: &Value) -> Result<(), FetchError> {
        if let Mode::Legacy(post) = &self.mode {
            let post = post.clone();
            return self.legacy_post(&post, msg).await;
        }
        let method = msg
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let id = msg.get("id").cloned();
        let timeout = if method == "initialize" || method == "server/discover" {
            self.limits.init_timeout
        } else {
            self.limits.request_timeout
        };
        let resp = {
            let client = &self.client;
            let url = &self.url;
            let sid = self.session_id.clone();
            let pv = self.protocol_version.clone();
            let body = msg.clone();
            let method = method.clone();
            send_with_retry(
                || {
                    let mut rb = client
                        .post(url.clone())
                        .timeout(timeout)
                        .header("content-type", "application/json")
                        .header("accept", "application/json, text/event-stream")
                        .json(&body);
                    if let Some(s) = &sid {
                        rb = rb.header("mcp-session-id", s);
                    }
                    if let Some(v) = &pv {
                        rb = rb.header("mcp-protocol-version", v);
                    }
                    if !method.is_empty() {
                        rb = rb.header("mcp-method", &method);
                    }
                    rb
                },
                &self.limits,
                &self.polite,
                &self.url,
            )
            .await
        };
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return Err(e),
        };
        let status = resp.status();
        if let Some(sid) = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.bytes().all(|b| (0x21..=0x7e).contains(&b)))
        {
            self.session_id = Some(sid.to_string());
        }
        if status.is_success() {
            if self.mode == Mode::Unknown {
                self.mode = Mode::Streamable;
            }
            if status.as_u16() == 202 || id.is_none() {
                return Ok(());
            }
            self.spawn_body_reader(resp);
            return Ok(());
        }
        let code = status.as_u16();
        if code == 404 && self.session_id.is_some() && self.mode == Mode::Streamable {
            return Err(FetchError {
                session_expired: true,
                ..FetchError::of(
                    FetchErrorKind::Protocol,
                    format!(
                        "{} answered HTTP 404 to `{method}`: the session expired",
                        self.url
                    ),
                )
            });
        }
        if matches!(code, 401 | 403) || status.is_redirection() {
            return Err(response_error(&resp, &self.url));
        }
        // A legacy HTTP+SSE server rejects the POST of `initialize`: try its GET stream.
        if self.mode == Mode::Unknown
            && method == "initialize"
            && matches!(code, 400 | 404 | 405)
            && self.try_legacy().await?
        {
            if let Mode::Legacy(post) = &self.mode {
                let post = post.clone();
                return self.legacy_post(&post, msg).await;
            }
        }
        // Other errors: the body may be a JSON-RPC error; if not, make one so the session
        // moves on (for example from `server/discover` to `initialize`).
        let body = read_body(resp, self.limits.max_message_bytes)
            .await
            .unwrap_or_default();
        let mut out = Vec::new();
        parse_messages(&body, &mut out);
        let has_answer = out.iter().any(
            |m| matches!(m, Incoming::Message(v) if v.get("id").is_some_and(|i| !i.is_null())),
        );
        if !has_answer {
            if let Some(id) = id {
                let text = String::from_utf8_lossy(&body);
                out.push(Incoming::Message(serde_json::json!({
                    "jsonrpc": "2.0", "id": id,
                    "error": {"code": -32600, "message": format!("HTTP {code}: {}", super::truncate_str(text.trim(), 200))}
                })));
            }
        } else if let Some(id) = id {
            // An error without our id (as the spec allows for HTTP errors): give it ours.
            for m in out.iter_mut() {
                if let Incoming::Message(v) = m {
                    if v.get("id").is_none_or(Value::is_null) {
                        v["id"] = id.clone();
                    }
                }
            }
        }
        self.queue.extend(out);
        Ok(())
    }

    fn spawn_body_reader(&mut self, resp: reqwest::Response) {
        let tx = self.tx.clone();
        let max = self.limits.max_message_bytes;
        let is_sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/event-stream"));
        let url = self.url.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut answered = 0usize;
            let mut events = Vec::new();
            if is_sse {
                let mut resp = resp;
                let mut dec = SseDecoder::new(max);
                loop {
                    match resp.chunk().await {
                        Ok(Some(c)) => {
                            let mut evs = Vec::new();
                            if let Err(e) = dec.feed(&c, &mut evs) {
                                let e = FetchError::of(e.kind, format!("{url}: {e}"));
                                let _ = tx.send(Incoming::Fatal(e)).await;
                                return;
                            }
                            for ev in evs {
                                if ev.event == "message" {
                                    answered += parse_messages(ev.data.as_bytes(), &mut events);
                                }
                            }
                            for m in events.drain(..) {
                                if tx.send(m).await.is_err() {
                                    return;
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            let _ = tx
                                .send(Incoming::Fatal(FetchError::of(
                                    reqwest_kind(&e),
                                    format!("{url}: the response stream broke: {}", describe(&e)),
                                )))
                                .await;
                            return;
                        }
                    }
                }
            } else {
                match read_body(resp, max).await {
                    Ok(body) => answered += parse_messages(&body, &mut events),
                    Err(e) => {
                        let _ = tx.send(Incoming::Fatal(e)).await;
                        return;
                    }
                }
                for m in events.drain(..) {
                    if tx.send(m).await.is_err() {
                        return;
                    }
                }
            }
            if answered == 0 {
                let _ = tx
                    .send(Incoming::Fatal(FetchError::of(
                        FetchErrorKind::Protocol,
                        format!("{url}: the response ended without a JSON-RPC message"),
                    )))
                    .await;
            }
        }));
    }

    /// Opens the legacy SSE stream on the same URL and waits for its `endpoint` event.
    async fn try_legacy(&mut self) -> Result<bool, FetchError> {
        let resp = send_with_retry(
            || {
                self.client
                    .get(self.url.clone())
                    .header("accept", "text/event-stream")
            },
            &self.limits,
            &self.polite,
            &self.url,
        )
        .await?;
        if !resp.status().is_success() {
            return Ok(false);
        }
        let (etx, erx) = tokio::sync::oneshot::channel::<Result<Url, FetchError>>();
        let tx = self.tx.clone();
        let max = self.limits.max_message_bytes;
        let base = self.url.clone();
        self.tasks.push(tokio::spawn(async move {
            let mut resp = resp;
            let mut dec = SseDecoder::new(max);
            let mut etx = Some(etx);
            loop {
                let chunk = match resp.chunk().await {
                    Ok(Some(c)) => c,
                    Ok(None) => {
                        let _ = tx.send(Incoming::Eof).await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx
                            .send(Incoming::Fatal(FetchError::of(
                                reqwest_kind(&e),
                                format!("{base}: the SSE stream broke: {}", describe(&e)),
                            )))
                            .await;
                        return;
                    }
                };
                let mut evs = Vec::new();
                if let Err(e) = dec.feed(&chunk, &mut evs) {
                    let e = FetchError::of(e.kind, format!("{base}: {e}"));
                    let _ = tx.send(Incoming::Fatal(e)).await;
                    return;
                }
                for ev in evs {
                    if ev.event == "endpoint" {
                        let r = base
                            .join(ev.data.trim())
                            .map_err(|e| {
                                FetchError::of(
                                    FetchErrorKind::Protocol,
                                    format!("bad endpoint `{}`: {e}", ev.data),
                                )
                            })
                            .and_then(|u| {
                                if u.host_str() == base.host_str()
                                    && u.port_or_known_default() == base.port_or_known_default()
                                {
                                    Ok(u)
                                } else {
                                    Err(FetchError::of(
                                        FetchErrorKind::Protocol,
                                        format!("the SSE endpoint {u} is on another host; refused"),
                                    ))
                                }
                            });
                        if let Some(s) = etx.take() {
                            let _ = s.send(r);
                        }
                    } else if ev.event == "message" {
                        let mut out = Vec::new();
                        parse_messages(ev.data.as_bytes(), &mut out);
                        for m in out {
                            if tx.send(m).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        }));
        match tokio::time::timeout(self.limits.request_timeout, erx).await {
            Ok(Ok(Ok(post))) => {
                self.mode = Mode::Legacy(post);
                self.kind = "sse";
                Ok(true)
            }
            Ok(Ok(Err(e))) => Err(FetchError::of(e.kind, format!("{}: {e}", self.url))),
            _ => Ok(false),
        }
    }

    async fn legacy_post(&mut self, post: &Url, msg: &Value) -> Result<(), FetchError> {
        let body = msg.clone();
        let resp = send_with_retry(
            || {
                self.client
                    .post(post.clone())
                    .timeout(self.limits.request_timeout)
                    .json(&body)
            },
            &self.limits,
            &self.polite,
            post,
        )
        .await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(response_error(&resp, post));
        }
        Ok(())
    }

    /// Next message from any response stream.
    pub async fn recv(&mut self) -> Incoming {
        if let Some(m) = self.queue.pop_front() {
            return m;
        }
        self.rx.recv().await.unwrap_or(Incoming::Eof)
    }

    pub fn eof_detail(&self) -> String {
        format!("{} closed the stream", self.url)
    }

    /// Deletes the session (if any) and stops the readers.
    pub async fn close(self) {
        if let (Some(sid), Mode::Streamable) = (&self.session_id, &self.mode) {
            let _ = self
                .client
                .delete(self.url.clone())
                .timeout(Duration::from_secs(5))
                .header("mcp-session-id", sid)
                .send()
                .await;
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for HttpTransport {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_parsing_follows_the_spec() {
        let mut d = SseDecoder::new(1024);
        let mut out = Vec::new();
        d.feed(
            b": comment\r\nid: 1\r\ndata:\r\n\r\nevent: endpoint\ndata: /m?s=1\n\n",
            &mut out,
        )
        .unwrap();
        d.feed(b"data: {\"a\":\ndata: 1}\r\r", &mut out).unwrap();
        assert_eq!(
            out,
            vec![
                SseEvent {
                    event: "endpoint".into(),
                    data: "/m?s=1".into()
                },
                SseEvent {
                    event: "message".into(),
                    data: "{\"a\":\n1}".into()
                }
            ]
        );
        let mut small = SseDecoder::new(8);
        assert!(small.feed(b"data: 0123456789\n\n", &mut out).is_err());
    }
}
