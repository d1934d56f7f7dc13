//! The install step, separate from running: an `npx …` or `uvx …` launch command is turned
//! into a package install into the package cache (npm with install scripts disabled; uv for
//! PyPI), done once per package version, under bubblewrap with the network (it downloads
//! from the registries) but with only its own install folder and the download cache writable.
//! The server is then started from that folder by the sandbox, offline.
//!
//! The installed package's own metadata (package.json or the wheel's METADATA) is read here
//! for the record.

use crate::model::PackageMetadata;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which package manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Npm,
    Pypi,
}

/// What a launch command asks to install and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallPlan {
    pub ecosystem: Ecosystem,
    /// The server's package name and pinned version.
    pub main: String,
    pub version: Option<String>,
    /// Everything to install, in the package manager's spec syntax (`pkg@1.2`, `pkg==1.2`,
    /// `mcp<2`, `node@22`).
    pub specs: Vec<String>,
    /// The command to run when the launch line names it (`npx -p a -- cmd`,
    /// `uvx --from a cmd`); else the package's own (only) binary.
    pub bin: Option<String>,
    /// Arguments after the command.
    pub args: Vec<String>,
    /// `uvx --python X`.
    pub python: Option<String>,
}

/// Why an `npx …` / `uvx …` command line cannot be planned (`launcher` is `npx` or `uvx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// An option we do not know how to honour.
    UnsupportedOption {
        launcher: &'static str,
        option: String,
    },
    /// An option at the end of the line without its value.
    MissingValue {
        launcher: &'static str,
        option: String,
    },
    /// No package or command to run.
    NoCommand { launcher: &'static str },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::UnsupportedOption { launcher, option } => {
                write!(f, "{launcher} option `{option}` is not supported")
            }
            PlanError::MissingValue {
                launcher: "npx",
                option,
            } => write!(f, "`npx {option}` needs a package"),
            PlanError::MissingValue { launcher, option } => {
                write!(f, "`{launcher} {option}` needs a value")
            }
            PlanError::NoCommand { launcher: "npx" } => {
                f.write_str("npx: no command or package given")
            }
            PlanError::NoCommand { launcher } => write!(f, "{launcher}: no command given"),
        }
    }
}

impl std::error::Error for PlanError {}

/// Parses `npx …` / `uvx …` into a plan; `None` for any other command (run as it is).
pub fn plan(argv: &[String]) -> Result<Option<InstallPlan>, PlanError> {
    let Some(first) = argv.first() else {
        return Ok(None);
    };
    let prog = Path::new(first)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    match prog {
        "npx" => plan_npx(&argv[1..]).map(Some),
        "uvx" => plan_uvx(&argv[1..]).map(Some),
        _ => Ok(None),
    }
}

/// Splits `@scope/name@1.2` / `name@1.2` into name and version.
fn split_npm(spec: &str) -> (String, Option<String>) {
    let at = spec
        .get(1..)
        .and_then(|r| r.find('@'))
        .map(|i| i + 1)
        .filter(|&i| i + 1 < spec.len());
    match at {
        Some(i) => (spec[..i].to_string(), Some(spec[i + 1..].to_string())),
        None => (spec.to_string(), None),
    }
}

fn plan_npx(rest: &[String]) -> Result<InstallPlan, PlanError> {
    let mut packages = Vec::new();
    let mut i = 0;
    let mut positional = None;
    while i < rest.len() {
        let a = rest[i].as_str();
        match a {
            "-y" | "--yes" | "-q" | "--quiet" | "--no-install" => {}
            "-p" | "--package" => {
                i += 1;
                packages.push(
                    rest.get(i)
                        .ok_or_else(|| PlanError::MissingValue {
                            launcher: "npx",
                            option: a.to_string(),
                        })?
                        .clone(),
                );
            }
            "--" => {
                positional = Some(i + 1);
                break;
            }
            s if s.starts_with("--package=") => packages.push(s["--package=".len()..].into()),
            s if s.starts_with('-') => {
                return Err(PlanError::UnsupportedOption {
                    launcher: "npx",
                    option: s.to_string(),
                })
            }
            _ => {
                positional = Some(i);
                break;
            }
        }
        i += 1;
    }
    let pos = positional
        .filter(|&p| p < rest.len())
        .ok_or(PlanError::NoCommand { launcher: "npx" })?;
    let (bin, specs, main_spec) = if packages.is_empty() {
        let spec = rest[pos].clone();
        (None, vec![spec.clone()], spec)
    } else {
        // The server is the last package that is not Node itself.
        let main = packages
            .iter()
            .rev()
            .find(|p| split_npm(p).0 != "node")
            .cloned()
            .unwrap_or_else(|| packages[0].clone());
        (Some(rest[pos].clone()), packages.clone(), main)
    };
    let (main, version) = split_npm(&main_spec);
    Ok(InstallPlan {
        ecosystem: Ecosystem::Npm,
        main,
        version,
        specs,
        bin,
        args: rest[pos + 1..].to_vec(),
        python: None,
    })
}

/// Name and version of a PyPI requirement `name==1.2`, `name@1.2`, `name[extra]==1.2`.
fn split_pypi(spec: &str) -> (String, Option<String>) {
    let (name, version) = match spec.split_once("==").or_else(|| spec.split_once('@')) {
        Some((n, v)) => (n, Some(v.trim().to_string())),
        None => (spec, None),
    };
    let name = name.split('[').next().unwrap_or(name).trim();
    (name.to_string(), version)
}

fn plan_uvx(rest: &[String]) -> Result<InstallPlan, PlanError> {
    let mut from = None;
    let mut with = Vec::new();
    let mut python = None;
    let mut i = 0;
    let mut pos = None;
    while i < rest.len() {
        let a = rest[i].as_str();
        let mut value = || {
            i += 1;
            rest.get(i).cloned().ok_or_else(|| PlanError::MissingValue {
                launcher: "uvx",
                option: a.to_string(),
            })
        };
        match a {
            "--from" => from = Some(value()?),
            "--with" => with.push(value()?),
            "--python" | "-p" => python = Some(value()?),
            "-q" | "--quiet" | "--isolated" | "--offline" => {}
            "--" => {
                pos = Some(i + 1);
                break;
            }
            s if s.starts_with('-') => {
                return Err(PlanError::UnsupportedOption {
                    launcher: "uvx",
                    option: s.to_string(),
                })
            }
            _ => {
                pos = Some(i);
                break;
            }
        }
        i += 1;
    }
    let pos = pos
        .filter(|&p| p < rest.len())
        .ok_or(PlanError::NoCommand { launcher: "uvx" })?;
    let command = rest[pos].clone();
    let (main_spec, bin) = match from {
        Some(f) => (f, Some(split_pypi(&command).0)),
        None => (command.clone(), None),
    };
    let (main, version) = split_pypi(&main_spec);
    let main_req = match &version {
        Some(v) => format!(
            "{}=={v}",
            main_spec.split(['=', '@']).next().unwrap_or(&main)
        ),
        None => main_spec.clone(),
    };
    let mut specs = vec![main_req];
    specs.extend(with);
    Ok(InstallPlan {
        ecosystem: Ecosystem::Pypi,
        bin: Some(bin.unwrap_or_else(|| main.clone())),
        main,
        version,
        specs,
        args: rest[pos + 1..].to_vec(),
        python,
    })
}

/// An installed package, ready to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Installed {
    /// The install folder (bound read-only into the sandbox at the same path).
    pub dir: PathBuf,
    /// The program to run (inside `dir`).
    pub program: PathBuf,
    /// Folders to put first on PATH (inside `dir`).
    pub path: Vec<PathBuf>,
    /// Other host folders the program needs to see read-only (the Python interpreter's
    /// prefix when it is not under /usr).
    pub ro: Vec<PathBuf>,
    /// Variables the program needs to start (`LD_LIBRARY_PATH` of a copied Python).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// Whether install scripts ran.
    pub scripts: bool,
    /// Whether any installed package declares install scripts (then a failed start is retried
    /// once with them).
    pub has_scripts: bool,
    pub metadata: Option<PackageMetadata>,
    /// The plan it was made from.
    pub specs: Vec<String>,
}

/// What kind of failure an install is: the launch path reports a registry that could not be
/// reached apart from a package that does not exist or does not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstallErrorKind {
    /// The package is not in its registry (npm E404, uv "not found in the package registry").
    NotFound,
    /// The package exists, the pinned version does not (npm ETARGET, uv "no version of").
    VersionMissing,
    /// The dependencies do not resolve (npm ERESOLVE, uv "No solution found").
    ResolutionFailed,
    /// The registry could not be reached (DNS, refused, timed out, TLS).
    RegistryUnreachable,
    /// Anything else: no package manager, a package that is not a server, a local failure.
    Other,
}

/// Why an install failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallError {
    pub kind: InstallErrorKind,
    pub message: String,
}

impl InstallError {
    /// An error of kind `Other`.
    pub fn other(message: impl Into<String>) -> InstallError {
        InstallError {
            kind: InstallErrorKind::Other,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InstallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InstallError {}

/// The kind of a failed npm / uv run, from what it printed on stderr.
pub fn failure_kind(stderr: &str) -> InstallErrorKind {
    let has = |needles: &[&str]| needles.iter().any(|n| stderr.contains(n));
    if has(&[
        "ENOTFOUND",
        "EAI_AGAIN",
        "ECONNREFUSED",
        "ECONNRESET",
        "ETIMEDOUT",
        "network request to",
        "dns error",
        "Connection refused",
        "error sending request",
        "Could not connect",
        "certificate verify failed",
        "UNABLE_TO_GET_ISSUER_CERT",
    ]) {
        InstallErrorKind::RegistryUnreachable
    } else if has(&[
        "code E404",
        "404 Not Found",
        "was not found in the package registry",
    ]) {
        InstallErrorKind::NotFound
    } else if has(&[
        "code ETARGET",
        "No matching version found",
        "there is no version of",
    ]) {
        InstallErrorKind::VersionMissing
    } else if has(&[
        "code ERESOLVE",
        "No solution found",
        "unable to resolve dependency tree",
    ]) {
        InstallErrorKind::ResolutionFailed
    } else {
        InstallErrorKind::Other
    }
}

/// How to install.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// The package cache (`installs/`, `npm/`, `uv/` inside).
    pub cache: PathBuf,
    /// Run installs under bubblewrap (else as they are: `--no-sandbox`).
    pub sandboxed: bool,
    /// Run install scripts (npm); used for the retry.
    pub scripts: bool,
}

const MARKER: &str = ".toolrisk-install.json";

/// The folder a plan installs into: stable per set of specs (and Python).
pub fn install_dir(plan: &InstallPlan, cache: &Path, scripts: bool) -> PathBuf {
    use sha2::{Digest, Sha256};
    let mut specs = plan.specs.clone();
    specs.sort();
    let key = format!(
        "{specs:?} {:?} {}",
        plan.python,
        if scripts { "scripts" } else { "" }
    );
    let h = hex::encode(&Sha256::digest(key.as_bytes())[..6]);
    let name: String = format!(
        "{}@{}",
        plan.main,
        plan.version.as_deref().unwrap_or("latest")
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || "@.-_".contains(c) {
            c
        } else {
            '_'
        }
    })
    .take(80)
    .collect();
    let eco = match plan.ecosystem {
        Ecosystem::Npm => "npm",
        Ecosystem::Pypi => "pypi",
    };
    cache.join("installs").join(eco).join(format!("{name}-{h}"))
}

/// Installs the plan (or finds it installed) and returns how to run it.
pub async fn install(plan: &InstallPlan, opts: &InstallOptions) -> Result<Installed, InstallError> {
    let dir = install_dir(plan, &opts.cache, opts.scripts);
    if let Ok(bytes) = std::fs::read(dir.join(MARKER)) {
        if let Ok(done) = serde_json::from_slice::<Installed>(&bytes) {
            if done.program.exists() {
                return Ok(done);
            }
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| InstallError::other(format!("cannot clear {}: {e}", dir.display())))?;
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| InstallError::other(format!("cannot create {}: {e}", dir.display())))?;
    let r = match plan.ecosystem {
        Ecosystem::Npm => install_npm(plan, &dir, opts).await,
        Ecosystem::Pypi => install_pypi(plan, &dir, opts).await,
    };
    let installed = match r {
        Ok(i) => i,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    let json =
        serde_json::to_vec_pretty(&installed).map_err(|e| InstallError::other(e.to_string()))?;
    crate::catalogue::write_atomic(&dir.join(MARKER), &json)
        .map_err(|e| InstallError::other(format!("{e:#}")))?;
    Ok(installed)
}

/// Parent variables the install step (npm, uv: our tools, not the server) needs to reach the
/// registries: CA bundles and proxies.
const INSTALL_PASS: &[&str] = &[
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "npm_config_registry",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "PIP_INDEX_URL",
];

/// Runs one package-manager command, under bubblewrap with the network when sandboxed: the
/// system read-only, a private HOME and /tmp, only `rw` writable.
async fn run_tool(
    program: &str,
    args: &[String],
    env: &[(&str, String)],
    rw: &[PathBuf],
    ro: &[PathBuf],
    opts: &InstallOptions,
    timeout: std::time::Duration,
) -> Result<String, InstallError> {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::Builder::new()
        .prefix("toolrisk-install-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| InstallError::other(format!("cannot create a temp folder: {e}")))?;
    let host_path = std::env::var("PATH").unwrap_or_default();
    let mut path = format!("{host_path}:/usr/local/bin:/usr/bin:/bin");
    for p in ro {
        let bin = p.join("bin");
        if bin.is_dir() {
            path.push(':');
            path.push_str(&bin.to_string_lossy());
        }
    }
    let resolved = which(program, &host_path).ok_or_else(|| {
        InstallError::other(format!(
            "`{program}` is not installed (needed to install packages)"
        ))
    })?;
    let mut cmd;
    let _prepared;
    if opts.sandboxed {
        let mut ro_binds: Vec<(PathBuf, PathBuf)> =
            ro.iter().map(|p| (p.clone(), p.clone())).collect();
        // The package manager itself (npm under /usr, uv often under the user's home).
        if let Some(parent) = tool_root(&resolved) {
            ro_binds.push((parent.clone(), parent));
        }
        let c = super::sandbox::Confinement {
            rw: rw
                .iter()
                .map(|p| (p.clone(), p.clone()))
                .chain([(home.path().to_path_buf(), PathBuf::from("/home/install"))])
                .collect(),
            ro: ro_binds,
            chdir: PathBuf::from("/home/install"),
            network: true,
            tmpfs_tmp: true,
            passwd: None,
            limits: super::sandbox::ResourceLimits {
                processes: 1024,
                file_bytes: 2 << 30,
                ..Default::default()
            },
            uid: None,
        };
        let prep = super::sandbox::prepare(&c, &resolved.to_string_lossy(), args, &path)
            .map_err(|e| InstallError::other(e.to_string()))?;
        cmd = tokio::process::Command::new(&prep.program);
        cmd.args(&prep.args);
        prep.apply(&mut cmd);
        _prepared = Some(prep);
    } else {
        cmd = tokio::process::Command::new(&resolved);
        cmd.args(args).current_dir(home.path());
        _prepared = None;
    }
    cmd.env_clear()
        .env("PATH", &path)
        .env("LANG", "C.UTF-8")
        .env("NO_COLOR", "1")
        .env("CI", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if opts.sandboxed {
        cmd.env("HOME", "/home/install");
    } else {
        cmd.env("HOME", home.path());
    }
    for name in INSTALL_PASS {
        if let Ok(v) = std::env::var(name) {
            cmd.env(name, v);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .spawn()
        .map_err(|e| InstallError::other(format!("cannot start `{program}`: {e}")))?;
    drop(_prepared);
    let out = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| {
            InstallError::other(format!(
                "`{program}` took longer than {} s",
                timeout.as_secs()
            ))
        })?
        .map_err(|e| InstallError::other(format!("`{program}`: {e}")))?;
    let _ = home.close();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: String = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" | ");
        return Err(InstallError {
            kind: failure_kind(&stderr),
            message: format!(
                "`{program} {}` failed: {}",
                args.first().map(String::as_str).unwrap_or_default(),
                crate::text::truncate_at_char(&tail, 800)
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where a tool found on PATH lives, when it must be bound into the install sandbox (not
/// under /usr): its installation's root folder.
fn tool_root(resolved: &Path) -> Option<PathBuf> {
    let real = std::fs::canonicalize(resolved).ok()?;
    if real.starts_with("/usr") || real.starts_with("/bin") {
        return None;
    }
    // `<prefix>/bin/uv` → `<prefix>`
    real.parent()?.parent().map(Path::to_path_buf)
}

fn which(program: &str, path: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(p).ok())
}

async fn install_npm(
    plan: &InstallPlan,
    dir: &Path,
    opts: &InstallOptions,
) -> Result<Installed, InstallError> {
    let npm_cache = opts.cache.join("npm");
    std::fs::create_dir_all(&npm_cache)
        .map_err(|e| InstallError::other(format!("cannot create {}: {e}", npm_cache.display())))?;
    let mut args: Vec<String> = vec![
        "install".into(),
        "--prefix".into(),
        dir.to_string_lossy().into_owned(),
        "--no-audit".into(),
        "--no-fund".into(),
        "--no-save".into(),
        "--loglevel=error".into(),
        "--omit=dev".into(),
    ];
    if !opts.scripts {
        args.push("--ignore-scripts".into());
    }
    args.extend(plan.specs.iter().cloned());
    let env = [
        ("npm_config_cache", npm_cache.to_string_lossy().into_owned()),
        ("npm_config_update_notifier", "false".into()),
        ("npm_config_fund", "false".into()),
        ("npm_config_audit", "false".into()),
    ];
    run_tool(
        "npm",
        &args,
        &env,
        &[dir.to_path_buf(), npm_cache],
        &[],
        opts,
        std::time::Duration::from_secs(600),
    )
    .await?;
    let pkg_dir = dir.join("node_modules").join(&plan.main);
    let pj_path = pkg_dir.join("package.json");
    let pj: serde_json::Value = crate::bounded::read_bytes(&pj_path, 4 << 20)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            InstallError::other(format!("{} is missing or not JSON", pj_path.display()))
        })?;
    let bin_dir = dir.join("node_modules").join(".bin");
    let bin = match &plan.bin {
        Some(b) => bin_link_name(b),
        None => npm_bin(&plan.main, &pj).ok_or_else(|| {
            InstallError::other(format!(
                "{} declares no `bin`: it is a library, not a server to start",
                plan.main
            ))
        })?,
    };
    let program = bin_dir.join(&bin);
    if !program.exists() {
        return Err(InstallError::other(format!(
            "`{bin}` is not among the installed commands of {}",
            plan.main
        )));
    }
    let has_scripts = tree_has_install_scripts(&dir.join("node_modules"));
    let mut metadata = npm_metadata(&pj, &plan.main);
    if let (Some(m), Some(v)) = (metadata.as_mut(), plan.version.as_deref()) {
        m.release_date = npm_release_date(&plan.main, v).await;
    }
    Ok(Installed {
        dir: dir.to_path_buf(),
        program,
        path: vec![bin_dir],
        ro: Vec::new(),
        env: Default::default(),
        scripts: opts.scripts,
        has_scripts,
        metadata,
        specs: plan.specs.clone(),
    })
}

/// The name npm links a `bin` entry under: its last path part (`@scope/cmd` → `cmd`), as
/// npm-normalize-package-bin does.
fn bin_link_name(key: &str) -> String {
    key.replace(['\\', ':'], "/")
        .rsplit('/')
        .next()
        .unwrap_or(key)
        .to_string()
}

/// The binary `npx <pkg>` runs: the only one, or the one named like the package.
pub fn npm_bin(name: &str, pj: &serde_json::Value) -> Option<String> {
    let unscoped = name.rsplit('/').next().unwrap_or(name);
    match pj.get("bin")? {
        serde_json::Value::String(_) => Some(unscoped.to_string()),
        serde_json::Value::Object(m) if m.len() == 1 => m.keys().next().map(|k| bin_link_name(k)),
        serde_json::Value::Object(m) if m.keys().any(|k| bin_link_name(k) == unscoped) => {
            Some(unscoped.to_string())
        }
        _ => None,
    }
}

/// Whether any package in a node_modules tree declares install scripts.
fn tree_has_install_scripts(nm: &Path) -> bool {
    let mut stack = vec![nm.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        seen += 1;
        if seen > 20_000 {
            return true;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if !is_dir {
                continue;
            }
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('@') || name == "node_modules" {
                stack.push(p);
                continue;
            }
            if name.starts_with('.') {
                continue;
            }
            if let Ok(b) = crate::bounded::read_bytes(&p.join("package.json"), 1 << 20) {
                if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&b) {
                    if let Some(s) = v.get("scripts") {
                        if ["preinstall", "install", "postinstall"]
                            .iter()
                            .any(|k| s.get(k).is_some())
                        {
                            return true;
                        }
                    }
                }
            }
            let nested = p.join("node_modules");
            if nested.is_dir() {
                stack.push(nested);
            }
        }
    }
    false
}

fn str_or_field(v: Option<&serde_json::Value>, field: &str) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get(field).and_then(|x| x.as_str()).map(str::to_string),
        _ => None,
    }
}

fn clean(s: Option<String>, max: usize) -> Option<String> {
    s.map(|s| crate::text::truncate_at_char(s.trim(), max).to_string())
        .filter(|s| !s.is_empty())
}

/// Metadata from an installed package.json.
pub fn npm_metadata(pj: &serde_json::Value, name: &str) -> Option<PackageMetadata> {
    let repository = str_or_field(pj.get("repository"), "url").map(|u| {
        u.trim_start_matches("git+")
            .trim_end_matches(".git")
            .replace("git://", "https://")
            .replace("ssh://git@", "https://")
    });
    let author = str_or_field(pj.get("author"), "name").or_else(|| {
        pj.get("contributors")
            .and_then(|c| c.as_array())
            .and_then(|a| a.first())
            .and_then(|c| str_or_field(Some(c), "name"))
    });
    let keywords = pj
        .get("keywords")
        .and_then(|k| k.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|k| k.as_str())
                .take(30)
                .map(|k| crate::text::truncate_at_char(k, 60).to_string())
                .collect()
        })
        .unwrap_or_default();
    Some(PackageMetadata {
        source: "npm package.json".into(),
        location: Some(format!("node_modules/{name}/package.json")),
        name: clean(
            pj.get("name").and_then(|v| v.as_str()).map(str::to_string),
            200,
        ),
        version: clean(
            pj.get("version")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            100,
        ),
        description: clean(
            pj.get("description")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            4000,
        ),
        homepage: clean(
            pj.get("homepage")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            500,
        ),
        repository: clean(repository, 500),
        license: clean(str_or_field(pj.get("license"), "type"), 200),
        author: clean(author, 300),
        keywords,
        release_date: None,
    })
}

/// The publish time of one version, from the npm registry (`npm view`); `None` when unknown.
async fn npm_release_date(name: &str, version: &str) -> Option<String> {
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new("npm")
            .args(["view", &format!("{name}@{version}"), "time", "--json"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get(version)
        .and_then(|t| t.as_str())
        .map(|t| crate::text::truncate_at_char(t, 40).to_string())
}

async fn install_pypi(
    plan: &InstallPlan,
    dir: &Path,
    opts: &InstallOptions,
) -> Result<Installed, InstallError> {
    let uv_cache = opts.cache.join("uv");
    std::fs::create_dir_all(&uv_cache)
        .map_err(|e| InstallError::other(format!("cannot create {}: {e}", uv_cache.display())))?;
    let env = [
        ("UV_CACHE_DIR", uv_cache.to_string_lossy().into_owned()),
        ("UV_PYTHON_DOWNLOADS", "never".into()),
        ("UV_NO_PROGRESS", "1".into()),
        ("UV_LINK_MODE", "copy".into()),
    ];
    // The interpreters uv may pick, as the sandbox sees them: try the asked one (or uv's
    // choice), then newer ones when the package wants a newer Python.
    let mut pythons: Vec<Option<String>> = vec![plan.python.clone()];
    for v in ["3.12", "3.13", "3.11", "3.10"] {
        if plan.python.as_deref() != Some(v) {
            pythons.push(Some(v.to_string()));
        }
    }
    let mut pyroots = python_roots();
    let copies = opts.cache.join("pythons");
    pyroots.push(copies.clone());
    let mut last_err = None;
    for py in pythons.iter().take(4) {
        let _ = std::fs::remove_dir_all(dir);
        let mut venv_args: Vec<String> = vec!["venv".into(), "--quiet".into()];
        let interpreter = match py {
            Some(v) => find_python(v, &copies)?,
            None => Some(PathBuf::from("/usr/bin/python3")).filter(|p| p.exists()),
        };
        match (interpreter, py) {
            (Some(p), _) => venv_args.extend(["--python".into(), p.to_string_lossy().into_owned()]),
            (None, Some(v)) => venv_args.extend(["--python".into(), v.clone()]),
            (None, None) => {}
        }
        venv_args.push(dir.to_string_lossy().into_owned());
        let parent = dir.parent().unwrap_or(dir).to_path_buf();
        if let Err(e) = run_tool(
            "uv",
            &venv_args,
            &env,
            &[parent.clone(), uv_cache.clone()],
            &pyroots,
            opts,
            std::time::Duration::from_secs(120),
        )
        .await
        {
            last_err = Some(e);
            continue;
        }
        let python = dir.join("bin").join("python");
        let mut args: Vec<String> = vec![
            "pip".into(),
            "install".into(),
            "--quiet".into(),
            "--python".into(),
            python.to_string_lossy().into_owned(),
        ];
        args.extend(plan.specs.iter().cloned());
        match run_tool(
            "uv",
            &args,
            &env,
            &[dir.to_path_buf(), uv_cache.clone()],
            &pyroots,
            opts,
            std::time::Duration::from_secs(600),
        )
        .await
        {
            Ok(_) => {
                last_err = None;
                break;
            }
            Err(e) => {
                let wants_other_python = e.message.contains("Python")
                    && (e.message.contains("requires") || e.message.contains("version"));
                last_err = Some(e);
                if !wants_other_python {
                    break;
                }
            }
        }
    }
    if let Some(e) = last_err {
        return Err(e);
    }
    let mut bin = plan.bin.clone().unwrap_or_else(|| plan.main.clone());
    if !dir.join("bin").join(&bin).exists() {
        // `uvx pkg` runs the console script named like the package; a package whose only
        // console script has another name is run by that one (the sources file then names it
        // with `--from`).
        let scripts = console_scripts(dir, &plan.main);
        if let [only] = scripts.as_slice() {
            bin = only.clone();
        }
    }
    let program = dir.join("bin").join(&bin);
    if !program.exists() {
        return Err(InstallError::other(format!(
            "`{bin}` is not among the console scripts installed by {}",
            plan.main
        )));
    }
    // The interpreter the venv points to must be visible in the sandbox.
    let mut ro = Vec::new();
    let mut env = std::collections::BTreeMap::new();
    if let Ok(cfg) = std::fs::read_to_string(dir.join("pyvenv.cfg")) {
        for line in cfg.lines() {
            if let Some(home) = line
                .strip_prefix("home")
                .map(|r| r.trim_start_matches([' ', '=']))
            {
                let home = PathBuf::from(home.trim());
                if !home.starts_with("/usr") {
                    if let Some(prefix) = home.parent() {
                        ro.push(prefix.to_path_buf());
                        // A shared-library Python found its libpython by an absolute
                        // RUNPATH; a copy needs to be told.
                        if prefix.starts_with(&copies) {
                            env.insert(
                                "LD_LIBRARY_PATH".to_string(),
                                prefix.join("lib").to_string_lossy().into_owned(),
                            );
                        }
                    }
                }
            }
        }
    }
    let metadata = pypi_metadata(dir, &plan.main);
    Ok(Installed {
        dir: dir.to_path_buf(),
        program,
        path: vec![dir.join("bin")],
        ro,
        env,
        scripts: true,
        has_scripts: false,
        metadata,
        specs: plan.specs.clone(),
    })
}

/// The interpreter for version `v` ("3.12"): under /usr, or a Python installation outside
/// it (pyenv) that the sandbox user can reach, or a copy of one in the package cache (made
/// once, when the original sits in a private folder such as /root).
fn find_python(v: &str, copies: &Path) -> Result<Option<PathBuf>, InstallError> {
    let exe = format!("python{v}");
    let system = Path::new("/usr/bin").join(&exe);
    if system.exists() {
        return Ok(Some(system));
    }
    let Some(root) = python_roots().into_iter().find(|r| {
        r.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n == v || n.starts_with(&format!("{v}.")))
            && r.join("bin").join(&exe).exists()
    }) else {
        return Ok(None);
    };
    if super::sandbox::reachable_by_others(&root.join("bin")) {
        return Ok(Some(root.join("bin").join(exe)));
    }
    let name = root
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    let copy = copies.join(&name);
    if !copy.join("bin").join(&exe).exists() {
        std::fs::create_dir_all(copies)
            .map_err(|e| InstallError::other(format!("cannot create {}: {e}", copies.display())))?;
        let tmp = copies.join(format!(".{}.tmp", name.to_string_lossy()));
        let _ = std::fs::remove_dir_all(&tmp);
        let st = std::process::Command::new("cp")
            .arg("-a")
            .arg(&root)
            .arg(&tmp)
            .status()
            .map_err(|e| InstallError::other(format!("cp: {e}")))?;
        if !st.success() {
            return Err(InstallError::other(format!(
                "copying the Python in {} into the package cache failed",
                root.display()
            )));
        }
        std::fs::rename(&tmp, &copy).map_err(|e| {
            InstallError::other(format!("cannot move the Python copy into place: {e}"))
        })?;
    }
    Ok(Some(copy.join("bin").join(exe)))
}

/// Python installations outside /usr (pyenv's `versions/*`, found through PATH), which uv may
/// pick for a venv: bound read-only into the install sandbox and put on its PATH.
fn python_roots() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let path = std::env::var("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path) {
        let Ok(real) = std::fs::canonicalize(d.join("python3")) else {
            continue;
        };
        if real.starts_with("/usr") {
            continue;
        }
        // A pyenv shim lives in `<root>/shims`; its interpreters in `<root>/versions/*`.
        let Some(root) = real.parent().and_then(|b| b.parent()) else {
            continue;
        };
        let versions = root.join("versions");
        let found: Vec<PathBuf> = match std::fs::read_dir(&versions) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join("bin").is_dir())
                .collect(),
            Err(_) => vec![root.to_path_buf()],
        };
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// The console scripts a distribution declares (`entry_points.txt`).
pub fn console_scripts(venv: &Path, name: &str) -> Vec<String> {
    let Some(info) = dist_info(venv, name) else {
        return Vec::new();
    };
    let Ok(text) = crate::bounded::read_text(&info.join("entry_points.txt"), 1 << 20) else {
        return Vec::new();
    };
    let mut in_section = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_section = l == "[console_scripts]";
        } else if in_section {
            if let Some((k, _)) = l.split_once('=') {
                out.push(k.trim().to_string());
            }
        }
    }
    out
}

/// The `.dist-info` folder of an installed distribution.
fn dist_info(venv: &Path, name: &str) -> Option<PathBuf> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '.'], "_");
    let want = norm(name);
    for py in std::fs::read_dir(venv.join("lib")).ok()?.flatten() {
        let Ok(rd) = std::fs::read_dir(py.path().join("site-packages")) else {
            continue;
        };
        for e in rd.flatten() {
            let f = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = f.strip_suffix(".dist-info") else {
                continue;
            };
            let dist = stem.rsplit_once('-').map(|(n, _)| n).unwrap_or(stem);
            if norm(dist) == want {
                return Some(e.path());
            }
        }
    }
    None
}

/// Metadata from the installed distribution's METADATA file (`<site-packages>/<name>-<ver>.dist-info`).
pub fn pypi_metadata(venv: &Path, name: &str) -> Option<PackageMetadata> {
    let info = dist_info(venv, name)?;
    let text = crate::bounded::read_text(&info.join("METADATA"), 4 << 20).ok()?;
    let f = info.file_name()?.to_string_lossy().into_owned();
    Some(parse_metadata(&text, &format!("{f}/METADATA")))
}

/// Parses the header part of a core-metadata (RFC 822 style) file.
pub fn parse_metadata(text: &str, location: &str) -> PackageMetadata {
    let mut m = PackageMetadata {
        source: "PyPI wheel METADATA".into(),
        location: Some(location.to_string()),
        ..PackageMetadata::default()
    };
    let mut urls: Vec<(String, String)> = Vec::new();
    let mut author_email = None;
    let mut license_expr = None;
    for line in text.lines() {
        if line.is_empty() {
            break; // the body (long description) starts
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.to_ascii_lowercase().as_str() {
            "name" => m.name = clean(Some(v), 200),
            "version" => m.version = clean(Some(v), 100),
            "summary" => m.description = clean(Some(v), 4000),
            "home-page" => m.homepage = clean(Some(v), 500),
            "license" if m.license.is_none() && !v.is_empty() && v.len() < 100 => {
                m.license = clean(Some(v), 200)
            }
            "license-expression" => license_expr = clean(Some(v), 200),
            "author" => m.author = clean(Some(v), 300),
            "author-email" => author_email = clean(Some(v), 300),
            "keywords" => {
                m.keywords = v
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .take(30)
                    .map(|s| crate::text::truncate_at_char(s, 60).to_string())
                    .collect()
            }
            "project-url" => {
                if let Some((label, url)) = v.split_once(',') {
                    urls.push((label.trim().to_ascii_lowercase(), url.trim().to_string()));
                }
            }
            _ => {}
        }
    }
    if license_expr.is_some() {
        m.license = license_expr;
    }
    if m.author.is_none() {
        // `Name <mail>`: keep the name only.
        m.author = author_email.map(|a| a.split('<').next().unwrap_or(&a).trim().to_string());
        m.author = clean(m.author.take(), 300);
    }
    let find = |keys: &[&str]| {
        urls.iter()
            .find(|(l, _)| keys.iter().any(|k| l.contains(k)))
            .map(|(_, u)| u.clone())
    };
    m.repository = clean(find(&["source", "repository", "code", "github"]), 500);
    if m.homepage.is_none() {
        m.homepage = clean(find(&["homepage", "home"]), 500);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        crate::crawl::stdio::split_command(s).unwrap()
    }

    #[test]
    fn install_failures_are_told_apart() {
        use InstallErrorKind::*;
        let cases = [
            ("npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/nope-x - Not found", NotFound),
            ("npm error code ETARGET\nnpm error notarget No matching version found for a@9.9.9.", VersionMissing),
            ("npm error code ERESOLVE\nnpm error ERESOLVE unable to resolve dependency tree", ResolutionFailed),
            ("npm error code ENOTFOUND\nnpm error network request to https://registry.npmjs.org/a failed", RegistryUnreachable),
            ("  × No solution found when resolving dependencies:\n  ╰─▶ Because nope-x was not found in the package registry and you require nope-x, ...", NotFound),
            ("  × No solution found when resolving dependencies:\n  ╰─▶ Because there is no version of mcp-x==9.9 and you require mcp-x==9.9, ...", VersionMissing),
            ("  × No solution found when resolving dependencies:\n  ╰─▶ Because a depends on b<1 and c depends on b>2, ...", ResolutionFailed),
            ("error: Failed to fetch: `https://pypi.org/simple/a/`\n  Caused by: error sending request for url (https://pypi.org/simple/a/)\n  Caused by: dns error", RegistryUnreachable),
            ("npm error code EACCES", Other),
        ];
        for (stderr, kind) in cases {
            assert_eq!(failure_kind(stderr), kind, "{stderr}");
        }
    }

    #[test]
    fn plans_npx_and_uvx_commands() {
        let p = plan(&argv("npx -y @a/b@1.2.3 start --x=1"))
            .unwrap()
            .unwrap();
        assert_eq!(p.ecosystem, Ecosystem::Npm);
        assert_eq!(
            (p.main.as_str(), p.version.as_deref()),
            ("@a/b", Some("1.2.3"))
        );
        assert_eq!(p.specs, ["@a/b@1.2.3"]);
        assert_eq!(p.bin, None);
        assert_eq!(p.args, ["start", "--x=1"]);

        let p = plan(&argv("npx -y -p node@22 -p @k/mcp@5.2.0 -- kubb-mcp a"))
            .unwrap()
            .unwrap();
        assert_eq!(p.main, "@k/mcp");
        assert_eq!(p.specs, ["node@22", "@k/mcp@5.2.0"]);
        assert_eq!(p.bin.as_deref(), Some("kubb-mcp"));
        assert_eq!(p.args, ["a"]);

        let p = plan(&argv(
            "uvx --python 3.12 --with 'mcp<2' --from x-y==2.0 x.y --db a",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(p.ecosystem, Ecosystem::Pypi);
        assert_eq!(
            (p.main.as_str(), p.version.as_deref()),
            ("x-y", Some("2.0"))
        );
        assert_eq!(p.specs, ["x-y==2.0", "mcp<2"]);
        assert_eq!(p.bin.as_deref(), Some("x.y"));
        assert_eq!(p.python.as_deref(), Some("3.12"));
        assert_eq!(p.args, ["--db", "a"]);

        let p = plan(&argv("uvx mcp-server-time==2026.10.19"))
            .unwrap()
            .unwrap();
        assert_eq!(p.bin.as_deref(), Some("mcp-server-time"));
        assert_eq!(p.specs, ["mcp-server-time==2026.10.19"]);

        assert_eq!(plan(&argv("python3 server.py")).unwrap(), None);
        assert_eq!(
            plan(&argv("npx -y")),
            Err(PlanError::NoCommand { launcher: "npx" })
        );
        let e = plan(&argv("npx --weird x")).unwrap_err();
        assert_eq!(e.to_string(), "npx option `--weird` is not supported");
        assert_eq!(
            plan(&argv("uvx --from")).unwrap_err().to_string(),
            "`uvx --from` needs a value"
        );
    }

    #[test]
    fn npx_picks_the_bin_like_npx_does() {
        let one = serde_json::json!({"bin": {"srv": "x.js"}});
        assert_eq!(npm_bin("@a/b", &one).as_deref(), Some("srv"));
        let s = serde_json::json!({"bin": "x.js"});
        assert_eq!(npm_bin("@a/b", &s).as_deref(), Some("b"));
        let scoped = serde_json::json!({"bin": {"@a/b": "x.js"}});
        assert_eq!(npm_bin("@a/b", &scoped).as_deref(), Some("b"));
        let many = serde_json::json!({"bin": {"b": "1.js", "c": "2.js"}});
        assert_eq!(npm_bin("@a/b", &many).as_deref(), Some("b"));
        let ambiguous = serde_json::json!({"bin": {"x": "1.js", "y": "2.js"}});
        assert_eq!(npm_bin("@a/b", &ambiguous), None);
        assert_eq!(npm_bin("lib", &serde_json::json!({"main": "i.js"})), None);
    }

    #[test]
    fn package_metadata_is_read_from_package_json_and_wheel_metadata() {
        let pj = serde_json::json!({
            "name": "@a/b", "version": "1.2.3", "description": "Does things",
            "homepage": "https://b.example", "license": "MIT",
            "repository": {"type": "git", "url": "git+https://github.com/a/b.git"},
            "author": {"name": "A. Author", "email": "a@example.com"},
            "keywords": ["mcp", "payments"]
        });
        let m = npm_metadata(&pj, "@a/b").unwrap();
        assert_eq!(m.repository.as_deref(), Some("https://github.com/a/b"));
        assert_eq!(m.author.as_deref(), Some("A. Author"));
        assert_eq!(m.license.as_deref(), Some("MIT"));
        assert_eq!(m.keywords, ["mcp", "payments"]);
        assert_eq!(m.source, "npm package.json");

        let text = "Metadata-Version: 2.4\nName: x-y\nVersion: 2.0\nSummary: An MCP server\n\
                    Project-URL: Homepage, https://x.example\nProject-URL: Source, https://github.com/x/y\n\
                    Author-email: X Person <x@example.com>\nLicense-Expression: Apache-2.0\n\
                    Keywords: mcp,llm\n\nLong: description: not a header\n";
        let m = parse_metadata(text, "x_y-2.0.dist-info/METADATA");
        assert_eq!(m.name.as_deref(), Some("x-y"));
        assert_eq!(m.description.as_deref(), Some("An MCP server"));
        assert_eq!(m.repository.as_deref(), Some("https://github.com/x/y"));
        assert_eq!(m.homepage.as_deref(), Some("https://x.example"));
        assert_eq!(m.author.as_deref(), Some("X Person"));
        assert_eq!(m.license.as_deref(), Some("Apache-2.0"));
        assert_eq!(m.keywords, ["mcp", "llm"]);
    }
}
