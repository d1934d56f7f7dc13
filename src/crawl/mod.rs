//! The crawler: registries, the MCP client (stdio, Streamable HTTP, legacy SSE), the scheduler.
