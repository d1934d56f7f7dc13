//! Crawl targets given on the command line: one stdio command (`crawl --stdio`) or one URL
//! (`crawl --url`), the `--env K=V` pairs, and the default package cache.

use super::scheduler::{How, Target};
use crate::model::{Package, Server};
use std::path::PathBuf;

/// `K=V` pairs into a map; an empty name or a missing `=` is an error naming the pair.
pub fn parse_env(pairs: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut env = std::collections::BTreeMap::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--env `{p}`: expected K=V"))?;
        if k.is_empty() {
            anyhow::bail!("--env `{p}`: empty variable name");
        }
        env.insert(k.to_string(), v.to_string());
    }
    Ok(env)
}

/// `$XDG_CACHE_HOME/toolrisk/packages`, else `~/.cache/toolrisk/packages`.
pub fn default_package_cache() -> Option<PathBuf> {
    // As root, launched servers run as a separate unprivileged user, which must be able to
    // reach the install folders: the system cache folder, not /root's.
    // SAFETY: geteuid has no preconditions.
    if std::env::var_os("XDG_CACHE_HOME").is_none() && unsafe { libc::geteuid() } == 0 {
        return Some(PathBuf::from("/var/cache/toolrisk/packages"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("toolrisk").join("packages"))
}

/// For `npx -y @scope/pkg@1.2 …` or `uvx [--from X] pkg …`: the package, so the record gets
/// the same id and slug as a crawl from a sources file would give it.
pub fn guess_package(argv: &[String]) -> Option<Package> {
    let prog = std::path::Path::new(argv.first()?)
        .file_name()?
        .to_str()?
        .to_string();
    let registry = match prog.as_str() {
        "npx" => "npm",
        "uvx" => "pypi",
        _ => return None,
    };
    let mut it = argv[1..].iter();
    let mut from = None;
    let mut first = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--from" => from = it.next().cloned(),
            "--with" | "-p" | "--package" | "--python" => {
                let v = it.next().cloned();
                if a == "-p" || a == "--package" {
                    from = v;
                }
            }
            s if s.starts_with('-') => {}
            s => {
                first = Some(s.to_string());
                break;
            }
        }
    }
    let spec = from.or(first)?;
    let (name, version) = split_version(&spec, registry);
    Some(Package {
        registry: registry.into(),
        identifier: name,
        version,
        transport: Some("stdio".into()),
    })
}

/// `name@1.2` (npm) or `name==1.2` / `name@1.2` (PyPI) into name and version.
pub fn split_version(spec: &str, registry: &str) -> (String, Option<String>) {
    if registry == "npm" {
        // `@scope/name@1.2.3` or `name@1.2.3`
        let at = spec[1..].find('@').map(|i| i + 1);
        if let Some(i) = at {
            return (spec[..i].to_string(), Some(spec[i + 1..].to_string()));
        }
    } else if let Some((n, v)) = spec.split_once("==").or_else(|| spec.split_once('@')) {
        return (n.to_string(), Some(v.to_string()));
    }
    (spec.to_string(), None)
}

/// The target of `crawl --stdio 'COMMAND'`.
pub fn stdio_target(
    cmd: &str,
    id: Option<&str>,
    env: std::collections::BTreeMap<String, String>,
) -> anyhow::Result<Target> {
    let mut argv = super::stdio::split_command(cmd).map_err(anyhow::Error::msg)?;
    // The server runs in a scratch folder: arguments naming files here (a local script)
    // are made absolute so that `--stdio 'python3 server.py'` works as typed.
    for a in argv.iter_mut() {
        let p = std::path::Path::new(a.as_str());
        if p.is_relative() && !a.starts_with('-') && p.exists() {
            if let Ok(abs) = std::fs::canonicalize(p) {
                *a = abs.to_string_lossy().into_owned();
            }
        }
    }
    let package = guess_package(&argv);
    let id = id.map(str::to_string).unwrap_or_else(|| match &package {
        Some(p) => format!("{}:{}", p.registry, p.identifier),
        None => format!("stdio:{cmd}"),
    });
    let slug_base = package
        .as_ref()
        .map(|p| p.identifier.clone())
        .unwrap_or_else(|| {
            // A local command: name it after the program and its first argument.
            argv.iter()
                .take(2)
                .map(|a| {
                    std::path::Path::new(a)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or(a)
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join("-")
        });
    Ok(Target {
        server: Server {
            id,
            name: package
                .as_ref()
                .map(|p| p.identifier.clone())
                .unwrap_or_else(|| slug_base.clone()),
            version: package.as_ref().and_then(|p| p.version.clone()),
            packages: package.into_iter().collect(),
            ..Server::default()
        },
        slug_base,
        how: How::Launch {
            argv,
            env,
            pass_env: Vec::new(),
            files: Default::default(),
        },
        registry_tools: None,
    })
}

/// The target of `crawl --url URL`.
pub fn url_target(url: &str, id: Option<&str>) -> anyhow::Result<Target> {
    let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("--url `{url}`: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("--url `{url}`: only http and https are supported");
    }
    let base = format!(
        "{}{}",
        parsed.host_str().unwrap_or("server"),
        parsed.path().trim_end_matches('/')
    );
    Ok(Target {
        server: Server {
            id: id
                .map(str::to_string)
                .unwrap_or_else(|| format!("url:{url}")),
            name: base.clone(),
            remotes: vec![crate::model::Remote {
                kind: "streamable-http".into(),
                url: url.to_string(),
            }],
            ..Server::default()
        },
        slug_base: base,
        how: How::Url(url.to_string()),
        registry_tools: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_packages_from_launchers() {
        let p = guess_package(&["npx".into(), "-y".into(), "@a/b@1.2".into()]).unwrap();
        assert_eq!(
            (p.identifier.as_str(), p.version.as_deref()),
            ("@a/b", Some("1.2"))
        );
        let argv: Vec<String> = ["uvx", "--with", "mcp<2", "--from", "x-y==2", "x_y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = guess_package(&argv).unwrap();
        assert_eq!(
            (p.identifier.as_str(), p.version.as_deref()),
            ("x-y", Some("2"))
        );
        assert!(guess_package(&["python3".into(), "s.py".into()]).is_none());
    }
}
