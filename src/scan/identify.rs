//! What a configured server runs: a package and version from its command (npx / bunx /
//! pnpm dlx / yarn dlx / npm exec, uvx / uv tool run / pipx run, docker / podman run), a
//! local program or script (node / python / deno / a path), or a remote endpoint.

use super::Launch;
use serde::Serialize;

/// How far a configured source is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pin {
    /// An exact version or a digest.
    Exact,
    /// Can change under the user: no version, a tag like `latest`, a range, a branch.
    Floating(String),
    /// Not a package (a local path, a remote endpoint).
    NotApplicable,
}

/// What a server entry runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// `npm`, `pypi`, `oci`, `git`, `url`, `local`, `remote`.
    pub registry: String,
    /// Package name, image, repository, program path or endpoint (no credentials).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub pin: Pin,
    /// Source repository, when the source names one (git sources, ghcr.io images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
}

impl Identity {
    /// One line for people: `npm @scope/pkg@1.2.3`.
    pub fn describe(&self) -> String {
        let name = crate::classify::report::clean(&self.name, 200);
        match &self.version {
            Some(v) => format!(
                "{} {}@{}",
                self.registry,
                name,
                crate::classify::report::clean(v, 60)
            ),
            None => format!("{} {}", self.registry, name),
        }
    }

    fn local(program: &str) -> Identity {
        Identity {
            registry: "local".into(),
            name: program.to_string(),
            version: None,
            pin: Pin::NotApplicable,
            repository: None,
        }
    }
}

fn base(program: &str) -> String {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    let name = name
        .strip_suffix(".exe")
        .or_else(|| name.strip_suffix(".cmd"))
        .unwrap_or(name);
    name.to_ascii_lowercase()
}

/// Identifies a configured server.
pub fn identify(launch: &Launch) -> Identity {
    match launch {
        Launch::Remote { url, .. } => Identity {
            registry: "remote".into(),
            name: redact_url(url),
            version: None,
            pin: Pin::NotApplicable,
            repository: None,
        },
        Launch::Stdio { command, args, .. } => {
            let mut argv: Vec<&str> = std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect();
            // `cmd /c npx …` on Windows.
            if base(argv[0]) == "cmd" && argv.len() > 2 && argv[1].eq_ignore_ascii_case("/c") {
                argv.drain(..2);
            }
            from_argv(&argv)
        }
    }
}

fn from_argv(argv: &[&str]) -> Identity {
    let prog = base(argv[0]);
    let rest = &argv[1..];
    match prog.as_str() {
        "npx" | "bunx" | "pnpx" => npm(rest),
        "pnpm" | "yarn" | "bun" if rest.first().is_some_and(|a| *a == "dlx" || *a == "x") => {
            npm(&rest[1..])
        }
        "npm" if rest.first() == Some(&"exec") => npm(&rest[1..]),
        "uvx" => python(rest),
        "uv" if rest.len() > 1 && rest[0] == "tool" && rest[1] == "run" => python(&rest[2..]),
        "pipx" if rest.first() == Some(&"run") => python(&rest[1..]),
        "docker" | "podman" if rest.first() == Some(&"run") => oci(&rest[1..]),
        "node" | "python" | "python3" | "deno" | "bun" | "tsx" | "ts-node" => {
            let script = rest
                .iter()
                .find(|a| !a.starts_with('-') && **a != "run")
                .copied();
            match (script, rest.first()) {
                (_, Some(&"-m")) => {
                    Identity::local(&format!("{prog} -m {}", rest.get(1).unwrap_or(&"")))
                }
                (Some(s), _) => Identity::local(&format!("{prog} {s}")),
                (None, _) => Identity::local(&prog),
            }
        }
        _ => Identity::local(argv[0]),
    }
}

/// The first non-flag argument, honouring `--package` / `-p` (npx) and `--from` (uvx).
fn package_spec<'a>(
    args: &[&'a str],
    value_flags: &[&str],
    package_flags: &[&str],
) -> Option<&'a str> {
    let mut it = args.iter();
    let mut from = None;
    while let Some(a) = it.next() {
        if let Some((flag, v)) = a.split_once('=').filter(|_| a.starts_with('-')) {
            if package_flags.contains(&flag) {
                from = Some(v);
            }
            continue;
        }
        if package_flags.contains(a) {
            from = it.next().copied();
        } else if value_flags.contains(a) {
            it.next();
        } else if a.starts_with('-') {
        } else {
            return from.or(Some(a));
        }
    }
    from
}

fn is_exact_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn git_identity(spec: &str) -> Identity {
    let (url, rev) = match spec.rsplit_once('#').or_else(|| {
        // `git+https://host/o/r@rev` (pip style)
        let after = spec.split_once("://").map(|(_, a)| a).unwrap_or(spec);
        after
            .rsplit_once('@')
            .filter(|(l, _)| l.contains('/'))
            .map(|(_, r)| (&spec[..spec.len() - r.len() - 1], r))
    }) {
        Some((u, r)) => (u, Some(r)),
        None => (spec, None),
    };
    let repository = repository_of(url);
    let pin = match rev {
        Some(r) if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) => Pin::Exact,
        Some(r) => Pin::Floating(format!(
            "git revision `{}` can move",
            crate::classify::report::clean(r, 60)
        )),
        None => Pin::Floating("a git source without a commit follows its default branch".into()),
    };
    Identity {
        registry: "git".into(),
        name: redact_url(url),
        version: rev.map(str::to_string),
        pin,
        repository,
    }
}

/// `https://github.com/o/r` for git URLs and `github:o/r` shorthands.
pub fn repository_of(url: &str) -> Option<String> {
    let u = url.trim_start_matches("git+");
    let path = if let Some(rest) = u.strip_prefix("github:") {
        format!("github.com/{rest}")
    } else if let Some((_, rest)) = u.split_once("://") {
        rest.rsplit_once('@').map_or(rest, |(_, r)| r).to_string()
    } else if let Some(rest) = u.strip_prefix("git@") {
        rest.replacen(':', "/", 1)
    } else {
        return None;
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    let mut parts = path.splitn(4, '/');
    let (host, owner, repo) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!(
        "https://{}/{}/{}",
        host.to_ascii_lowercase(),
        owner.to_ascii_lowercase(),
        repo.to_ascii_lowercase()
    ))
}

fn npm(args: &[&str]) -> Identity {
    let Some(spec) = package_spec(
        args,
        &["--registry", "--cache", "-c", "--call"],
        &["-p", "--package"],
    ) else {
        return Identity::local("npx");
    };
    if spec.starts_with("git+") || spec.starts_with("github:") || spec.starts_with("git@") {
        return git_identity(spec);
    }
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return Identity {
            registry: "url".into(),
            name: redact_url(spec),
            version: None,
            pin: Pin::Floating("a package fetched from a URL can change at that URL".into()),
            repository: None,
        };
    }
    if spec.starts_with('.') || spec.starts_with('/') || spec.starts_with("file:") {
        return Identity::local(spec);
    }
    // `owner/repo` with no scope is npm's GitHub shorthand.
    if !spec.starts_with('@') && spec.contains('/') {
        return git_identity(&format!("github:{spec}"));
    }
    let at = spec[1..].find('@').map(|i| i + 1);
    let (name, version) = match at {
        Some(i) => (&spec[..i], Some(&spec[i + 1..])),
        None => (spec, None),
    };
    let pin = match version {
        Some(v) if is_exact_semver(v) => Pin::Exact,
        Some(v) => Pin::Floating(format!(
            "`@{}` is a tag or range, not a version",
            crate::classify::report::clean(v, 60)
        )),
        None => Pin::Floating("no version: each start runs whatever is newest".into()),
    };
    Identity {
        registry: "npm".into(),
        name: name.to_string(),
        version: version.map(str::to_string),
        pin,
        repository: None,
    }
}

fn python(args: &[&str]) -> Identity {
    let Some(spec) = package_spec(
        args,
        &[
            "--python",
            "-p",
            "--with",
            "--index-url",
            "--index",
            "--python-version",
        ],
        &["--from", "--spec"],
    ) else {
        return Identity::local("uvx");
    };
    if spec.starts_with("git+") {
        return git_identity(spec);
    }
    if spec.starts_with('.') || spec.starts_with('/') {
        return Identity::local(spec);
    }
    let (name, version, exact) = if let Some((n, v)) = spec.split_once("==") {
        (n, Some(v), true)
    } else if let Some((n, v)) = spec.split_once('@') {
        (n, Some(v), v != "latest")
    } else if let Some(i) = spec.find(['>', '<', '~', '!']) {
        (&spec[..i], Some(&spec[i..]), false)
    } else {
        (spec, None, false)
    };
    let pin = match (version, exact) {
        (Some(_), true) => Pin::Exact,
        (Some(v), false) => Pin::Floating(format!(
            "`{}` is not one version",
            crate::classify::report::clean(v, 60)
        )),
        (None, _) => Pin::Floating("no version: each start runs whatever is newest".into()),
    };
    Identity {
        registry: "pypi".into(),
        name: name.trim().to_string(),
        version: version.map(|v| v.trim_start_matches("==").to_string()),
        pin,
        repository: None,
    }
}

/// `docker run` flags that take a value.
const DOCKER_VALUE_FLAGS: &[&str] = &[
    "-e",
    "--env",
    "--env-file",
    "-v",
    "--volume",
    "--mount",
    "--name",
    "--network",
    "--net",
    "-p",
    "--publish",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--entrypoint",
    "--platform",
    "-l",
    "--label",
    "--cpus",
    "-m",
    "--memory",
    "--add-host",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "--pull",
    "--hostname",
    "-h",
    "--ulimit",
    "--device",
    "--tmpfs",
    "--runtime",
    "--restart",
];

fn oci(args: &[&str]) -> Identity {
    let Some(image) = package_spec(args, DOCKER_VALUE_FLAGS, &[]) else {
        return Identity::local("docker");
    };
    let (name, version, pin) = if let Some((n, d)) = image.split_once('@') {
        (n.to_string(), Some(d.to_string()), Pin::Exact)
    } else {
        // A tag is after the last `:` that follows the last `/` (a registry port is not a tag).
        let slash = image.rfind('/').map_or(0, |i| i + 1);
        match image[slash..].rfind(':') {
            Some(i) => {
                let tag = &image[slash + i + 1..];
                let pin = if tag == "latest" {
                    Pin::Floating("`:latest` moves with every push".into())
                } else {
                    Pin::Exact
                };
                (image[..slash + i].to_string(), Some(tag.to_string()), pin)
            }
            None => (
                image.to_string(),
                None,
                Pin::Floating("no tag: runs `:latest`, which moves with every push".into()),
            ),
        }
    };
    let repository = name
        .strip_prefix("ghcr.io/")
        .and_then(|rest| repository_of(&format!("https://github.com/{rest}")));
    Identity {
        registry: "oci".into(),
        name,
        version,
        pin,
        repository,
    }
}

/// A URL without credentials: userinfo and query values are replaced by `…`.
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        // Not a URL: keep only what cannot be a secret.
        return url.split(['?', '#']).next().unwrap_or("").to_string();
    };
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("redacted");
        let _ = u.set_password(None);
    }
    if u.query().is_some() {
        let keys: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
        let q: Vec<String> = keys.iter().map(|k| format!("{k}=redacted")).collect();
        u.set_query(Some(&q.join("&")));
    }
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(cmd: &str) -> Identity {
        let mut parts = cmd.split(' ').map(str::to_string);
        identify(&Launch::Stdio {
            command: parts.next().unwrap(),
            args: parts.collect(),
            env: vec![],
        })
    }

    #[test]
    fn npx_specs() {
        let i = id("npx -y @modelcontextprotocol/server-filesystem@1.2.3 /tmp");
        assert_eq!(
            (i.registry.as_str(), i.name.as_str(), i.pin),
            ("npm", "@modelcontextprotocol/server-filesystem", Pin::Exact)
        );
        assert!(matches!(id("npx -y some-mcp").pin, Pin::Floating(_)));
        assert!(matches!(id("npx some-mcp@latest").pin, Pin::Floating(_)));
        assert_eq!(id("npx -y owner/repo").registry, "git");
        assert_eq!(id("pnpm dlx pkg@2.0.0").pin, Pin::Exact);
    }

    #[test]
    fn python_and_docker_specs() {
        let i = id("uvx mcp-server-git==0.6.2");
        assert_eq!(
            (i.name.as_str(), i.version.as_deref(), i.pin),
            ("mcp-server-git", Some("0.6.2"), Pin::Exact)
        );
        assert!(matches!(id("uvx mcp-server-fetch").pin, Pin::Floating(_)));
        let d = id("docker run -i --rm -e GITHUB_TOKEN ghcr.io/github/github-mcp-server");
        assert_eq!(d.name, "ghcr.io/github/github-mcp-server");
        assert_eq!(
            d.repository.as_deref(),
            Some("https://github.com/github/github-mcp-server")
        );
        assert!(matches!(d.pin, Pin::Floating(_)));
        assert_eq!(
            id("docker run -i localhost:5000/img:1.0")
                .version
                .as_deref(),
            Some("1.0")
        );
        assert_eq!(id("docker run img@sha256:abc").pin, Pin::Exact);
    }

    #[test]
    fn redacted_url_keeps_no_credentials() {
        let r = redact_url("https://user:hunter2@host.example/mcp?api_key=SECRET&x=1");
        assert!(!r.contains("hunter2") && !r.contains("SECRET"), "{r}");
        assert!(r.contains("api_key=redacted"));
    }
}
