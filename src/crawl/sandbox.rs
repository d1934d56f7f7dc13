//! The sandbox every launched server runs in: bubblewrap (`bwrap`) with its own network
//! namespace (no way out, not even the host's loopback), the system read-only, a private
//! HOME, /tmp and working folder, only the package's own install folder visible of the
//! package cache, no view of the user's home or the catalogue, `--die-with-parent`, and kernel
//! limits on memory, processes and file size set in the child before `bwrap` starts.
//!
//! When the crawler runs as root (CI, containers) the server runs as an unprivileged user id
//! of its own (a fresh one per launch, from a range no account uses), because the kernel does
//! not apply the process limit to root. Folders the server needs are handed to `bwrap` as open
//! file descriptors (`--bind-fd`), so that it never needs to walk the path to them.
//!
//! Without bubblewrap, launching is refused unless the user says `--no-sandbox`.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How launched servers are confined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SandboxMode {
    /// Under bubblewrap; launching fails when it is missing or does not work here.
    #[default]
    Bubblewrap,
    /// No sandbox (`--no-sandbox`): the server runs with the user's rights, can read their
    /// files and reach the network. Only a scrubbed environment and a scratch folder.
    Unconfined,
}

/// Kernel limits applied to a launched server (and everything it starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceLimits {
    /// Data segment (heap and anonymous writable mappings), bytes: `RLIMIT_DATA`. Address
    /// space (`RLIMIT_AS`) is not limited because V8 and WebAssembly reserve large ranges
    /// they never use.
    pub memory_bytes: u64,
    /// Processes and threads of the server's user id: `RLIMIT_NPROC`.
    pub processes: u64,
    /// Largest file the server may write, bytes: `RLIMIT_FSIZE`.
    pub file_bytes: u64,
    /// Open file descriptors: `RLIMIT_NOFILE`.
    pub open_files: u64,
    /// Size of the private /tmp (a tmpfs), bytes.
    pub tmp_bytes: u64,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        ResourceLimits {
            memory_bytes: 4 << 30,
            processes: 256,
            file_bytes: 256 << 20,
            open_files: 4096,
            tmp_bytes: 512 << 20,
        }
    }
}

/// Why a sandboxed launch could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxError {
    /// No `bwrap` on PATH.
    Missing,
    /// `bwrap` is there but cannot create its namespaces here (e.g. user namespaces are
    /// disabled in this container).
    Unusable(String),
    /// A folder or file to bind could not be opened.
    Bind { path: PathBuf, error: String },
    /// The sandbox user (a separate uid when we are root) cannot walk to a folder it must
    /// see, because a parent folder is private (e.g. a package cache under /root).
    Unreachable(PathBuf),
}

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SandboxError::Missing => write!(
                f,
                "launching is refused: bubblewrap (`bwrap`) is not installed, and launched servers run only inside it. \
                 Install it (`apt-get install bubblewrap`, or scripts/setup.d/sandbox.sh), or pass --no-sandbox to run \
                 third-party servers with your own rights (they can then read your files and reach the network)"
            ),
            SandboxError::Unusable(e) => write!(
                f,
                "launching is refused: bubblewrap does not work here ({e}); enable unprivileged user namespaces, or pass \
                 --no-sandbox to run third-party servers with your own rights (they can then read your files and reach the network)"
            ),
            SandboxError::Bind { path, error } => {
                write!(f, "sandbox: cannot open {} to bind it: {error}", path.display())
            }
            SandboxError::Unreachable(p) => write!(
                f,
                "sandbox: the server runs as its own unprivileged user, which cannot reach {} (a parent folder is private); \
                 put the package cache where others may traverse, e.g. --package-cache /var/cache/toolrisk/packages",
                p.display()
            ),
        }
    }
}

impl std::error::Error for SandboxError {}

/// The warning printed once when `--no-sandbox` is given.
pub const NO_SANDBOX_WARNING: &str =
    "warning: --no-sandbox: launched servers run WITHOUT a sandbox, with your user's rights: \
they can read and change your files, reach the network and anything on localhost, and keep running \
if they escape their process group. Only a scrubbed environment and a scratch folder remain. \
Use this only in a throw-away container or VM.";

/// Finds `bwrap` on PATH.
pub fn find_bwrap() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("bwrap"))
        .find(|p| p.is_file())
}

/// The `bwrap` to use, checked once per process: it must exist and be able to create an
/// unprivileged sandbox with its own network namespace here.
pub fn bwrap() -> Result<PathBuf, SandboxError> {
    static CHECKED: OnceLock<Result<PathBuf, SandboxError>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let bin = find_bwrap().ok_or(SandboxError::Missing)?;
            probe(&bin)?;
            Ok(bin)
        })
        .clone()
}

/// Runs `true` in the same kind of sandbox a server gets (as the same kind of user).
fn probe(bin: &Path) -> Result<(), SandboxError> {
    let mut cmd = std::process::Command::new(bin);
    let mut args = vec!["--unshare-user".to_string(), "--unshare-net".into()];
    args.extend(system_args(false));
    args.extend(["--".into(), "true".into()]);
    cmd.args(&args)
        .env_clear()
        .current_dir("/")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(uid) = sandbox_uid() {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(uid);
    }
    let out = cmd
        .output()
        .map_err(|e| SandboxError::Unusable(format!("cannot run {}: {e}", bin.display())))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(SandboxError::Unusable(crate::text::escape_control(
            crate::text::truncate_at_char(err.trim(), 300),
        )))
    }
}

/// The user id a sandboxed server runs as: when we are root, a fresh unprivileged id per
/// launch (so the process limit counts only that server's processes); otherwise our own.
pub fn sandbox_uid() -> Option<u32> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Some(UID_BASE + (std::process::id().wrapping_mul(4099).wrapping_add(n)) % UID_SPAN)
}

/// Ids from 1,700,000,000 up: far above any account range (and below 2^31, which some
/// tools mishandle).
const UID_BASE: u32 = 1_700_000_000;
const UID_SPAN: u32 = 100_000_000;

/// Where the scratch folders appear inside the sandbox. The path is fixed (servers that put
/// their working directory into tool descriptions give the same description on every crawl),
/// and it lives under the sandbox's own /tmp, so nothing outside can plant anything there.
pub const INSIDE_SCRATCH: &str = "/tmp/toolrisk-crawl";

/// The parts of /etc a program needs to start; the rest (shadow, keys, configs with
/// secrets) is not visible. `passwd` and `group` are replaced by our own.
const ETC_KEEP: &[&str] = &[
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "debian_version",
    "fonts",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "protocols",
    "services",
    "ssl",
    "timezone",
];

/// The read-only system: /usr (and the /bin, /lib… links or folders), /opt, parts of /etc,
/// a fresh /proc and /dev. `network` adds what name resolution needs (install step only).
fn system_args(network: bool) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |v: &[&str]| a.extend(v.iter().map(|s| s.to_string()));
    push(&["--ro-bind", "/usr", "/usr"]);
    for d in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
        match std::fs::symlink_metadata(d) {
            Ok(m) if m.file_type().is_symlink() => {
                if let Ok(t) = std::fs::read_link(d) {
                    let t = t.to_string_lossy().into_owned();
                    push(&["--symlink", &t, d]);
                }
            }
            Ok(m) if m.is_dir() => push(&["--ro-bind", d, d]),
            _ => {}
        }
    }
    push(&["--ro-bind-try", "/opt", "/opt"]);
    for e in ETC_KEEP {
        let p = format!("/etc/{e}");
        push(&["--ro-bind-try", &p, &p]);
    }
    if network {
        push(&["--ro-bind-try", "/etc/resolv.conf", "/etc/resolv.conf"]);
        push(&["--ro-bind-try", "/etc/gai.conf", "/etc/gai.conf"]);
    }
    push(&["--proc", "/proc", "--dev", "/dev"]);
    a
}

/// One launch in the sandbox.
#[derive(Debug, Clone, Default)]
pub struct Confinement {
    /// Host folders bound read-write: host path → path inside.
    pub rw: Vec<(PathBuf, PathBuf)>,
    /// Host folders or files bound read-only: host path → path inside.
    pub ro: Vec<(PathBuf, PathBuf)>,
    /// Working directory inside.
    pub chdir: PathBuf,
    /// Share the host's network (the install step only: it downloads from the registries).
    pub network: bool,
    /// The private /tmp is a fresh tmpfs (else a folder of `rw` is bound there).
    pub tmpfs_tmp: bool,
    /// `/etc/passwd` and `/etc/group` content shown inside (the sandbox user's entry).
    pub passwd: Option<(PathBuf, PathBuf)>,
    pub limits: ResourceLimits,
    /// The user id to run as ([`sandbox_uid`]); `None`: our own.
    pub uid: Option<u32>,
}

/// A prepared command: the program and arguments to give `tokio::process::Command`, the
/// descriptors it must inherit, and the user id to run as.
pub struct Prepared {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Kept open until the child has started (`bwrap` binds them).
    pub fds: Vec<OwnedFd>,
    pub uid: Option<u32>,
    pub limits: ResourceLimits,
    /// Our own uid's processes and threads before the start, when we do not switch user (the
    /// process limit counts all of them).
    pub base_tasks: u64,
}

impl Prepared {
    /// Applies everything to a command: user, descriptors to inherit, limits.
    pub fn apply(&self, cmd: &mut tokio::process::Command) {
        cmd.current_dir("/");
        if let Some(uid) = self.uid {
            cmd.uid(uid).gid(uid);
        }
        let fds: Vec<i32> = self.fds.iter().map(|f| f.as_raw_fd()).collect();
        let limits = self.limits;
        let base = self.base_tasks;
        // SAFETY: the closure runs in the child between fork and exec and calls only
        // async-signal-safe functions (fcntl, setrlimit) on values copied in beforehand.
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &fds {
                    if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                set_limits(&limits, base)
            });
        }
    }
}

/// Sets the kernel limits in the child (before exec). Runs between fork and exec.
fn set_limits(l: &ResourceLimits, base_tasks: u64) -> std::io::Result<()> {
    let set = |res, v: u64| {
        let r = libc::rlimit {
            rlim_cur: v as libc::rlim_t,
            rlim_max: v as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct we pass; it is async-signal-safe.
        if unsafe { libc::setrlimit(res, &r) } == -1 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    set(libc::RLIMIT_DATA, l.memory_bytes)?;
    set(libc::RLIMIT_FSIZE, l.file_bytes)?;
    set(libc::RLIMIT_NOFILE, l.open_files)?;
    set(libc::RLIMIT_CORE, 0)?;
    set(libc::RLIMIT_NPROC, base_tasks + l.processes)?;
    Ok(())
}

/// Opens a path as an `O_PATH` descriptor (close-on-exec until the child clears it).
fn open_path(p: &Path) -> Result<OwnedFd, SandboxError> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| SandboxError::Bind {
        path: p.to_path_buf(),
        error: "NUL in path".into(),
    })?;
    // SAFETY: `c` is a valid NUL-terminated string; open has no other preconditions.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(SandboxError::Bind {
            path: p.to_path_buf(),
            error: std::io::Error::last_os_error().to_string(),
        });
    }
    // SAFETY: `fd` was just returned by open and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Builds the `bwrap` command line for `program args` under `c`.
pub fn prepare(
    c: &Confinement,
    program: &str,
    args: &[String],
    env_path: &str,
) -> Result<Prepared, SandboxError> {
    let bin = bwrap()?;
    let uid = c.uid;
    let mut a: Vec<String> = vec![
        "--unshare-user".into(),
        "--disable-userns".into(),
        "--unshare-ipc".into(),
        "--unshare-pid".into(),
        "--unshare-uts".into(),
        "--unshare-cgroup-try".into(),
        "--hostname".into(),
        "sandbox".into(),
        "--die-with-parent".into(),
        "--new-session".into(),
        "--cap-drop".into(),
        "ALL".into(),
    ];
    if !c.network {
        a.push("--unshare-net".into());
    }
    a.extend(system_args(c.network));
    if c.tmpfs_tmp {
        a.extend([
            "--size".into(),
            c.limits.tmp_bytes.to_string(),
            "--perms".into(),
            "1777".into(),
            "--tmpfs".into(),
            "/tmp".into(),
        ]);
    }
    let mut fds = Vec::new();
    let mut bind = |flag: &str, host: &Path, inside: &Path, a: &mut Vec<String>| {
        let fd = open_path(host)?;
        a.extend([
            flag.to_string(),
            fd.as_raw_fd().to_string(),
            inside.to_string_lossy().into_owned(),
        ]);
        fds.push(fd);
        Ok::<(), SandboxError>(())
    };
    if let Some(u) = uid {
        for (host, _) in c.ro.iter().chain(c.rw.iter()) {
            if !reachable_by(host, Some(u)) {
                return Err(SandboxError::Unreachable(host.clone()));
            }
        }
    }
    for (host, inside) in &c.ro {
        bind("--ro-bind-fd", host, inside, &mut a)?;
    }
    for (host, inside) in &c.rw {
        bind("--bind-fd", host, inside, &mut a)?;
    }
    if let Some((passwd, group)) = &c.passwd {
        bind("--ro-bind-fd", passwd, Path::new("/etc/passwd"), &mut a)?;
        bind("--ro-bind-fd", group, Path::new("/etc/group"), &mut a)?;
    }
    a.extend([
        "--chdir".into(),
        c.chdir.to_string_lossy().into_owned(),
        "--setenv".into(),
        "PATH".into(),
        env_path.into(),
        "--".into(),
        program.into(),
    ]);
    a.extend(args.iter().cloned());
    let base_tasks = if uid.is_none() { own_tasks() } else { 0 };
    Ok(Prepared {
        program: bin,
        args: a,
        fds,
        uid,
        limits: c.limits,
        base_tasks,
    })
}

/// Whether every folder above `p` lets others pass (`o+x`), so that a user of no group can
/// reach `p` by its path (bubblewrap walks the path even for descriptor binds).
pub fn reachable_by_others(p: &Path) -> bool {
    reachable_by(p, None)
}

/// Like [`reachable_by_others`], where folders owned by `uid` need only their owner's `x`.
pub fn reachable_by(p: &Path, uid: Option<u32>) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mut cur = p.parent();
    while let Some(d) = cur {
        match std::fs::metadata(d) {
            Ok(m) if Some(m.uid()) == uid && m.permissions().mode() & 0o100 != 0 => {}
            Ok(m) if m.permissions().mode() & 0o001 != 0 => {}
            _ => return false,
        }
        cur = d.parent();
    }
    true
}

/// The user id and name a server sees for itself, and the passwd / group lines to show.
pub fn passwd_lines(uid: u32, home: &Path) -> (String, String) {
    (
        format!(
            "root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nmcp:x:{uid}:{uid}:mcp:{}:/bin/sh\n",
            home.display()
        ),
        format!("root:x:0:\nnogroup:x:65534:\nmcp:x:{uid}:\n"),
    )
}

/// Hands a folder tree to the sandbox user (when we switch user): the server can write in
/// its own HOME and working folder and nowhere else. Symlinks are not followed.
pub fn chown_tree(root: &Path, uid: u32) -> std::io::Result<()> {
    use std::os::unix::fs::lchown;
    lchown(root, Some(uid), Some(uid))?;
    if std::fs::symlink_metadata(root)?.is_dir() {
        for e in std::fs::read_dir(root)? {
            chown_tree(&e?.path(), uid)?;
        }
    }
    Ok(())
}

/// Processes and threads of our own uid now (the kernel's process limit counts all of them).
fn own_tasks() -> u64 {
    // SAFETY: getuid has no preconditions.
    let me = unsafe { libc::getuid() };
    let mut n = 0u64;
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return 4096;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue;
        };
        let mut uid_ok = false;
        let mut threads = 1;
        for line in status.lines() {
            if let Some(r) = line.strip_prefix("Uid:") {
                uid_ok = r.split_whitespace().next() == Some(&me.to_string());
            } else if let Some(r) = line.strip_prefix("Threads:") {
                threads = r.trim().parse().unwrap_or(1);
            }
        }
        if uid_ok {
            n += threads;
        }
    }
    n
}

/// A scratch folder for one launch: created fresh and private (mode 0700, a random name,
/// made by `tempfile`), with `home/` and `work/` inside. Removing it can fail, and that is
/// reported: [`Scratch::close`].
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
}

/// Why a scratch folder could not be made or removed.
#[derive(Debug)]
pub enum ScratchError {
    /// Creating the folder (or `sub`, one of its `home` / `work` / `tmp`) failed.
    Create {
        sub: Option<&'static str>,
        error: std::io::Error,
    },
    /// Removing the folder at `path` failed.
    Remove {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl std::fmt::Display for ScratchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScratchError::Create { sub: None, error } => {
                write!(f, "cannot create a scratch folder: {error}")
            }
            ScratchError::Create {
                sub: Some(sub),
                error,
            } => write!(f, "cannot create scratch folder {sub}: {error}"),
            ScratchError::Remove { path, error } => write!(
                f,
                "cleaning up the scratch folder {} failed: {error}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ScratchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScratchError::Create { error, .. } | ScratchError::Remove { error, .. } => Some(error),
        }
    }
}

impl Scratch {
    /// A new scratch folder under the temp folder.
    pub fn new(label: &str) -> Result<Scratch, ScratchError> {
        let safe: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(40)
            .collect();
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix(&format!("toolrisk-{safe}-"))
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .map_err(|error| ScratchError::Create { sub: None, error })?;
        for sub in ["home", "work", "tmp"] {
            std::fs::create_dir(dir.path().join(sub)).map_err(|error| ScratchError::Create {
                sub: Some(sub),
                error,
            })?;
        }
        Ok(Scratch { dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        self.dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or_else(|| Path::new("/nonexistent"))
    }

    /// Removes the folder; an error names it.
    pub fn close(mut self) -> Result<(), ScratchError> {
        match self.dir.take() {
            Some(d) => {
                let path = d.path().to_path_buf();
                d.close()
                    .map_err(|error| ScratchError::Remove { path, error })
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_folders_are_fresh_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let a = Scratch::new("same/slug").unwrap();
        let b = Scratch::new("same/slug").unwrap();
        assert_ne!(a.path(), b.path(), "a predictable path can be planted");
        let mode = std::fs::metadata(a.path()).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "scratch folder readable by others: {mode:o}"
        );
        assert!(a.path().join("home").is_dir() && a.path().join("work").is_dir());
        let p = a.path().to_path_buf();
        a.close().unwrap();
        assert!(!p.exists());
        b.close().unwrap();
    }

    #[test]
    fn system_view_keeps_secrets_out_of_etc() {
        let args = system_args(false).join(" ");
        assert!(!args.contains("/etc/shadow") && !args.contains("/etc/passwd"));
        assert!(!args.contains("resolv.conf"));
        assert!(system_args(true).join(" ").contains("resolv.conf"));
        assert!(!args.contains("/home") && !args.contains("/root"));
    }
}
