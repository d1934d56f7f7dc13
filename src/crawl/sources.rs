//! `sources.yaml`: the list of servers to crawl live (a package with its launch command and
//! dummy environment, or a remote URL), and its conversion into crawl targets.

use super::scheduler::{How, Target};
use crate::model::{Package, Remote, Server};
use anyhow::Result;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcesFile {
    /// Parent environment variables passed to every launched server by name (proxies, …).
    #[serde(default)]
    pub pass_env: Vec<String>,
    pub servers: Vec<SourceEntry>,
}

/// One server to crawl.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    /// Identity; derived from the package (`npm:@scope/name`) or URL when absent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub homepage: Option<String>,
    #[serde(default)]
    pub package: Option<Package>,
    /// Launch command line; `{scratch}`, `{home}` and `{work}` become the scratch paths.
    #[serde(default)]
    pub command: Option<String>,
    /// Environment with dummy values (same placeholders).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Dummy files the server needs, written into the scratch folder before the start:
    /// path relative to the scratch folder (`home/...` or `work/...`) → content.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// A remote endpoint (Streamable HTTP or SSE) instead of a command.
    #[serde(default)]
    pub url: Option<String>,
    /// Free text for people (why a server needs what it needs).
    #[serde(default)]
    pub note: Option<String>,
}

/// Reads and checks a sources file; errors name the file, the entry and the field.
pub fn load(path: &Path) -> Result<SourcesFile> {
    let text = crate::bounded::read_text(path, crate::catalogue::MAX_FILE_BYTES)?;
    crate::bounded::check_yaml_depth(&text, crate::bounded::MAX_YAML_DEPTH)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let file: SourcesFile = serde_yaml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), crate::catalogue::yaml_error(&e)))?;
    for (i, s) in file.servers.iter().enumerate() {
        if s.command.is_none() && s.url.is_none() {
            anyhow::bail!(
                "{}: server #{} ({}) has neither `command` nor `url`",
                path.display(),
                i + 1,
                s.id.as_deref()
                    .or(s.package.as_ref().map(|p| p.identifier.as_str()))
                    .unwrap_or("?")
            );
        }
    }
    Ok(file)
}

/// The identity of an entry.
pub fn entry_id(s: &SourceEntry) -> String {
    if let Some(id) = &s.id {
        return id.clone();
    }
    if let Some(p) = &s.package {
        return format!("{}:{}", p.registry, p.identifier);
    }
    if let Some(u) = &s.url {
        return format!("url:{u}");
    }
    format!("stdio:{}", s.command.as_deref().unwrap_or_default())
}

/// Base for the slug: the package name, else the id.
pub fn slug_base(s: &SourceEntry) -> String {
    s.package
        .as_ref()
        .map(|p| p.identifier.clone())
        .unwrap_or_else(|| entry_id(s))
}

/// Turns entries into targets (slugs are assigned later against the catalogue).
pub fn targets(file: &SourcesFile) -> Result<Vec<Target>> {
    let mut out = Vec::new();
    for s in &file.servers {
        let id = entry_id(s);
        let how = match (&s.command, &s.url) {
            (Some(cmd), _) => How::Launch {
                argv: super::stdio::split_command(cmd)
                    .map_err(|e| anyhow::anyhow!("server {id}: field `command`: {e}"))?,
                env: s.env.clone(),
                pass_env: file.pass_env.clone(),
                files: s.files.clone(),
            },
            (None, Some(url)) => How::Url(url.clone()),
            (None, None) => anyhow::bail!("server {id}: needs `command` or `url`"),
        };
        let name = s.name.clone().unwrap_or_else(|| {
            s.package
                .as_ref()
                .map(|p| p.identifier.clone())
                .unwrap_or_else(|| id.clone())
        });
        let server = Server {
            id: id.clone(),
            name,
            description: s.description.clone(),
            version: s.package.as_ref().and_then(|p| p.version.clone()),
            repository: s.repository.clone(),
            homepage: s.homepage.clone(),
            packages: s.package.iter().cloned().collect(),
            remotes: s
                .url
                .iter()
                .map(|u| Remote {
                    kind: "streamable-http".into(),
                    url: u.clone(),
                })
                .collect(),
            ..Server::default()
        };
        out.push(Target {
            slug_base: slug_base(s),
            server,
            how,
            registry_tools: None,
        });
    }
    Ok(out)
}
