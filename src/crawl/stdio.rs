//! The stdio transport: starts a server as a child process in its own process group, inside
//! the bubblewrap sandbox (see `sandbox.rs`; `--no-sandbox` runs it unconfined), with a
//! scrubbed environment and a private HOME, /tmp and working directory, reads
//! newline-delimited JSON-RPC from its stdout under a per-line cap, drains stderr into a
//! bounded tail, and kills the whole group at the end (npx / uvx leave grandchildren behind).

use super::sandbox::{self, Confinement, ResourceLimits, SandboxMode};
use super::transport::{FetchError, FetchErrorKind};
use super::Limits;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct LaunchSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Declared variables (dummy values); nothing else of the parent's environment passes
    /// except `PATH` and the names in `pass_env`.
    pub env: BTreeMap<String, String>,
    /// Parent variables passed through by name (e.g. proxy settings).
    pub pass_env: Vec<String>,
    /// Scratch folder: HOME is `<scratch>/home`, the working directory `<scratch>/work`.
    pub scratch: PathBuf,
    /// Shared package cache for npx / uvx (so each server does not download the world again).
    /// Unconfined launches only: in the sandbox there is no network, so the package is
    /// installed beforehand (`install.rs`) and only its folder is shown ([`LaunchSpec::ro`]).
    pub package_cache: Option<PathBuf>,
    /// Bubblewrap (the default) or unconfined (`--no-sandbox`).
    pub sandbox: SandboxMode,
    /// Host folders or files the server must see, read-only, at the same path (its install
    /// folder, the Python it runs on, a local script named on the command line).
    pub ro: Vec<PathBuf>,
    /// Folders put first on PATH (the install's `bin`).
    pub path_prepend: Vec<PathBuf>,
    /// Pass the parent's proxy and CA variables (`--pass-proxy`); off by default, because
    /// proxy URLs may carry `user:pass@`.
    pub pass_proxy: bool,
    /// Where the scratch folder appears inside the sandbox (default
    /// `/tmp/toolrisk-crawl/server`); see [`LaunchSpec::visible_scratch`].
    pub inside: Option<PathBuf>,
    /// Memory, process and file-size limits.
    pub limits: ResourceLimits,
}

impl LaunchSpec {
    /// The scratch folder as the server sees it: the fixed inside path in the sandbox, the
    /// real folder when unconfined. `{home}`, `{work}` and `{scratch}` expand against this.
    pub fn visible_scratch(&self) -> PathBuf {
        match self.sandbox {
            SandboxMode::Bubblewrap => self
                .inside
                .clone()
                .unwrap_or_else(|| Path::new(sandbox::INSIDE_SCRATCH).join("server")),
            SandboxMode::Unconfined => self.scratch.clone(),
        }
    }

    /// The command line as one string, for reports.
    pub fn display(&self) -> String {
        let mut argv = vec![self.program.clone()];
        argv.extend(self.args.iter().cloned());
        shell_join(&argv)
    }
}

/// Joins words into a command line that `split_command` splits back into the same words.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "@/._-=:,+{}%".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a command line does not split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLineError {
    /// A quote opened and never closed (the line is kept for the message).
    UnclosedQuote(String),
    /// Nothing but blanks.
    Empty,
}

impl std::fmt::Display for CommandLineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandLineError::UnclosedQuote(line) => {
                write!(f, "unclosed quote in command `{line}`")
            }
            CommandLineError::Empty => f.write_str("empty command"),
        }
    }
}

impl std::error::Error for CommandLineError {}

/// Splits a command line into words, honouring single and double quotes and backslashes.
pub fn split_command(line: &str) -> Result<Vec<String>, CommandLineError> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            Some(_) => cur.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                        in_word = true;
                    }
                }
                c if c.is_whitespace() => {
                    if in_word {
                        words.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                c => {
                    cur.push(c);
                    in_word = true;
                }
            },
        }
    }
    if quote.is_some() {
        return Err(CommandLineError::UnclosedQuote(line.to_string()));
    }
    if in_word {
        words.push(cur);
    }
    if words.is_empty() {
        return Err(CommandLineError::Empty);
    }
    Ok(words)
}

/// Parent variables a launched server gets only with `--pass-proxy`: where the CA
/// certificates and proxies are (so that an unconfined npx / uvx can download packages behind
/// a TLS-inspecting proxy). Proxy URLs may carry credentials, so they are never passed
/// unasked.
pub const PROXY_AND_CA: &[&str] = &[
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PIP_CERT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// Something read from the server.
#[derive(Debug)]
pub enum Incoming {
    /// One JSON-RPC message (an object).
    Message(Value),
    /// The stream ended.
    Eof,
    /// The stream cannot be used any more (oversized line, LSP framing, too much junk, …),
    /// with the kind of failure.
    Fatal(FetchError),
}

/// Counters and samples of what the reader skipped.
#[derive(Debug, Default, Clone)]
pub struct ReadStats {
    pub junk_lines: usize,
    pub junk_samples: Vec<String>,
    pub bytes: usize,
}

/// A bounded ring of the last bytes of a stream.
#[derive(Debug, Default)]
pub struct Tail {
    buf: VecDeque<u8>,
    cap: usize,
}

impl Tail {
    pub fn new(cap: usize) -> Tail {
        Tail {
            buf: VecDeque::new(),
            cap,
        }
    }
    pub fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.buf.len() == self.cap {
                self.buf.pop_front();
            }
            self.buf.push_back(b);
        }
    }
    /// The tail as text, with control characters escaped (it goes to the terminal).
    pub fn text(&self) -> String {
        let v: Vec<u8> = self.buf.iter().copied().collect();
        let s = String::from_utf8_lossy(&v);
        crate::text::escape_control(s.trim())
    }
}

/// Splits a byte stream into lines with a per-line cap, and turns lines into messages.
/// Shared by stdio and the tests of the framing rules.
pub struct LineDecoder {
    line: Vec<u8>,
    skipping: bool,
    max_line: usize,
    max_junk: usize,
    pub stats: ReadStats,
    first_line: bool,
}

impl LineDecoder {
    pub fn new(limits: &Limits) -> LineDecoder {
        LineDecoder {
            line: Vec::new(),
            skipping: false,
            max_line: limits.max_message_bytes,
            max_junk: limits.max_junk_lines,
            stats: ReadStats::default(),
            first_line: true,
        }
    }

    /// Feeds bytes; returns the events they complete.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<Incoming>) {
        self.stats.bytes += bytes.len();
        while !bytes.is_empty() {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    if !self.skipping {
                        if self.line.len() + i > self.max_line {
                            out.push(self.too_long());
                        } else {
                            self.line.extend_from_slice(&bytes[..i]);
                            let line = std::mem::take(&mut self.line);
                            self.line_done(&line, out);
                        }
                    }
                    self.skipping = false;
                    self.line.clear();
                    bytes = &bytes[i + 1..];
                }
                None => {
                    if !self.skipping {
                        if self.line.len() + bytes.len() > self.max_line {
                            out.push(self.too_long());
                            self.skipping = true;
                            self.line.clear();
                        } else {
                            self.line.extend_from_slice(bytes);
                        }
                    }
                    bytes = &[];
                }
            }
        }
    }

    /// The stream ended: a last line without newline still counts.
    pub fn finish(&mut self, out: &mut Vec<Incoming>) {
        if !self.skipping && !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
        }
        out.push(Incoming::Eof);
    }

    fn too_long(&self) -> Incoming {
        Incoming::Fatal(FetchError::of(
            FetchErrorKind::TooLarge,
            format!(
                "a message on stdout is longer than the {} byte limit (raise --max-message-bytes)",
                self.max_line
            ),
        ))
    }

    fn line_done(&mut self, raw: &[u8], out: &mut Vec<Incoming>) {
        let mut line = raw;
        if self.first_line {
            self.first_line = false;
        }
        if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
            line = rest;
        }
        while let Some((last, rest)) = line.split_last() {
            if last.is_ascii_whitespace() {
                line = rest;
            } else {
                break;
            }
        }
        while let Some((first, rest)) = line.split_first() {
            if first.is_ascii_whitespace() {
                line = rest;
            } else {
                break;
            }
        }
        if line.is_empty() {
            return;
        }
        if line.len() > 15 && line[..15].eq_ignore_ascii_case(b"content-length:") {
            out.push(Incoming::Fatal(FetchError::of(
                FetchErrorKind::Protocol,
                "the server frames messages with LSP-style `Content-Length:` headers; MCP stdio is one JSON message per line",
            )));
            return;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(o)) if is_jsonrpc(&o) => out.push(Incoming::Message(Value::Object(o))),
            Ok(Value::Array(items))
                if items.iter().any(|i| i.as_object().is_some_and(is_jsonrpc)) =>
            {
                // A batch (legal only in 2025-03-26): accept its messages.
                for item in items {
                    if let Value::Object(o) = item {
                        if is_jsonrpc(&o) {
                            out.push(Incoming::Message(Value::Object(o)));
                        }
                    }
                }
            }
            _ => self.junk(line, out),
        }
    }

    fn junk(&mut self, line: &[u8], out: &mut Vec<Incoming>) {
        self.stats.junk_lines += 1;
        if self.stats.junk_samples.len() < 3 {
            let s = String::from_utf8_lossy(line);
            self.stats
                .junk_samples
                .push(crate::text::escape_line(super::truncate_str(&s, 200)));
        }
        if self.stats.junk_lines == self.max_junk + 1 {
            out.push(Incoming::Fatal(FetchError::of(
                FetchErrorKind::Protocol,
                format!(
                    "more than {} non-JSON-RPC lines on stdout (first: {:?})",
                    self.max_junk,
                    self.stats.junk_samples.first().cloned().unwrap_or_default()
                ),
            )));
        }
    }
}

/// A JSON object that looks like a JSON-RPC message; `"jsonrpc"` itself is not required
/// (some servers leave it out).
fn is_jsonrpc(o: &serde_json::Map<String, Value>) -> bool {
    o.contains_key("method") || o.contains_key("result") || o.contains_key("error")
}

/// A running stdio server.
pub struct StdioTransport {
    child: Child,
    pgid: Option<i32>,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Incoming>,
    stderr: Arc<Mutex<Tail>>,
    stats: Arc<Mutex<ReadStats>>,
    pub command: String,
}

impl StdioTransport {
    /// Starts the server: under bubblewrap unless the spec says unconfined.
    /// A failure is a [`FetchErrorKind::Launch`] error.
    pub fn spawn(spec: &LaunchSpec, limits: &Limits) -> Result<StdioTransport, FetchError> {
        let launch = |m: String| FetchError::of(FetchErrorKind::Launch, m);
        let home = spec.scratch.join("home");
        let work = spec.scratch.join("work");
        let tmp = spec.scratch.join("tmp");
        for d in [&home, &work, &tmp] {
            std::fs::create_dir_all(d).map_err(|e| {
                launch(format!("cannot create scratch folder {}: {e}", d.display()))
            })?;
        }
        let visible = spec.visible_scratch();
        let (v_home, v_work) = (visible.join("home"), visible.join("work"));
        let mut prepared = None;
        let mut cmd = match spec.sandbox {
            SandboxMode::Bubblewrap => {
                let uid = sandbox::sandbox_uid();
                let shown_uid = uid.unwrap_or_else(|| {
                    // SAFETY: getuid has no preconditions.
                    unsafe { libc::getuid() }
                });
                let (passwd, group) = sandbox::passwd_lines(shown_uid, &v_home);
                let (pw, gr) = (spec.scratch.join("passwd"), spec.scratch.join("group"));
                std::fs::write(&pw, passwd)
                    .and_then(|_| std::fs::write(&gr, group))
                    .map_err(|e| launch(format!("cannot write the sandbox's passwd file: {e}")))?;
                if let Some(uid) = uid {
                    sandbox::chown_tree(&spec.scratch, uid).map_err(|e| {
                        launch(format!(
                            "cannot hand the scratch folder {} to the sandbox user: {e}",
                            spec.scratch.display()
                        ))
                    })?;
                }
                let mut ro: Vec<(PathBuf, PathBuf)> =
                    spec.ro.iter().map(|p| (p.clone(), p.clone())).collect();
                // A local program or script (`python3 /abs/server.py`: the program and its
                // first argument only, never later arguments) outside the system folders is
                // shown read-only where it is.
                for a in std::iter::once(&spec.program).chain(spec.args.iter().take(1)) {
                    let p = Path::new(a);
                    if p.is_absolute()
                        && p.is_file()
                        && !["/usr", "/bin", "/lib", "/etc", "/opt", "/proc", "/dev"]
                            .iter()
                            .any(|s| p.starts_with(s))
                        && !p.starts_with(&visible)
                        && !ro.iter().any(|(h, _)| p.starts_with(h))
                    {
                        // A package's bin (`node_modules/.bin/x`, a link into the package)
                        // needs the package and its dependencies: show the whole
                        // `node_modules` folder it lives in, read-only, at the same place.
                        let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
                        for q in [p, real.as_path()] {
                            let shown = q
                                .ancestors()
                                .find(|d| d.file_name().is_some_and(|n| n == "node_modules"))
                                .unwrap_or(q);
                            if !ro.iter().any(|(h, _)| shown.starts_with(h)) {
                                ro.push((shown.to_path_buf(), shown.to_path_buf()));
                            }
                        }
                    }
                }
                let c = Confinement {
                    rw: vec![
                        (home.clone(), v_home.clone()),
                        (work.clone(), v_work.clone()),
                    ],
                    ro,
                    chdir: v_work.clone(),
                    network: false,
                    tmpfs_tmp: true,
                    passwd: Some((pw, gr)),
                    limits: spec.limits,
                    uid,
                };
                let mut path: Vec<String> = spec
                    .path_prepend
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                path.push("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
                let prep = sandbox::prepare(&c, &spec.program, &spec.args, &path.join(":"))
                    .map_err(|e| launch(e.to_string()))?;
                let mut cmd = Command::new(&prep.program);
                cmd.args(&prep.args);
                prep.apply(&mut cmd);
                prepared = Some(prep);
                cmd
            }
            SandboxMode::Unconfined => {
                let mut cmd = Command::new(&spec.program);
                cmd.args(&spec.args).current_dir(&work);
                cmd
            }
        };
        cmd.env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        match spec.sandbox {
            SandboxMode::Bubblewrap => {
                cmd.env("TMPDIR", "/tmp");
            }
            SandboxMode::Unconfined => {
                let mut path = std::env::join_paths(&spec.path_prepend).unwrap_or_default();
                if let Some(p) = std::env::var_os("PATH") {
                    if !path.is_empty() {
                        path.push(":");
                    }
                    path.push(p);
                }
                cmd.env("PATH", path).env("TMPDIR", &tmp);
                if let Some(cache) = &spec.package_cache {
                    cmd.env("npm_config_cache", cache.join("npm"))
                        .env("UV_CACHE_DIR", cache.join("uv"))
                        .env("UV_TOOL_DIR", cache.join("uv-tools"))
                        .env("UV_PYTHON_INSTALL_DIR", cache.join("uv-python"));
                }
            }
        }
        cmd.env("HOME", &v_home)
            .env("LANG", "C.UTF-8")
            .env("NO_COLOR", "1")
            .env("CI", "1")
            .env("npm_config_update_notifier", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_audit", "false")
            .env("npm_config_loglevel", "error");
        let proxy: &[&str] = if spec.pass_proxy { PROXY_AND_CA } else { &[] };
        for name in proxy
            .iter()
            .copied()
            .chain(spec.pass_env.iter().map(String::as_str))
        {
            if let Some(v) = std::env::var_os(name) {
                cmd.env(name, v);
            }
        }
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| {
            launch(format!(
                "cannot start `{}`: {e}",
                crate::text::escape_line(&spec.display())
            ))
        })?;
        // The descriptors bubblewrap binds were inherited; ours can close now.
        drop(prepared);
        let pgid = child.id().map(|p| p as i32);
        let stdin = child.stdin.take();
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| launch("child has no stdout".into()))?;
        let mut stderr_pipe = child
            .stderr
            .take()
            .ok_or_else(|| launch("child has no stderr".into()))?;
        let stderr = Arc::new(Mutex::new(Tail::new(limits.stderr_tail_bytes)));
        let stats = Arc::new(Mutex::new(ReadStats::default()));
        let (tx, rx) = mpsc::channel(64);

        // Drain stderr all the time: a full pipe blocks the server.
        let tail = stderr.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = stderr_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if let Ok(mut t) = tail.lock() {
                    t.push(&buf[..n]);
                }
            }
        });

        let mut decoder = LineDecoder::new(limits);
        let max_total = limits.max_total_bytes;
        let stats2 = stats.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut events = Vec::new();
            loop {
                let n = match stdout.read(&mut buf).await {
                    Ok(0) | Err(_) => 0,
                    Ok(n) => n,
                };
                if n == 0 {
                    decoder.finish(&mut events);
                } else {
                    decoder.feed(&buf[..n], &mut events);
                    if decoder.stats.bytes > max_total {
                        events.push(Incoming::Fatal(FetchError::of(
                            FetchErrorKind::TooLarge,
                            format!(
                                "the server wrote more than {max_total} bytes (raise --max-total-bytes)"
                            ),
                        )));
                    }
                }
                if let Ok(mut s) = stats2.lock() {
                    *s = decoder.stats.clone();
                }
                let mut stop = n == 0;
                for e in events.drain(..) {
                    stop |= matches!(e, Incoming::Fatal(_) | Incoming::Eof);
                    if tx.send(e).await.is_err() {
                        return;
                    }
                    if stop {
                        return;
                    }
                }
                if stop {
                    return;
                }
            }
        });

        Ok(StdioTransport {
            child,
            pgid,
            stdin,
            rx,
            stderr,
            stats,
            command: spec.display(),
        })
    }

    /// Writes one message as a line.
    pub async fn send(&mut self, msg: &Value) -> Result<(), FetchError> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| FetchError::new("stdin already closed"))?;
        let mut line = serde_json::to_vec(msg).map_err(|e| FetchError::new(e.to_string()))?;
        line.push(b'\n');
        let failed = |e: std::io::Error| {
            FetchError::new(format!("writing to the server's stdin failed: {e}"))
        };
        stdin.write_all(&line).await.map_err(failed)?;
        stdin.flush().await.map_err(failed)
    }

    /// Next event; `None` only after the reader ended.
    pub async fn recv(&mut self) -> Incoming {
        self.rx.recv().await.unwrap_or(Incoming::Eof)
    }

    /// Exit status if the process has ended (waits briefly), for error reports.
    pub async fn exit_status(&mut self) -> Option<String> {
        match tokio::time::timeout(std::time::Duration::from_millis(500), self.child.wait()).await {
            Ok(Ok(st)) => Some(match st.code() {
                Some(c) => format!("exit code {c}"),
                None => "killed by a signal".into(),
            }),
            _ => None,
        }
    }

    /// The last bytes of stderr.
    pub fn stderr_tail(&self) -> String {
        self.stderr.lock().map(|t| t.text()).unwrap_or_default()
    }

    pub fn read_stats(&self) -> ReadStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Closes stdin, gives the server a moment to exit, then kills the whole process group.
    pub async fn close(mut self) {
        drop(self.stdin.take());
        let exited =
            tokio::time::timeout(std::time::Duration::from_millis(300), self.child.wait()).await;
        if let Some(pgid) = self.pgid.take() {
            kill_group(pgid, libc::SIGTERM);
            if exited.is_err() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            kill_group(pgid, libc::SIGKILL);
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.child.wait()).await;
    }
}

impl Drop for StdioTransport {
    fn drop(&mut self) {
        // Also on panics and cancelled futures: never leave grandchildren behind.
        if let Some(pgid) = self.pgid.take() {
            kill_group(pgid, libc::SIGKILL);
        }
    }
}

fn kill_group(pgid: i32, sig: i32) {
    if pgid > 1 {
        // SAFETY: killpg only sends a signal; the group is the one we created for the child.
        unsafe {
            libc::killpg(pgid, sig);
        }
    }
}

/// Replaces `{scratch}` (and `{home}`, `{work}`) in a value with the scratch paths (pass
/// [`LaunchSpec::visible_scratch`]: the paths as the server sees them).
pub fn expand_placeholders(s: &str, scratch: &Path) -> String {
    s.replace("{home}", &scratch.join("home").to_string_lossy())
        .replace("{work}", &scratch.join("work").to_string_lossy())
        .replace("{scratch}", &scratch.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]], limits: &Limits) -> (Vec<Incoming>, ReadStats) {
        let mut d = LineDecoder::new(limits);
        let mut out = Vec::new();
        for c in chunks {
            d.feed(c, &mut out);
        }
        d.finish(&mut out);
        (out, d.stats)
    }

    #[test]
    fn tolerates_bom_crlf_blank_and_junk() {
        let (out, stats) = decode(
            &[
                b"\xEF\xBB\xBF{\"id\":1,\"result\":{}}\r\n\nStarting server...\n{\"jsonr",
                b"pc\":\"2.0\",\"method\":\"x\"}\n[1,2]\n",
            ],
            &Limits::default(),
        );
        let msgs = out
            .iter()
            .filter(|e| matches!(e, Incoming::Message(_)))
            .count();
        assert_eq!(msgs, 2);
        assert_eq!(stats.junk_lines, 2);
        assert_eq!(stats.junk_samples[0], "Starting server...");
    }

    #[test]
    fn oversized_line_is_fatal_not_a_hang() {
        let limits = Limits {
            max_message_bytes: 10,
            ..Limits::default()
        };
        let (out, _) = decode(&[b"{\"id\":1,", b"\"result\":{\"x\":1}}\n"], &limits);
        assert!(
            matches!(out[0], Incoming::Fatal(ref e) if e.message.contains("10 byte") && e.kind == FetchErrorKind::TooLarge)
        );
    }

    #[test]
    fn lsp_framing_is_reported() {
        let (out, _) = decode(&[b"Content-Length: 40\r\n\r\n{}"], &Limits::default());
        assert!(matches!(out[0], Incoming::Fatal(ref e) if e.message.contains("Content-Length")));
    }

    #[test]
    fn splits_commands_with_quotes() {
        assert_eq!(
            split_command(r#"uvx --with 'mcp<2' x "a b" c\ d"#).unwrap(),
            vec!["uvx", "--with", "mcp<2", "x", "a b", "c d"]
        );
        assert!(matches!(
            split_command("a 'b"),
            Err(CommandLineError::UnclosedQuote(_))
        ));
        let argv: Vec<String> = ["uvx", "--with", "mcp<2", "a b", "it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(shell_join(&argv), r"uvx --with 'mcp<2' 'a b' 'it'\''s'");
        assert_eq!(split_command(&shell_join(&argv)).unwrap(), argv);
        assert_eq!(split_command("  "), Err(CommandLineError::Empty));
    }
}
