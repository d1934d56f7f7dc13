//! The catalogue record (one per server) and the classification of a tool.
//!
//! These types are the contract between the stages: the crawler writes `Server`s, the
//! classifier turns a `Tool` into a `Classification`, and the site, query and policy stages
//! read both. Field order here is the key order in the YAML files, so keep it stable.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// One MCP server: what it is, where it came from, and the tools it offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Stable identity: the registry name (e.g. `io.github.owner/repo`) or one derived from
    /// the package (`npm:@scope/name`).
    pub id: String,
    /// URL-safe, unique and stable name used for the file name and the site's URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the server is for, in its author's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Version of the package or server that was crawled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Source repository URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Home page or registry page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Installable packages (npm, PyPI, OCI, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    /// Remote endpoints (Streamable HTTP or SSE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remotes: Vec<Remote>,
    /// Where each fact came from, and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provenance: Vec<Provenance>,
    /// Outcome of the last crawl.
    #[serde(default)]
    pub crawl: CrawlState,
    /// The tool definitions, as the server or registry gave them.
    #[serde(default)]
    pub tools: Vec<Tool>,
    /// Tool definition changes between crawls, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// What the installed package says about itself (package.json or the wheel's METADATA),
    /// read by a launch crawl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_metadata: Option<PackageMetadata>,
    /// What registries (Docker, ToolHive, the official registry, …) say about the server:
    /// category, tags, the environment it needs, their own names for it, and where the
    /// sources disagree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_metadata: Option<RegistryMetadata>,
}

/// Registry facts about a server, one entry per registry, with the disagreements found
/// between its sources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryMetadata {
    /// One entry per registry that lists the server, in the order they were first seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<RegistryEntry>,
    /// Where the sources of this record disagree (tool lists, versions, repositories).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<Disagreement>,
}

/// What one registry says about a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryEntry {
    /// The registry (`docker`, `toolhive`, `official`, …), as in `provenance[].source`.
    pub source: String,
    /// The registry's own name for the server (`docker:stripe`, `io.github.stacklok/time`).
    pub id: String,
    /// File or URL the entry was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// RFC 3339 time of the read.
    pub fetched_at: String,
    /// The registry's category (`productivity`, `devops`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The registry's tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Environment variables the registry says the server reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    /// Version the registry lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Repository the registry lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Whether the registry carries full tool definitions for the server.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tool_definitions: bool,
    /// Names of the tools the registry lists (with or without definitions), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_names: Vec<String>,
}

/// One environment variable a server needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    pub name: String,
    /// What it is for, in the registry's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The server does not start without it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// It holds a secret (API key, token, password): never put a real value in a file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// Two or more sources of one record that say different things about the same fact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disagreement {
    /// `tools`, `version` or `repository`.
    pub field: String,
    /// What each source says, one line per source (`docker: 12 tools`, …).
    pub values: Vec<SourceValue>,
    /// The difference, for a person (`only in docker: a, b; only in npm-launch: c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What one source says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceValue {
    pub source: String,
    pub value: String,
}

/// Metadata of an installed package, as the package itself declares it, with where it was
/// read. Every field is the package author's text (untrusted: escaped where shown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageMetadata {
    /// `npm package.json` or `PyPI wheel METADATA`.
    pub source: String,
    /// The file inside the install, e.g. `node_modules/@scope/name/package.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// SPDX expression or the licence text's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Author or publisher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// When this version was published (RFC 3339, from the registry), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
}

/// An installable package of a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// `npm`, `pypi`, `oci`, `nuget`, `mcpb`, …
    pub registry: String,
    /// Package name in that registry.
    pub identifier: String,
    /// Package version, when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `stdio`, `streamable-http` or `sse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
}

/// A remote endpoint of a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Remote {
    /// `streamable-http` or `sse`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Endpoint URL.
    pub url: String,
}

/// Where a fact in the record came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// `npm-launch`, `pypi-launch`, `stdio`, `streamable-http`, `sse`, `official`, `glama`,
    /// `smithery`, `pulsemcp`, `toolhive`, `docker`, `file`, …
    pub source: String,
    /// RFC 3339 time of the fetch.
    pub fetched_at: String,
    /// MCP protocol revision negotiated with the server, for live fetches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
    /// URL or command the fact was fetched from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Whether this source supplied the tool definitions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tools: bool,
}

/// Outcome of the last crawl of a server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrawlState {
    /// `ok`, `failed`, `partial`, `never` or `tools_unknown`.
    #[serde(default)]
    pub status: CrawlStatus,
    /// `sha256:` of the canonical JSON of the tool list, to tell changes apart cheaply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_hash: Option<String>,
    /// RFC 3339 time of the last successful crawl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// RFC 3339 time of the last attempt, successful or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<String>,
    /// The error of the last attempt, if it failed.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// Crawl outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CrawlStatus {
    /// Never crawled.
    #[default]
    Never,
    /// The last crawl succeeded.
    Ok,
    /// The last crawl got some tools but hit a limit or an error.
    Partial,
    /// The last crawl failed; the tools are those of the last good crawl.
    Failed,
    /// A registry lists the server but not its tools, and no tools were fetched from it:
    /// the tool list is unknown, not empty.
    ToolsUnknown,
}

impl CrawlStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CrawlStatus::Never => "never",
            CrawlStatus::Ok => "ok",
            CrawlStatus::Partial => "partial",
            CrawlStatus::Failed => "failed",
            CrawlStatus::ToolsUnknown => "tools_unknown",
        }
    }
}

/// One tool definition, kept as received: the protocol's fields under snake_case names, and
/// every other field of the definition verbatim in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// The tool's name (`name`).
    pub name: String,
    /// Display title (`title`, 2025-06-18+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description (`description`); may be truncated, see `description_truncated_from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Input JSON Schema (`inputSchema`), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Value>,
    /// Output JSON Schema (`outputSchema`), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// Annotations (`annotations`), verbatim: an absent key stays absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    /// Every other field of the definition (`_meta`, `icons`, `execution`, …), verbatim.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// Length in bytes of the description as received, when it was longer than the stored
    /// limit and was truncated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_truncated_from: Option<u64>,
}

/// Why a raw `tools/list` entry is not a tool (the JSON kinds found are named).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolJsonError {
    /// The entry is not an object (its JSON kind).
    NotAnObject(&'static str),
    /// `name` is there but not a string (its JSON kind).
    NameNotAString(&'static str),
    /// No `name`.
    NoName,
}

impl std::fmt::Display for ToolJsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolJsonError::NotAnObject(k) => write!(f, "a tool must be a JSON object, got {k}"),
            ToolJsonError::NameNotAString(k) => {
                write!(f, "tool `name` must be a string, got {k}")
            }
            ToolJsonError::NoName => f.write_str("tool has no `name`"),
        }
    }
}

impl std::error::Error for ToolJsonError {}

impl Tool {
    /// Builds a tool from a raw `tools/list` entry. Unknown fields go to `extra`.
    /// Fails only when `name` is missing or not a string.
    pub fn from_json(raw: &Value) -> Result<Tool, ToolJsonError> {
        let obj = raw
            .as_object()
            .ok_or_else(|| ToolJsonError::NotAnObject(json_kind(raw)))?;
        let name = match obj.get("name") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(ToolJsonError::NameNotAString(json_kind(other))),
            None => return Err(ToolJsonError::NoName),
        };
        let text = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_string);
        let mut tool = Tool {
            name,
            title: text("title"),
            description: text("description"),
            input_schema: obj.get("inputSchema").cloned(),
            output_schema: obj.get("outputSchema").filter(|v| !v.is_null()).cloned(),
            annotations: obj.get("annotations").filter(|v| !v.is_null()).cloned(),
            ..Tool::default()
        };
        for (k, v) in obj {
            match k.as_str() {
                "name" | "inputSchema" | "outputSchema" | "annotations" => {}
                "title" | "description" if v.is_string() || v.is_null() => {}
                _ => {
                    tool.extra.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(tool)
    }

    /// The definition back in the protocol's JSON shape.
    pub fn to_json(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("name".into(), Value::String(self.name.clone()));
        if let Some(t) = &self.title {
            obj.insert("title".into(), Value::String(t.clone()));
        }
        if let Some(d) = &self.description {
            obj.insert("description".into(), Value::String(d.clone()));
        }
        if let Some(s) = &self.input_schema {
            obj.insert("inputSchema".into(), s.clone());
        }
        if let Some(s) = &self.output_schema {
            obj.insert("outputSchema".into(), s.clone());
        }
        if let Some(a) = &self.annotations {
            obj.insert("annotations".into(), a.clone());
        }
        for (k, v) in &self.extra {
            obj.insert(k.clone(), v.clone());
        }
        Value::Object(obj)
    }

    /// Display name: `title`, then `annotations.title`, then `name`.
    pub fn display_name(&self) -> &str {
        if let Some(t) = self.title.as_deref().filter(|t| !t.trim().is_empty()) {
            return t;
        }
        if let Some(t) = self
            .annotations
            .as_ref()
            .and_then(|a| a.get("title"))
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
        {
            return t;
        }
        &self.name
    }

    /// The value of a boolean annotation hint as declared, `None` when absent or not a bool.
    pub fn hint(&self, key: &str) -> Option<bool> {
        self.annotations.as_ref()?.get(key)?.as_bool()
    }

    /// `sha256:` of the canonical JSON of the definition.
    pub fn definition_hash(&self) -> String {
        hash_json(&self.to_json())
    }
}

/// Name of a JSON value's kind, for error messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `sha256:<hex>` of a JSON value with object keys sorted, so that key order does not matter.
pub fn hash_json(v: &Value) -> String {
    use sha2::{Digest, Sha256};
    fn canon(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String((*k).clone()).to_string());
                    out.push(':');
                    canon(&m[*k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canon(x, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut s = String::new();
    canon(v, &mut s);
    format!("sha256:{}", hex::encode(Sha256::digest(s.as_bytes())))
}

/// `sha256:` of a whole tool list, in order.
pub fn tools_hash(tools: &[Tool]) -> String {
    hash_json(&Value::Array(tools.iter().map(Tool::to_json).collect()))
}

/// One change of a tool definition between two crawls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryEntry {
    /// RFC 3339 time of the crawl that saw the change.
    pub at: String,
    /// The tool's name.
    pub tool: String,
    /// `added`, `removed`, `description_changed`, `schema_changed`, `annotations_changed`
    /// or `changed` (other fields).
    pub change: String,
    /// Hash of the definition before the change (absent for `added`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Hash of the definition after the change (absent for `removed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The description before the change, when it changed (a rug pull shows here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_before: Option<String>,
    /// For a `summarised` entry: how many changes it stands for (history is bounded: the
    /// first and the latest changes are kept, those between are counted here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

// ---------------------------------------------------------------------------------------
// Classification

/// A word that is none of a label's values (`--risk hihg`, `access: reed` in a rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLabel {
    /// What was parsed (`Risk`, `Access`, `policy format`, …).
    pub kind: &'static str,
    pub given: String,
    /// The values it may take, comma-separated.
    pub expected: String,
}

impl fmt::Display for UnknownLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}` (expected one of: {})",
            self.kind.to_ascii_lowercase(),
            self.given,
            self.expected
        )
    }
}

impl std::error::Error for UnknownLabel {}

macro_rules! labels {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value as written in files and URLs.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownLabel;
            fn from_str(s: &str) -> Result<Self, UnknownLabel> {
                let lower = s.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(UnknownLabel {
                        kind: stringify!($name),
                        given: s.to_string(),
                        expected: [$($s),+].join(", "),
                    }),
                }
            }
        }
    };
}

labels!(
    /// What a call does to the world.
    Access {
        /// Observes only.
        Read => "read",
        /// Creates or changes state.
        Write => "write",
        /// Runs code, commands, queries or workflows the tool does not itself define.
        Execute => "execute",
    }
);

labels!(
    /// Effects of a tool beyond its access.
    Effect {
        /// Deletes or irreversibly overwrites.
        Destructive => "destructive",
        /// Moves money or commits spending.
        Financial => "financial",
        /// Sends to a public sink: messages, email, posts, outbound requests.
        Send => "send",
        /// Reads or handles secrets, tokens, keys.
        Credentials => "credentials",
        /// Reads private data (files, mail, private repos, DB rows).
        PrivateData => "private_data",
        /// Ingests attacker-controllable content (web pages, issues, email).
        UntrustedInput => "untrusted_input",
        /// Touches the local filesystem.
        Filesystem => "filesystem",
        /// Reaches the network at an address the caller chooses.
        Network => "network",
        /// Handles code (runs or writes it).
        Code => "code",
        /// Changes permissions, members, credentials or configuration.
        Admin => "admin",
        /// Acts on many items at once.
        Bulk => "bulk",
    }
);

labels!(
    /// One label for display and comparison with other catalogues.
    Class {
        // Serialized capitalised as the contract's table writes them; files and URLs use
        // `as_str` (lower case), and the lower-case form still reads.
        #[serde(rename = "Read", alias = "read")]
        Read => "read",
        #[serde(rename = "Write", alias = "write")]
        Write => "write",
        #[serde(rename = "Execute", alias = "execute")]
        Execute => "execute",
        #[serde(rename = "Destructive", alias = "destructive")]
        Destructive => "destructive",
        #[serde(rename = "Financial", alias = "financial")]
        Financial => "financial",
    }
);

impl Class {
    /// Display form, capitalised (`Read`, `Financial`).
    pub fn title(self) -> &'static str {
        match self {
            Class::Read => "Read",
            Class::Write => "Write",
            Class::Execute => "Execute",
            Class::Destructive => "Destructive",
            Class::Financial => "Financial",
        }
    }

    /// Financial if `financial`, else Destructive if `destructive`, else the access.
    pub fn derive(access: Access, effects: &[Effect]) -> Class {
        if effects.contains(&Effect::Financial) {
            Class::Financial
        } else if effects.contains(&Effect::Destructive) {
            Class::Destructive
        } else {
            match access {
                Access::Read => Class::Read,
                Access::Write => Class::Write,
                Access::Execute => Class::Execute,
            }
        }
    }
}

labels!(
    /// How dangerous a tool is to allow unattended.
    Risk {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

labels!(
    /// How sure the classifier is.
    Confidence {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
);

labels!(
    /// The recommended gateway rule.
    Action {
        Allow => "allow",
        RateLimit => "rate_limit",
        RequireApproval => "require_approval",
        Deny => "deny",
    }
);

labels!(
    /// Where a piece of evidence was found.
    Source {
        Name => "name",
        Description => "description",
        Schema => "schema",
        Annotation => "annotation",
        Server => "server",
        Override => "override",
    }
);

labels!(
    /// How serious a finding is.
    Severity {
        Info => "info",
        Warning => "warning",
        Critical => "critical",
    }
);

/// A rate limit: at most `max` calls per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub max: u32,
    pub window: u32,
}

/// The recommended rule for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    pub reason: String,
}

/// One signal that moved the classification, traceable to the rule that read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Id of the rule that matched.
    pub rule: String,
    /// What the rule concluded (`access:write`, `effect:send`, `risk:+1`, …).
    pub signal: String,
    /// Where it was found.
    pub source: Source,
    /// The text that matched, quoted from the definition.
    pub text: String,
}

/// A warning about a tool definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// `annotation_contradiction`, `hidden_instructions`, `invisible_characters`,
    /// `schema_missing_type`, `duplicate_name`, `oversized_description`, `name_charset`, …
    pub kind: String,
    pub severity: Severity,
    /// What is wrong, for a person.
    pub message: String,
}

/// What the classifier says about one tool. Field names are a contract: `check --format
/// json` prints exactly these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    pub name: String,
    pub access: Access,
    pub effects: Vec<Effect>,
    pub class: Class,
    pub risk: Risk,
    pub policy: Policy,
    pub confidence: Confidence,
    pub rationale: String,
    pub evidence: Vec<Evidence>,
    pub findings: Vec<Finding>,
    /// For a tool whose operation is chosen by an argument (an `action` / `operation` / `mode`
    /// enum, SQL text, a command router): the verdict per value. The tool-level fields above
    /// stay the worst case. Empty (and not written) for a tool with one operation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_argument: Vec<ArgumentClass>,
}

/// The verdict for one value of the argument that selects a tool's operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgumentClass {
    /// The parameter that selects the operation (`action`, `operation`, `mode`, …).
    pub param: String,
    /// The value of that parameter: an enum value, a value the parameter's description lists,
    /// or, for SQL text, the statement keyword (`SELECT`, `DELETE`).
    pub value: String,
    pub access: Access,
    pub class: Class,
    /// Where the value comes from. Written only when it is not an enum value of the schema.
    #[serde(default, skip_serializing_if = "ArgumentKind::is_enum")]
    pub kind: ArgumentKind,
}

/// How the values of an operation argument are known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArgumentKind {
    /// A value of the parameter's `enum`: the server accepts nothing else.
    #[default]
    Enum,
    /// A value the parameter's description lists ("one of: list, get, delete") for a free-text
    /// parameter: a policy may allow the exact value, as for an enum.
    Described,
    /// The kind of statement of free SQL text (`SELECT`, `INSERT`, `DROP`): what statements of
    /// that kind do. A policy never allows SQL text by its first word (`SELECT 1; DROP TABLE t`
    /// starts with SELECT too), so these rows inform a reviewer and condition nothing.
    Sql,
}

impl ArgumentKind {
    pub fn is_enum(&self) -> bool {
        *self == ArgumentKind::Enum
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ArgumentKind::Enum => "enum",
            ArgumentKind::Described => "described",
            ArgumentKind::Sql => "sql",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_round_trips_unknown_fields_verbatim() {
        let raw = json!({"name":"t","description":"d","inputSchema":{"type":"object"},
            "annotations":{"readOnlyHint":true,"category":"x"},"_meta":{"a":1},"execution":{"taskSupport":"forbidden"}});
        let tool = Tool::from_json(&raw).unwrap();
        assert_eq!(tool.extra.len(), 2);
        assert_eq!(tool.to_json(), raw);
        assert_eq!(tool.hint("readOnlyHint"), Some(true));
        assert_eq!(tool.hint("destructiveHint"), None);
    }

    #[test]
    fn tool_without_name_is_an_error() {
        assert_eq!(
            Tool::from_json(&json!({"description":"x"})).unwrap_err(),
            ToolJsonError::NoName
        );
        assert_eq!(
            Tool::from_json(&json!({"name":3})).unwrap_err(),
            ToolJsonError::NameNotAString("a number")
        );
        assert!(matches!(
            Tool::from_json(&json!("str")),
            Err(ToolJsonError::NotAnObject(_))
        ));
    }

    #[test]
    fn hash_ignores_key_order() {
        assert_eq!(
            hash_json(&json!({"a":1,"b":2})),
            hash_json(&json!({"b":2,"a":1}))
        );
        assert_ne!(hash_json(&json!({"a":1})), hash_json(&json!({"a":2})));
    }

    #[test]
    fn class_derivation_order() {
        assert_eq!(
            Class::derive(Access::Write, &[Effect::Destructive, Effect::Financial]),
            Class::Financial
        );
        assert_eq!(
            Class::derive(Access::Read, &[Effect::Destructive]),
            Class::Destructive
        );
        assert_eq!(Class::derive(Access::Execute, &[]), Class::Execute);
        assert_eq!("HIGH".parse::<Risk>().unwrap(), Risk::High);
        assert!("severe".parse::<Risk>().is_err());
    }
}
