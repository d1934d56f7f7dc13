//! PulseMCP (`/v0beta/servers`, absolute `next` links, no tool definitions).

use super::{paginate, s, servers_array, Ctx, Discovered, Next};
use crate::crawl::scheduler::{How, Target};
use crate::model::{Package, Remote, Server};
use anyhow::{Context, Result};
use serde_json::Value;

pub(super) async fn discover(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered::default();
    let first = ctx.url(
        "/v0beta/servers",
        &[
            ("count_per_page", "5000".to_string()),
            ("offset", "0".to_string()),
        ],
    )?;
    paginate(ctx, first, &mut out, |page, url, out| {
        for (i, e) in servers_array(page, url)?.iter().enumerate() {
            let Some(name) = s(e, "name") else {
                out.problems.push(format!(
                    "pulsemcp {url} entry #{}: no `name`; skipped",
                    i + 1
                ));
                continue;
            };
            let package = match (s(e, "package_registry"), s(e, "package_name")) {
                (Some(r), Some(n)) => Some(Package {
                    registry: r,
                    identifier: n,
                    version: None,
                    transport: None,
                }),
                _ => None,
            };
            let remotes: Vec<Remote> = e
                .get("remotes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some(Remote {
                        kind: s(r, "transport").unwrap_or_else(|| "streamable-http".into()),
                        url: s(r, "url_direct")?,
                    })
                })
                .collect();
            let id = match &package {
                Some(p) => format!("{}:{}", p.registry, p.identifier),
                None => format!("pulsemcp:{name}"),
            };
            let mut entry = ctx.entry(&id, url.as_str());
            entry.repository = s(e, "source_code_url");
            out.targets.push(Target {
                slug_base: package
                    .as_ref()
                    .map(|p| p.identifier.clone())
                    .unwrap_or_else(|| name.clone()),
                how: remotes
                    .first()
                    .map(|r| How::Url(r.url.clone()))
                    .unwrap_or(How::None),
                server: Server {
                    id,
                    name,
                    description: s(e, "short_description"),
                    repository: entry.repository.clone(),
                    homepage: s(e, "external_url").or_else(|| s(e, "url")),
                    packages: package.into_iter().collect(),
                    remotes,
                    ..Server::default()
                },
                registry_tools: Some(ctx.data(url.to_string(), None, entry)),
            });
        }
        let Some(next) = page
            .get("next")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            return Ok(Next::End);
        };
        let n = url
            .join(next)
            .with_context(|| format!("pulsemcp: bad `next` URL {next:?}"))?;
        Ok(Next::Page {
            url: n,
            key: next.to_string(),
        })
    })
    .await?;
    Ok(out)
}
