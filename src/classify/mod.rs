//! The rule-based classifier: (tool, server context, rules, overrides) → `Classification`.
//! Pure and deterministic: no network, same answer every run.
//!
//! PLACEHOLDER ENGINE: the API below is the contract other stages use; the engine behind it is
//! being written (issue 2) and replaces `classify_one`.

pub mod policy;

use crate::model::*;

/// What the classifier knows of the server a tool belongs to.
#[derive(Debug, Clone, Default)]
pub struct ServerContext {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
}

impl ServerContext {
    pub fn of(server: &Server) -> ServerContext {
        ServerContext {
            id: server.id.clone(),
            name: server.name.clone(),
            description: server.description.clone(),
        }
    }
}

/// A loaded rule set plus overrides.
#[derive(Debug, Clone, Default)]
pub struct Classifier {}

impl Classifier {
    /// The built-in rules, no overrides.
    pub fn builtin() -> Classifier {
        Classifier {}
    }

    /// Classifies every tool of a server.
    pub fn classify_server(&self, server: &Server) -> Vec<Classification> {
        self.classify_tools(&ServerContext::of(server), &server.tools)
    }

    /// Classifies a tool list (duplicate names are a finding on each duplicate).
    pub fn classify_tools(&self, ctx: &ServerContext, tools: &[Tool]) -> Vec<Classification> {
        tools.iter().map(|t| self.classify_tool(ctx, t)).collect()
    }

    /// Classifies one tool.
    pub fn classify_tool(&self, _ctx: &ServerContext, tool: &Tool) -> Classification {
        let n = tool.name.to_ascii_lowercase();
        let (access, effects) =
            if n.starts_with("get") || n.starts_with("list") || n.starts_with("search") {
                (Access::Read, vec![])
            } else if n.starts_with("delete") {
                (Access::Write, vec![Effect::Destructive])
            } else {
                (Access::Write, vec![])
            };
        let class = Class::derive(access, &effects);
        let risk = if access == Access::Read {
            Risk::Low
        } else {
            Risk::Medium
        };
        Classification {
            name: tool.name.clone(),
            access,
            effects,
            class,
            risk,
            policy: Policy {
                action: if risk == Risk::Low {
                    Action::Allow
                } else {
                    Action::RequireApproval
                },
                rate_limit: None,
                reason: "placeholder".into(),
            },
            confidence: Confidence::Low,
            rationale: String::new(),
            evidence: vec![],
            findings: vec![],
        }
    }
}
