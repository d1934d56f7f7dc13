//! toolrisk: catalogue the tools MCP servers give AI agents, classify each by rules, publish the
//! catalogue as a static site and answer queries about it.
//!
//! Every stage is a library module with a plain API; the binary (`src/main.rs`) only parses
//! arguments and calls it.

pub mod bounded;
pub mod catalogue;
pub mod check;
pub mod classify;
pub mod crawl;
pub mod export;
pub mod index;
pub mod model;
pub mod scan;
pub mod site;
pub mod slug;
pub mod text;
