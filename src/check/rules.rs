//! What each result id means, for SARIF `rules` (GitHub shows the short and full description
//! beside an alert and the help under it): the fixed ids (`risk/<class>`, `lock/<change>`,
//! known `finding/<kind>`s) with a fix each, and the classifier's own rules by their ids.

use crate::classify::rules::RuleSet;

/// One SARIF `reportingDescriptor`'s text.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub id: String,
    pub name: String,
    pub short: String,
    pub full: String,
    /// How to fix it (plain text; also used as markdown).
    pub help: String,
    /// GitHub's `security-severity` (0.1-10).
    pub security_severity: &'static str,
    /// SARIF default level.
    pub level: &'static str,
}

const CLASSES: &[(&str, &str, &str, &str)] = &[
    (
        "read",
        "Tool reads data",
        "The tool only observes, but what it reads may be private or attacker-controlled.",
        "2.0",
    ),
    (
        "write",
        "Tool changes state",
        "The tool creates or changes state in the world (files, records, messages).",
        "5.0",
    ),
    (
        "execute",
        "Tool runs code or commands",
        "The tool runs code, commands, queries or workflows that the tool itself does not define: whatever the caller writes.",
        "8.5",
    ),
    (
        "destructive",
        "Tool deletes or overwrites",
        "The tool deletes or irreversibly overwrites data.",
        "8.0",
    ),
    (
        "financial",
        "Tool moves money",
        "The tool moves money or commits spending.",
        "8.5",
    ),
];

const RISK_HELP: &str = "Why: toolrisk classified this tool from its name, description, input schema and annotations; the result message quotes the rationale, and `toolrisk check --format json` lists the evidence rule by rule.\n\nFix, as the server author: narrow what the tool can do (separate read and write tools, constrain arguments with enums and patterns, drop a free-form command or query argument), declare honest annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`), and state in the description what the tool changes.\n\nAs an operator: put the recommended gateway policy on the tool (`toolrisk policy`), for example require approval.\n\nIf the risk is understood and accepted, suppress it in toolrisk.toml with a reason (`[[suppress]] tool = \"...\" id = \"risk\" reason = \"...\"`).";

const FINDINGS: &[(&str, &str, &str, &str, &str)] = &[
    ("hidden_instructions", "Description holds instructions to the model",
     "The description contains text addressed to the model rather than to the user (for example, directions to ignore other instructions, to read files or to keep something secret): the signature of tool poisoning.",
     "Remove instructions to the model from the description; describe what the tool does, for a person.", "9.0"),
    ("invisible_characters", "Description holds invisible characters",
     "The definition contains zero-width or other invisible characters that a reviewer cannot see but a model reads.",
     "Remove the invisible characters from the name and description.", "7.0"),
    ("bidi_control", "Definition holds bidirectional control characters",
     "Bidirectional control characters can make text display differently from how it is read.",
     "Remove the bidirectional control characters.", "7.0"),
    ("confusable_characters", "Name or description mixes look-alike scripts",
     "Characters from other scripts that look like Latin letters can make one tool pass for another.",
     "Use plain ASCII in tool names and avoid mixed-script words.", "6.0"),
    ("annotation_contradiction", "Annotations contradict the definition",
     "The declared annotations (for example readOnlyHint: true) contradict what the name, description or schema say the tool does.",
     "Correct the annotations so that clients and gateways that trust them are not misled.", "6.5"),
    ("schema_missing_type", "Input schema lacks types",
     "Parameters without a type let the caller pass anything.",
     "Give every input parameter a JSON Schema type, and constrain strings where possible.", "3.0"),
    ("oversized_description", "Description is oversized",
     "A very long description crowds the model's context and can hide instructions.",
     "Shorten the description to what a user needs to decide whether to call the tool.", "4.0"),
    ("name_charset", "Tool name uses unusual characters",
     "The MCP specification recommends tool names of letters, digits, `_`, `-` and `.`; other characters break clients and hide look-alikes.",
     "Rename the tool with plain ASCII letters, digits, `_`, `-` or `.`.", "3.0"),
    ("duplicate_name", "Tool name is duplicated",
     "Two tools share one name: clients call one of them, and which one is undefined.",
     "Give every tool a unique name.", "5.0"),
];

const LOCK: &[(&str, &str, &str, &str, &str)] = &[
    ("added", "Tool added since the lock", "The server lists a tool that the lock file does not pin.",
     "Review the new tool, then run `toolrisk lock` to pin it and commit the lock file.", "6.0"),
    ("removed", "Tool removed since the lock", "A tool pinned in the lock file is no longer listed.",
     "If the removal is intended, run `toolrisk lock` and commit the lock file.", "3.0"),
    ("changed", "Tool definition changed since the lock",
     "The tool's definition (description, schemas, annotations or other fields) differs from the pinned one: the change users did not approve, the way a rug pull arrives.",
     "Review the change shown in the message, then run `toolrisk lock` and commit the lock file.", "7.5"),
    ("risk_rose", "Tool risk rose since the lock",
     "The definition is unchanged, but toolrisk now rates the tool riskier than when it was pinned (a newer toolrisk, rules or overrides).",
     "Review the new classification, then run `toolrisk lock` to accept it.", "6.0"),
    ("reclassified", "Tool classification changed since the lock",
     "The class or policy differs from the pinned one while the definition and the risk did not rise; reported, not failing.",
     "Run `toolrisk lock` to record the new classification.", "1.0"),
];

/// The descriptor of a result id (`risk/…`, `finding/…`, `lock/…`) or a classifier rule.
pub fn descriptor(id: &str, rules: &RuleSet) -> Descriptor {
    let (prefix, rest) = id.split_once('/').unwrap_or(("", id));
    match prefix {
        "risk" => {
            let (short, full, sev) = CLASSES
                .iter()
                .find(|c| c.0 == rest)
                .map(|c| (c.1.to_string(), c.2.to_string(), c.3))
                .unwrap_or_else(|| {
                    (
                        format!("Tool of class {rest}"),
                        format!("toolrisk classified the tool as {rest}."),
                        "5.0",
                    )
                });
            Descriptor {
                id: id.into(),
                name: format!("Risk{}", title(rest)),
                short,
                full: format!("{full} Reported when the tool's risk is at or above the threshold (--fail-on)."),
                help: RISK_HELP.into(),
                security_severity: sev,
                level: "warning",
            }
        }
        "finding" => {
            let known = FINDINGS.iter().find(|f| f.0 == rest);
            Descriptor {
                id: id.into(),
                name: format!("Finding{}", title(rest)),
                short: known.map(|f| f.1.to_string()).unwrap_or_else(|| format!("Definition finding: {rest}")),
                full: known.map(|f| f.2.to_string()).unwrap_or_else(|| format!("toolrisk found a problem of kind `{rest}` in the tool definition; the result message says what.")),
                help: format!(
                    "{}\n\nTo accept it, suppress it in toolrisk.toml with a reason (`id = \"{id}\"`).",
                    known.map(|f| f.3).unwrap_or("Fix the definition as the result message says.")
                ),
                security_severity: known.map(|f| f.4).unwrap_or("5.0"),
                level: "warning",
            }
        }
        "lock" => {
            let known = LOCK.iter().find(|f| f.0 == rest);
            Descriptor {
                id: id.into(),
                name: format!("Lock{}", title(rest)),
                short: known
                    .map(|f| f.1.to_string())
                    .unwrap_or_else(|| format!("Lock change: {rest}")),
                full: known
                    .map(|f| f.2.to_string())
                    .unwrap_or_else(|| "The server differs from the lock file.".into()),
                help: known
                    .map(|f| f.3.to_string())
                    .unwrap_or_else(|| "Run `toolrisk lock` once the change is reviewed.".into()),
                security_severity: known.map(|f| f.4).unwrap_or("5.0"),
                level: "error",
            }
        }
        _ => {
            let desc = rules
                .rules
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.description.trim().to_string())
                .unwrap_or_else(|| format!("toolrisk classifier rule {id}"));
            let short = first_sentence(&desc);
            Descriptor {
                id: id.into(),
                name: id.replace(['.', '_', '-'], " "),
                short,
                full: desc,
                help: "A classifier rule: it contributes evidence to a tool's class and risk; it is listed for reference (see `risk/…` results and their evidence). Adjust it with `--rules FILE`, or correct one tool's verdict with `--overrides FILE`.".into(),
                security_severity: "1.0",
                level: "note",
            }
        }
    }
}

/// The fixed result ids: every class, every known finding kind, every lock change.
pub fn fixed_ids() -> Vec<String> {
    let mut v: Vec<String> = CLASSES.iter().map(|c| format!("risk/{}", c.0)).collect();
    v.extend(FINDINGS.iter().map(|f| format!("finding/{}", f.0)));
    v.extend(LOCK.iter().map(|f| format!("lock/{}", f.0)));
    v
}

fn title(s: &str) -> String {
    s.split(['_', '-', '.'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

fn first_sentence(s: &str) -> String {
    let line = s.lines().next().unwrap_or(s);
    let cut = line.find(". ").map(|i| i + 1).unwrap_or(line.len());
    crate::text::truncate_at_char(&line[..cut], 1000).to_string()
}
