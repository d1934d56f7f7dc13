//! Glama (`/v1/servers`, relay-style `pageInfo.endCursor` pagination, tools in the list).

use super::{paginate, registry_tools, s, servers_array, Ctx, Discovered, Next};
use crate::crawl::scheduler::{How, Target};
use crate::model::Server;
use anyhow::Result;
use serde_json::Value;

pub(super) async fn discover(ctx: &Ctx) -> Result<Discovered> {
    let mut out = Discovered::default();
    let query = |after: Option<&str>| {
        let mut q = vec![("first", "100".to_string())];
        if let Some(a) = after {
            q.push(("after", a.to_string()));
        }
        ctx.url("/v1/servers", &q)
    };
    let first = query(None)?;
    paginate(ctx, first, &mut out, |page, url, out| {
        for (i, e) in servers_array(page, url)?.iter().enumerate() {
            let what = format!("glama {url} entry #{}", i + 1);
            let (Some(ns), Some(slug)) = (s(e, "namespace"), s(e, "slug")) else {
                out.problems
                    .push(format!("{what}: no `namespace`/`slug`; skipped"));
                continue;
            };
            let id = format!("glama:{ns}/{slug}");
            let tools = match e.get("tools") {
                Some(Value::Array(a)) if !a.is_empty() => {
                    Some(registry_tools(a, &id, &ctx.limits, &mut out.problems))
                }
                Some(Value::Array(_)) | None | Some(Value::Null) => None,
                Some(other) => {
                    out.problems.push(format!(
                        "{what}: `tools` is {}, not a list; tools skipped",
                        crate::model::json_kind(other)
                    ));
                    None
                }
            };
            let mut entry = ctx.entry(&id, url.as_str());
            entry.repository = e
                .pointer("/repository/url")
                .and_then(Value::as_str)
                .map(str::to_string);
            out.targets.push(Target {
                slug_base: format!("{ns}-{slug}"),
                server: Server {
                    id,
                    name: s(e, "name").unwrap_or_else(|| slug.clone()),
                    description: s(e, "description"),
                    repository: entry.repository.clone(),
                    homepage: s(e, "url"),
                    ..Server::default()
                },
                how: How::None,
                registry_tools: Some(ctx.data(url.to_string(), tools, entry)),
            });
        }
        let has_next = page
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let end = page
            .pointer("/pageInfo/endCursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty());
        Ok(match end {
            Some(c) if has_next => Next::Page {
                url: query(Some(c))?,
                key: c.to_string(),
            },
            _ => Next::End,
        })
    })
    .await?;
    Ok(out)
}
