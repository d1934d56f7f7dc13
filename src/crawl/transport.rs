//! The crawler's transport types, shared by the MCP client (client.rs) and the HTTP
//! transport (http.rs) so that neither imports the other: the connection to one server
//! ([`Transport`]) and why a fetch failed ([`FetchError`], with a [`FetchErrorKind`] callers
//! branch on).

use super::http::HttpTransport;
use super::stdio::{Incoming, StdioTransport};
use serde_json::Value;

/// A connection to one server.
// One per server being fetched, never stored in bulk: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Transport {
    Stdio(StdioTransport),
    Http(HttpTransport),
}

impl Transport {
    pub(crate) async fn send(&mut self, msg: &Value) -> Result<(), FetchError> {
        match self {
            Transport::Stdio(t) => t.send(msg).await,
            Transport::Http(t) => t.send(msg).await,
        }
    }

    pub(crate) async fn recv(&mut self) -> Incoming {
        match self {
            Transport::Stdio(t) => t.recv().await,
            Transport::Http(t) => t.recv().await,
        }
    }

    /// Why the stream ended before answering `method`, with whatever the server left behind
    /// (exit code, stderr tail, the first non-JSON lines it printed on stdout).
    pub(crate) async fn eof_detail(&mut self, method: &str) -> String {
        match self {
            Transport::Stdio(t) => {
                let status = t.exit_status().await;
                let tail = t.stderr_tail();
                let stats = t.read_stats();
                let mut s = String::from("the server closed its stdout");
                if let Some(st) = status {
                    s.push_str(&format!(" ({st})"));
                }
                s.push_str(&format!(" before answering `{method}`"));
                if !tail.is_empty() {
                    s.push_str(&format!("; stderr ends: {}", last_lines(&tail, 6)));
                }
                if !stats.junk_samples.is_empty() {
                    s.push_str(&format!(
                        "; it printed on stdout: {}",
                        stats.junk_samples.join(" | ")
                    ));
                }
                s
            }
            Transport::Http(t) => format!("{} before answering `{method}`", t.eof_detail()),
        }
    }

    pub(crate) fn junk_lines(&self) -> usize {
        match self {
            Transport::Stdio(t) => t.read_stats().junk_lines,
            Transport::Http(_) => 0,
        }
    }

    pub(crate) fn set_protocol_version(&mut self, v: &str) {
        if let Transport::Http(t) = self {
            t.protocol_version = Some(v.to_string());
        }
    }

    /// Ends the connection: kills the process group / deletes the HTTP session.
    pub async fn close(self) {
        match self {
            Transport::Stdio(t) => t.close().await,
            Transport::Http(t) => t.close().await,
        }
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join(" | ")
}

/// What kind of failure a fetch error is: callers branch on this (an auth-required server is
/// reported as such, a timeout may be retried later, a protocol error is the server's fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchErrorKind {
    /// A deadline passed (first answer, one request, the whole server).
    Timeout,
    /// The connection was refused or could not be made (no listener, DNS, TLS).
    Refused,
    /// The server wants credentials (HTTP 401/403).
    AuthRequired,
    /// A message, body or total was over its limit.
    TooLarge,
    /// The server broke the protocol (bad JSON-RPC, wrong content type, a failed handshake,
    /// an error answer, a redirect elsewhere, the stream closing early).
    Protocol,
    /// The server could not be started (spawn, scratch folder, files).
    Launch,
    /// Anything else.
    Other,
}

impl FetchErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FetchErrorKind::Timeout => "timeout",
            FetchErrorKind::Refused => "refused",
            FetchErrorKind::AuthRequired => "auth_required",
            FetchErrorKind::TooLarge => "too_large",
            FetchErrorKind::Protocol => "protocol",
            FetchErrorKind::Launch => "launch",
            FetchErrorKind::Other => "other",
        }
    }
}

impl std::fmt::Display for FetchErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub kind: FetchErrorKind,
    pub message: String,
    /// The server went away after an unanswered `server/discover` probe: some legacy servers
    /// crash on it, so a retry without the probe may work.
    pub retry_without_discover: bool,
    /// The HTTP server forgot our session (404): start over once with a new one.
    pub session_expired: bool,
}

impl FetchError {
    /// An error of kind `Other`.
    pub fn new(message: impl Into<String>) -> FetchError {
        FetchError::of(FetchErrorKind::Other, message)
    }

    pub fn of(kind: FetchErrorKind, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            message: message.into(),
            retry_without_discover: false,
            session_expired: false,
        }
    }

    /// The server wants credentials.
    pub fn auth_required(&self) -> bool {
        self.kind == FetchErrorKind::AuthRequired
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FetchError {}
