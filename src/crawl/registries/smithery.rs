//! Smithery (API key required): page-numbered `/servers` listing, then one detail request
//! per server for its tools and connections.

use super::{paginate, registry_tools, s, servers_array, Ctx, Discovered, Next};
use crate::crawl::scheduler::{How, Target};
use crate::model::{Remote, Server};
use anyhow::{bail, Result};
use serde_json::Value;

pub(super) async fn discover(ctx: &Ctx) -> Result<Discovered> {
    if ctx.api_key.is_none() {
        bail!("Smithery needs an API key: set SMITHERY_API_KEY (https://smithery.ai/account/api-keys)");
    }
    let mut out = Discovered::default();
    let mut names = Vec::new();
    let list_url = |page: u64| {
        ctx.url(
            "/servers",
            &[("page", page.to_string()), ("pageSize", "100".to_string())],
        )
    };
    let mut page_no = 1u64;
    paginate(ctx, list_url(1)?, &mut out, |page, url, out| {
        let list = servers_array(page, url)?;
        for (i, e) in list.iter().enumerate() {
            match s(e, "qualifiedName") {
                Some(q) => names.push(q),
                None => out.problems.push(format!(
                    "smithery {url} entry #{}: no `qualifiedName`; skipped",
                    i + 1
                )),
            }
        }
        let total = page
            .pointer("/pagination/totalPages")
            .and_then(Value::as_u64)
            .unwrap_or(page_no);
        if page_no >= total || list.is_empty() {
            return Ok(Next::End);
        }
        page_no += 1;
        Ok(Next::Page {
            url: list_url(page_no)?,
            key: page_no.to_string(),
        })
    })
    .await?;
    for q in names {
        let mut url = ctx.url("/servers", &[])?;
        {
            // The qualified name is one path segment (`/` encoded as %2F).
            let Ok(mut segs) = url.path_segments_mut() else {
                bail!("bad --base-url `{}`", ctx.base)
            };
            segs.push(&q);
        }
        let d = match ctx.get_json(&url).await {
            Ok(d) => d,
            Err(e) => {
                out.problems.push(format!("smithery {q}: {e:#}; skipped"));
                continue;
            }
        };
        let id = format!("smithery:{q}");
        let tools = match d.get("tools") {
            Some(Value::Array(a)) if !a.is_empty() => {
                Some(registry_tools(a, &id, &ctx.limits, &mut out.problems))
            }
            _ => None,
        };
        let remote = d
            .get("connections")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| s(c, "type").as_deref() == Some("http"))
            .and_then(|c| s(c, "deploymentUrl"))
            .or_else(|| s(&d, "deploymentUrl"));
        let remotes: Vec<Remote> = remote
            .into_iter()
            .map(|u| Remote {
                kind: "streamable-http".into(),
                url: u,
            })
            .collect();
        let entry = ctx.entry(&id, url.as_str());
        out.targets.push(Target {
            slug_base: q.trim_start_matches('@').to_string(),
            how: remotes
                .first()
                .map(|r| How::Url(r.url.clone()))
                .unwrap_or(How::None),
            server: Server {
                id: id.clone(),
                name: s(&d, "displayName").unwrap_or_else(|| q.clone()),
                description: s(&d, "description"),
                homepage: s(&d, "homepage"),
                remotes,
                ..Server::default()
            },
            registry_tools: Some(ctx.data(url.to_string(), tools, entry)),
        });
    }
    Ok(out)
}
