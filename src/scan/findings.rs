//! Findings on the setup itself: secrets written into configs (named by key, never by value),
//! packages that run unpinned, one tool name on two servers of a client (shadowing), and the
//! lethal trifecta — private data, untrusted input and a way out reachable by one agent.

use super::identify::{Identity, Pin};
use super::{contexts, ConfiguredServer, Launch, Options, ServerReport, SetupFinding};
use crate::classify::report::clean;
use crate::model::{Effect, Severity};
use std::collections::BTreeMap;

fn at(s: &ConfiguredServer, kind: &str, severity: Severity, message: String) -> SetupFinding {
    SetupFinding {
        kind: kind.into(),
        severity,
        file: s.file.clone(),
        line: s.line,
        client: Some(s.client),
        server: Some(s.name.clone()),
        message,
    }
}

/// Whether a variable, header or flag name says it holds a secret.
pub fn secret_name(name: &str) -> bool {
    let n = name
        .trim_start_matches('-')
        .to_ascii_uppercase()
        .replace('-', "_");
    const WORDS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTHORIZATION",
        "AUTH",
        "COOKIE",
        "CONNECTION_STRING",
        "DSN",
        "CLIENT_KEY",
    ];
    WORDS.iter().any(|w| n.contains(w))
        || n.ends_with("_KEY")
        || n == "KEY"
        || n.ends_with("_PAT")
        || n.ends_with("_PASS")
        || n == "PAT"
}

/// Whether a value looks like a known credential format, whatever its key.
pub fn secret_shape(value: &str) -> Option<&'static str> {
    let v = value.trim();
    let v = v.strip_prefix("Bearer ").unwrap_or(v);
    const PREFIXES: &[(&str, &str)] = &[
        ("ghp_", "a GitHub token"),
        ("github_pat_", "a GitHub token"),
        ("gho_", "a GitHub token"),
        ("glpat-", "a GitLab token"),
        ("xoxb-", "a Slack token"),
        ("xoxp-", "a Slack token"),
        ("sk-ant-", "an Anthropic key"),
        ("sk-", "an API key"),
        ("AKIA", "an AWS access key"),
        ("AIza", "a Google API key"),
        ("npm_", "an npm token"),
        ("pypi-", "a PyPI token"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| v.starts_with(p) && v.len() >= p.len() + 12)
        .map(|(_, what)| *what)
}

/// Whether a configured value is a reference the client expands (`${VAR}`, `$VAR`,
/// `${input:id}`, `${env:VAR}`), not the secret itself.
pub fn is_reference(value: &str) -> bool {
    let v = value.trim();
    let v = v.strip_prefix("Bearer ").unwrap_or(v).trim();
    v.is_empty()
        || (v.starts_with("${") && v.ends_with('}') && !v[2..v.len() - 1].contains('}'))
        || (v.starts_with('$')
            && v[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || (v.starts_with("{env:") && v.ends_with('}'))
}

fn secret_findings(s: &ConfiguredServer, out: &mut Vec<SetupFinding>) {
    let mut flag = |what: &str, name: &str, why: String| {
        out.push(at(
            s,
            "secret_in_config",
            Severity::Critical,
            format!(
                "{what} `{}` holds {why} in plain text in the config; reference it from the environment or the client's secret input instead (value not shown)",
                clean(name, 80)
            ),
        ));
    };
    let mut check = |what: &str, pairs: &[(String, String)]| {
        for (k, v) in pairs {
            if is_reference(v) {
                continue;
            }
            if secret_name(k) {
                flag(what, k, "a secret".into());
            } else if let Some(shape) = secret_shape(v) {
                flag(what, k, format!("what looks like {shape}"));
            }
        }
    };
    match &s.launch {
        Launch::Stdio { args, env, .. } => {
            check("environment variable", env);
            // `--token VALUE`, `--api-key=VALUE`, docker `-e KEY=VALUE`.
            let mut it = args.iter().peekable();
            while let Some(a) = it.next() {
                if let Some((k, v)) = a.split_once('=') {
                    if k.starts_with('-') && secret_name(k) && !is_reference(v) {
                        flag("argument", k, "a secret".into());
                    }
                    continue;
                }
                if (a == "-e" || a == "--env") && it.peek().is_some_and(|n| n.contains('=')) {
                    let kv = it.next().map(String::as_str).unwrap_or_default();
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    if !is_reference(v) && (secret_name(k) || secret_shape(v).is_some()) {
                        flag("container variable", k, "a secret".into());
                    }
                    continue;
                }
                if a.starts_with("--") && secret_name(a) {
                    if let Some(v) = it.peek() {
                        if !v.starts_with('-') && !is_reference(v) {
                            flag("argument", a, "a secret".into());
                            it.next();
                        }
                    }
                } else if secret_shape(a).is_some() {
                    flag(
                        "argument",
                        &format!("#{}", args.iter().position(|x| x == a).unwrap_or(0) + 1),
                        format!("what looks like {}", secret_shape(a).unwrap_or("a secret")),
                    );
                }
            }
        }
        Launch::Remote { url, headers } => {
            check("header", headers);
            if let Ok(u) = url::Url::parse(url) {
                if u.password().is_some() {
                    flag("URL", "password", "a password".into());
                }
                for (k, v) in u.query_pairs() {
                    if (secret_name(&k) || secret_shape(&v).is_some()) && !is_reference(&v) {
                        flag("URL query parameter", &k, "a secret".into());
                    }
                }
            }
        }
    }
}

/// Findings about one entry: secrets and unpinned packages.
pub fn config_findings(s: &ConfiguredServer, id: &Identity) -> Vec<SetupFinding> {
    let mut out = vec![];
    secret_findings(s, &mut out);
    if let Pin::Floating(why) = &id.pin {
        out.push(at(
            s,
            "unpinned_package",
            Severity::Warning,
            format!(
                "runs {} unpinned: {why}; the tool definitions can change under you (pin an exact version or digest)",
                id.describe()
            ),
        ));
    }
    out
}

/// The finding for a server the catalogue does not know.
pub fn unknown_server(s: &ConfiguredServer, id: &Identity, opts: &Options) -> SetupFinding {
    let how = match (&s.launch, opts.launch, opts.live) {
        (Launch::Stdio { .. }, false, _) => {
            "; --launch starts it in the crawl sandbox to list them"
        }
        (Launch::Remote { .. }, _, false) => "; --live connects to it to list them",
        _ => "",
    };
    at(
        s,
        "unknown_server",
        Severity::Info,
        format!(
            "{} is not in the catalogue: its tools are unknown{how}",
            id.describe()
        ),
    )
}

fn report_at(s: &ServerReport, kind: &str, severity: Severity, message: String) -> SetupFinding {
    SetupFinding {
        kind: kind.into(),
        severity,
        file: s.file.clone(),
        line: s.line,
        client: Some(s.client),
        server: Some(s.name.clone()),
        message,
    }
}

/// Findings across servers: version drift from the catalogue, shadowing, the trifecta.
pub fn setup_findings(servers: &[ServerReport]) -> Vec<SetupFinding> {
    let mut out = vec![];
    for s in servers {
        if let Some(m) = &s.catalogue {
            if let Some(v) = &m.catalogued_version {
                out.push(report_at(s, "version_differs", Severity::Info, format!(
                    "configured {}, the catalogue crawled version {}: the verdicts are for that version",
                    s.identity, clean(v, 60))));
            }
        }
    }
    for (client, project, members) in contexts(servers) {
        let scope = match &project {
            Some(p) => format!("{client} in {}", clean(p, 200)),
            None => client.to_string(),
        };
        // Shadowing: one tool name on two servers.
        let mut by_name: BTreeMap<&str, Vec<&ServerReport>> = BTreeMap::new();
        for s in &members {
            for c in &s.tools {
                by_name.entry(c.name.as_str()).or_default().push(s);
            }
        }
        for (tool, owners) in &by_name {
            if owners.len() > 1 {
                let names: Vec<String> = owners
                    .iter()
                    .map(|s| format!("`{}`", clean(&s.name, 80)))
                    .collect();
                out.push(report_at(owners[1], "shadowed_tool", Severity::Warning, format!(
                    "tool `{}` is offered by {} servers of {scope} ({}): a call may reach the wrong one",
                    clean(tool, 80), owners.len(), names.join(", "))));
            }
        }
        // The lethal trifecta.
        let tools: Vec<(&ServerReport, &crate::model::Classification)> = members
            .iter()
            .flat_map(|s| s.tools.iter().map(move |c| (*s, c)))
            .collect();
        let find = |pred: &dyn Fn(&crate::model::Classification) -> bool, not: &[&str]| {
            tools
                .iter()
                .find(|(_, c)| pred(c) && !not.contains(&c.name.as_str()))
                .or_else(|| tools.iter().find(|(_, c)| pred(c)))
                .copied()
        };
        let private = find(
            &|c| {
                c.effects
                    .iter()
                    .any(|e| matches!(e, Effect::PrivateData | Effect::Credentials))
            },
            &[],
        );
        let untrusted = private.and_then(|p| {
            find(
                &|c| c.effects.contains(&Effect::UntrustedInput),
                &[p.1.name.as_str()],
            )
        });
        let out_tool = match (private, untrusted) {
            (Some(p), Some(u)) => find(
                &|c| {
                    c.effects
                        .iter()
                        .any(|e| matches!(e, Effect::Send | Effect::Network))
                },
                &[p.1.name.as_str(), u.1.name.as_str()],
            ),
            _ => None,
        };
        if let (Some(p), Some(u), Some(o)) = (private, untrusted, out_tool) {
            let name = |(s, c): (&ServerReport, &crate::model::Classification)| {
                format!("`{}` ({})", clean(&c.name, 80), clean(&s.name, 80))
            };
            out.push(report_at(p.0, "lethal_trifecta", Severity::Critical, format!(
                "one agent of {scope} can read private data with {}, take in untrusted content with {}, and send data out with {}: injected instructions can exfiltrate; deny or gate one of the three",
                name(p), name(u), name(o))));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_not_secrets() {
        for r in [
            "${GITHUB_TOKEN}",
            "$TOKEN",
            "${input:pat}",
            "${env:X}",
            "Bearer ${T}",
            "",
        ] {
            assert!(is_reference(r), "{r}");
        }
        for l in ["abc", "${A}${B}x", "Bearer abc"] {
            assert!(!is_reference(l), "{l}");
        }
        assert!(secret_name("GITHUB_PERSONAL_ACCESS_TOKEN"));
        assert!(secret_name("--api-key"));
        assert!(!secret_name("LOG_LEVEL"));
        assert_eq!(
            secret_shape("ghp_0123456789abcdefghij"),
            Some("a GitHub token")
        );
    }
}
