//! The JSON API: `/api/index.json`, `/api/servers/<slug>.json`, `/api/tools/<server>/<tool>.json`.

use super::*;

/// The API's version (`/api/index.json`): raised when a field is removed or changes meaning.
pub const VERSION: u32 = 1;

/// `/api/index.json`.
pub(crate) fn write_index(site: &Site, out: &Output, risks: &Value, classes: &Value) -> Result<()> {
    // API index: servers, not tools, so its size grows with servers only. Typed rather than
    // built as JSON values: at 25,000 servers that was most of this function's time.
    #[derive(serde::Serialize)]
    struct ApiServer<'a> {
        id: &'a str,
        slug: &'a str,
        name: &'a str,
        tools: u32,
        max_risk: Option<Risk>,
        api: String,
    }
    #[derive(serde::Serialize)]
    struct ApiIndex<'a> {
        version: u32,
        servers_count: usize,
        tools_count: usize,
        risks: &'a Value,
        classes: &'a Value,
        servers: Vec<ApiServer<'a>>,
    }
    let index = ApiIndex {
        version: VERSION,
        servers_count: site.servers.len(),
        tools_count: site.tools.len(),
        risks,
        classes,
        servers: site
            .servers
            .iter()
            .map(|s| ApiServer {
                id: &s.id,
                slug: &s.slug,
                name: &s.name,
                tools: s.tool_count,
                max_risk: s.max_risk,
                api: site.url(&format!("/api/servers/{}.json", s.slug)),
            })
            .collect(),
    };
    out.write("api/index.json", &serde_json::to_vec(&index)?)?;

    Ok(())
}

/// `/api/tools/<server>/<tool>.json`: the definition and its classification.
pub(crate) fn tool_record(
    server: &Server,
    slug: &str,
    tool: Value,
    classification: &Classification,
    url: String,
) -> Result<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct ServerRef<'a> {
        id: &'a str,
        slug: &'a str,
        name: &'a str,
    }
    #[derive(serde::Serialize)]
    struct ToolApi<'a> {
        server: ServerRef<'a>,
        tool: Value,
        classification: &'a Classification,
        url: String,
    }
    let api = ToolApi {
        server: ServerRef {
            id: &server.id,
            slug,
            name: &server.name,
        },
        tool,
        classification,
        url,
    };
    Ok(serde_json::to_vec(&api)?)
}

/// `/api/servers/<slug>.json`: the record and its classifications.
pub(crate) fn server_record(
    server: &Server,
    classifications: &[Classification],
    url: String,
) -> Result<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct ServerApi<'a> {
        server: &'a Server,
        classifications: &'a [Classification],
        url: String,
    }
    Ok(serde_json::to_vec(&ServerApi {
        server,
        classifications,
        url,
    })?)
}
