//! The crawler: fetches tool definitions from registries and from live MCP servers (stdio,
//! Streamable HTTP, legacy HTTP+SSE) and merges them into catalogue records without ever
//! losing a good record.
//!
//! Why not the official Rust SDK as the client: a catalogue must keep raw tool JSON verbatim,
//! keep the good tools when one is malformed, survive oversized lines, junk on stdout, replies
//! without `"jsonrpc"`, repeated cursors and servers that never answer. So the client here is a
//! small JSON-RPC 2.0 implementation that is strict where it matters (ids, limits, deadlines)
//! and lenient where real servers are sloppy.

pub mod client;
pub mod http;
pub mod install;
pub mod merge;
pub mod registries;
pub mod run;
pub mod sandbox;
pub mod scheduler;
pub mod sources;
pub mod stdio;
pub mod targets;
pub mod transport;

use std::time::Duration;

/// Limits that keep a hostile or broken server from hurting the crawl (DESIGN §7).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest single message (stdio line, HTTP body, SSE event), in bytes.
    pub max_message_bytes: usize,
    /// Largest total of bytes read from one server.
    pub max_total_bytes: usize,
    /// Most tools kept per server; more are dropped and the crawl is marked partial.
    pub max_tools: usize,
    /// Most `tools/list` pages followed.
    pub max_pages: usize,
    /// Longest description stored, in bytes; longer ones are truncated and flagged.
    pub max_description_bytes: usize,
    /// Non-JSON lines tolerated on stdout before giving up.
    pub max_junk_lines: usize,
    /// Bytes of stderr kept for the error report.
    pub stderr_tail_bytes: usize,
    /// Deadline of the first answer (`initialize` / `server/discover`) on a cold start.
    pub init_timeout: Duration,
    /// How long to wait for a `server/discover` answer before also trying `initialize`.
    pub discover_timeout: Duration,
    /// Deadline of every later request (one `tools/list` page).
    pub request_timeout: Duration,
    /// Budget for one server, all requests included.
    pub server_timeout: Duration,
    /// TCP connect timeout for HTTP.
    pub connect_timeout: Duration,
    /// Probe with `server/discover` before `initialize` (the 2026-07-28 revision).
    pub probe_discover: bool,
    /// Retries of a registry or HTTP request on 429/503/connection errors.
    pub retries: u32,
    /// Least time between two HTTP requests to the same host (politeness).
    pub polite_gap: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024 * 1024,
            max_total_bytes: 64 * 1024 * 1024,
            max_tools: 10_000,
            max_pages: 1_000,
            max_description_bytes: 64 * 1024,
            max_junk_lines: 1_000,
            stderr_tail_bytes: 4 * 1024,
            init_timeout: Duration::from_secs(90),
            discover_timeout: Duration::from_secs(20),
            request_timeout: Duration::from_secs(30),
            server_timeout: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            probe_discover: true,
            polite_gap: Duration::from_millis(250),
        }
    }
}

/// The newest legacy revision we offer in `initialize`.
pub const LEGACY_VERSION: &str = "2025-11-25";
/// The stateless revision probed with `server/discover`.
pub const MODERN_VERSION: &str = "2026-07-28";
/// Our `clientInfo`.
pub fn client_info() -> serde_json::Value {
    serde_json::json!({"name": "toolrisk", "version": env!("CARGO_PKG_VERSION")})
}

/// Current time as RFC 3339 (seconds precision, UTC).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Cuts `s` to at most `max` bytes on a char boundary.
pub use crate::text::truncate_at_char as truncate_str;
