//! `--launch` / `--live`: listing the tools of a server the catalogue does not know, through
//! the crawler's own entry point (`crawl::scheduler::run`, the one `crawl --stdio` and
//! `crawl --url` use), so the same limits, scratch folder and sandbox apply. The record goes
//! to a private temporary catalogue, never the user's.
//!
//! The launched server gets the *names* of the variables its config sets, with dummy values:
//! the user's secrets are not handed to a process started for inspection. Remote servers are
//! contacted without the configured headers for the same reason.

use super::identify::Identity;
use super::matching::Index;
use super::{ConfiguredServer, Launch};
use crate::catalogue::Catalogue;
use crate::crawl::scheduler::{self, How, Target};
use crate::model::{Classification, Package, Remote, Server};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Starts or contacts servers when asked, one private catalogue for the run.
pub struct Launcher {
    launch: bool,
    live: bool,
    dir: Option<PathBuf>,
}

impl Drop for Launcher {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Why the tools of a configured server could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchError {
    /// This run could not set up the crawl (its private catalogue, the runtime, reading the
    /// record back).
    Setup(String),
    /// The crawl ran but wrote no record.
    NoRecord,
    /// The server did not start or answer: the crawler's error.
    Failed(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::Setup(m) | LaunchError::Failed(m) => f.write_str(m),
            LaunchError::NoRecord => f.write_str("the crawl wrote no record"),
        }
    }
}

impl std::error::Error for LaunchError {}

fn private_dir() -> Result<PathBuf, LaunchError> {
    use std::os::unix::fs::DirBuilderExt;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("toolrisk-scan-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| LaunchError::Setup(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

fn package_cache() -> Option<PathBuf> {
    crate::crawl::targets::default_package_cache()
}

impl Launcher {
    pub fn new(launch: bool, live: bool) -> Launcher {
        Launcher {
            launch,
            live,
            dir: None,
        }
    }

    /// The tools of `s`, when this run may reach it: `Ok(None)` when it may not.
    pub fn tools(
        &mut self,
        s: &ConfiguredServer,
        id: &Identity,
        index: &Index,
    ) -> Result<Option<(Vec<Classification>, &'static str)>, LaunchError> {
        let slug_base = crate::slug::slugify(&s.name);
        let (how, from, server) = match &s.launch {
            Launch::Stdio { command, args, env } if self.launch => {
                let mut argv = vec![command.clone()];
                argv.extend(args.iter().cloned());
                let env: BTreeMap<String, String> = env
                    .iter()
                    .map(|(k, _)| (k.clone(), "toolrisk-dummy".to_string()))
                    .collect();
                let packages = match id.registry.as_str() {
                    "npm" | "pypi" | "oci" => vec![Package {
                        registry: id.registry.clone(),
                        identifier: id.name.clone(),
                        version: id.version.clone(),
                        transport: Some("stdio".into()),
                    }],
                    _ => vec![],
                };
                let how = How::Launch {
                    argv,
                    env,
                    pass_env: vec![],
                    files: BTreeMap::new(),
                };
                (
                    how,
                    "launched",
                    Server {
                        packages,
                        ..Server::default()
                    },
                )
            }
            Launch::Remote { url, .. } if self.live => {
                let server = Server {
                    remotes: vec![Remote {
                        kind: "streamable-http".into(),
                        url: url.clone(),
                    }],
                    ..Server::default()
                };
                (How::Url(url.clone()), "live", server)
            }
            _ => return Ok(None),
        };
        if self.dir.is_none() {
            self.dir = Some(private_dir()?);
        }
        let dir = self.dir.clone().unwrap_or_default();
        let target = Target {
            server: Server {
                id: format!("scan:{}:{}", s.client, s.name),
                name: s.name.clone(),
                ..server
            },
            slug_base,
            how,
            registry_tools: None,
        };
        let opts = scheduler::Options {
            catalogue: Catalogue::new(&dir),
            limits: crate::crawl::Limits::default(),
            concurrency: 1,
            shard: None,
            launch: self.launch,
            live: self.live,
            package_cache: package_cache(),
            resume_since: None,
            only_failed: false,
            progress_bar: false,
            quiet: true,
            polite: crate::crawl::http::Politeness::new(Duration::from_millis(0)),
            sandbox: Default::default(),
            pass_proxy: false,
            force: true,
            resource_limits: Default::default(),
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| LaunchError::Setup(e.to_string()))?;
        rt.block_on(scheduler::run(vec![target], &opts))
            .map_err(|e| LaunchError::Setup(e.to_string()))?;
        let loaded = Catalogue::new(&dir)
            .load()
            .map_err(|e| LaunchError::Setup(e.to_string()))?;
        let Some(record) = loaded
            .servers
            .into_iter()
            .find(|r| r.id == format!("scan:{}:{}", s.client, s.name))
        else {
            return Err(LaunchError::NoRecord);
        };
        if record.crawl.status == crate::model::CrawlStatus::Failed {
            return Err(LaunchError::Failed(
                record
                    .crawl
                    .last_error
                    .unwrap_or_else(|| "crawl failed".into()),
            ));
        }
        Ok(Some((index.classify(&record), from)))
    }
}
