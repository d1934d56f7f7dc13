//! Finding a configured server in the catalogue: by package (registry and identifier), by
//! remote URL, then by source repository.

use super::identify::{repository_of, Identity};
use super::SetupFinding;
use crate::catalogue::Catalogue;
use crate::classify::Classifier;
use crate::model::{Classification, Server, Severity};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The record a server matched, and by what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matched {
    pub slug: String,
    /// `package`, `remote` or `repository`.
    pub by: &'static str,
    /// The version the catalogue crawled, when it differs from the configured one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalogued_version: Option<String>,
}

/// The catalogue, indexed for matching.
pub struct Index {
    servers: Vec<Server>,
    classifier: Option<Classifier>,
    packages: HashMap<(String, String), usize>,
    remotes: HashMap<String, usize>,
    repositories: HashMap<String, usize>,
}

/// A package name as registries compare it: npm lower-cased, PyPI normalised (PEP 503),
/// images without `docker.io/` or `library/`.
pub fn package_key(registry: &str, name: &str) -> (String, String) {
    let reg = registry.to_ascii_lowercase();
    let n = name.trim().to_ascii_lowercase();
    let n = match reg.as_str() {
        "pypi" => n.replace(['_', '.'], "-"),
        "oci" => n
            .trim_start_matches("docker.io/")
            .trim_start_matches("index.docker.io/")
            .trim_start_matches("library/")
            .to_string(),
        _ => n,
    };
    (reg, n)
}

/// A URL as endpoints compare: scheme and host lower-cased, no query, no trailing `/`.
pub fn remote_key(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => url.trim_end_matches('/').to_ascii_lowercase(),
    }
}

impl Index {
    /// Loads the catalogue at `dir`. A missing catalogue is a finding, not an error: every
    /// server is then unknown.
    pub fn load(dir: &Path, findings: &mut Vec<SetupFinding>) -> anyhow::Result<Index> {
        let mut idx = Index {
            servers: vec![],
            classifier: None,
            packages: HashMap::new(),
            remotes: HashMap::new(),
            repositories: HashMap::new(),
        };
        let cat = Catalogue::new(dir);
        if !cat.servers_dir().is_dir() {
            findings.push(SetupFinding {
                kind: "no_catalogue".into(),
                severity: Severity::Info,
                file: dir.to_path_buf(),
                line: None,
                client: None,
                server: None,
                message: "no catalogue here (use --catalogue DIR): servers cannot be matched to known tools".into(),
            });
            return Ok(idx);
        }
        let loaded = cat.load()?;
        for e in &loaded.errors {
            findings.push(SetupFinding {
                kind: "catalogue_error".into(),
                severity: Severity::Warning,
                file: e.path.clone(),
                line: None,
                client: None,
                server: None,
                message: e.message.clone(),
            });
        }
        idx.classifier = Some(Classifier::for_catalogue(dir, None)?);
        for (i, s) in loaded.servers.iter().enumerate() {
            for p in &s.packages {
                idx.packages
                    .entry(package_key(&p.registry, &p.identifier))
                    .or_insert(i);
            }
            for r in &s.remotes {
                idx.remotes.entry(remote_key(&r.url)).or_insert(i);
            }
            if let Some(repo) = s.repository.as_deref().and_then(repository_of) {
                idx.repositories.entry(repo).or_insert(i);
            }
        }
        idx.servers = loaded.servers;
        Ok(idx)
    }

    /// The catalogue record of a configured server, if any.
    pub fn find(&self, id: &Identity) -> Option<(Matched, &Server)> {
        let hit = |i: usize, by: &'static str| {
            let s = &self.servers[i];
            let catalogued_version = s
                .packages
                .iter()
                .find(|p| {
                    package_key(&p.registry, &p.identifier) == package_key(&id.registry, &id.name)
                })
                .and_then(|p| p.version.clone())
                .or_else(|| s.version.clone())
                .filter(|v| {
                    id.version
                        .as_deref()
                        .is_some_and(|c| c != v && !c.starts_with("sha256:"))
                });
            (
                Matched {
                    slug: s.slug.clone(),
                    by,
                    catalogued_version,
                },
                s,
            )
        };
        if let Some(&i) = self.packages.get(&package_key(&id.registry, &id.name)) {
            return Some(hit(i, "package"));
        }
        if id.registry == "remote" {
            if let Some(&i) = self.remotes.get(&remote_key(&id.name)) {
                return Some(hit(i, "remote"));
            }
        }
        let repo = id.repository.clone().or_else(|| repository_of(&id.name));
        if let Some(&i) = repo.as_ref().and_then(|r| self.repositories.get(r)) {
            return Some(hit(i, "repository"));
        }
        None
    }

    /// The verdicts of a record's tools.
    pub fn classify(&self, server: &Server) -> Vec<Classification> {
        match &self.classifier {
            Some(c) => c.classify_server(server),
            None => Classifier::builtin().classify_server(server),
        }
    }
}
