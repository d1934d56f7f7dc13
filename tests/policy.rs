//! Policy emitters: golden output per target, every file parsed back by a real parser of its
//! language (serde_json, toml_edit, cedar-policy), names that would be patterns (issue 15.3),
//! per-argument verdicts, and the `--write` merge keeping a user's other settings byte for byte.

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicySet,
    Request,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::str::FromStr;
use toolrisk::classify::policy::{self, write, ServerPolicy, Target};
use toolrisk::model::*;

fn cls(name: &str, action: Action) -> Classification {
    Classification {
        name: name.to_string(),
        access: if action == Action::Allow {
            Access::Read
        } else {
            Access::Write
        },
        effects: if action == Action::Deny {
            vec![Effect::Destructive]
        } else {
            vec![]
        },
        class: Class::Read,
        risk: Risk::Low,
        policy: Policy {
            action,
            rate_limit: (action == Action::RateLimit).then_some(RateLimit {
                max: 10,
                window: 60,
            }),
            reason: format!("reason for {name}"),
        },
        confidence: Confidence::High,
        rationale: String::new(),
        evidence: vec![],
        findings: vec![],
        per_argument: vec![],
    }
}

fn sample() -> Vec<Classification> {
    vec![
        cls("list_items", Action::Allow),
        cls("search", Action::RateLimit),
        cls("send_message", Action::RequireApproval),
        cls("delete_all", Action::Deny),
    ]
}

/// A tool whose `action` argument picks the operation: `list` / `get` read, `delete` destroys.
fn router() -> Classification {
    let mut c = cls("manage_records", Action::RequireApproval);
    c.per_argument = vec![
        ArgumentClass {
            param: "action".into(),
            value: "list".into(),
            access: Access::Read,
            class: Class::Read,
            kind: ArgumentKind::Enum,
        },
        ArgumentClass {
            param: "action".into(),
            value: "get".into(),
            access: Access::Read,
            class: Class::Read,
            kind: ArgumentKind::Enum,
        },
        ArgumentClass {
            param: "action".into(),
            value: "delete".into(),
            access: Access::Write,
            class: Class::Destructive,
            kind: ArgumentKind::Enum,
        },
    ];
    c
}

/// Names a server could give its tools to turn a policy into a pattern or break its syntax.
const HOSTILE: &[&str] = &[
    "*",
    "get_*",
    "mcp__*",
    "a\"b",
    "back\\slash",
    "new\nline",
    "tab\there",
    "x:y",
    "(paren)",
    "spa ce",
    "ünïcode",
    "emoji😀",
    "semi;colon",
    "}{",
    "?q",
    "[set]",
    "..",
    "",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy")
}

/// Compares with the golden file; `TOOLRISK_BLESS=1` rewrites it.
fn golden(name: &str, text: &str) {
    let path = fixtures().join(name);
    if std::env::var_os("TOOLRISK_BLESS").is_some() {
        std::fs::create_dir_all(fixtures()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing (run with TOOLRISK_BLESS=1)", path.display()));
    pretty_assertions::assert_eq!(want, text, "{}", path.display());
}

fn emit(t: Target, servers: &[ServerPolicy]) -> policy::Emitted {
    policy::emit_setup(t, servers).unwrap()
}

/// The tool entity ids of every policy in a Cedar set, by effect.
fn cedar_resources(text: &str) -> (PolicySet, Vec<(String, String)>) {
    let set =
        PolicySet::from_str(text).unwrap_or_else(|e| panic!("cedar rejected:\n{text}\n{e:?}"));
    let mut out = vec![];
    for p in set.policies() {
        if let cedar_policy::ResourceConstraint::Eq(uid) = p.resource_constraint() {
            out.push((p.effect().to_string(), uid.id().unescaped().to_string()));
        }
    }
    (set, out)
}

fn call(set: &PolicySet, tool: &str, context: Value) -> Decision {
    let uid = |t: &str, id: &str| {
        EntityUid::from_type_name_and_id(EntityTypeName::from_str(t).unwrap(), EntityId::new(id))
    };
    let req = Request::new(
        uid("Client", "alice"),
        uid("Action", "call_tool"),
        uid("Tool", tool),
        Context::from_json_value(context, None).unwrap(),
        None,
    )
    .unwrap();
    Authorizer::new()
        .is_authorized(&req, set, &Entities::empty())
        .decision()
}

#[test]
fn golden_output_per_target_and_parsed_back() {
    let tools = sample();
    let servers = [ServerPolicy {
        key: "my-server",
        tools: &tools,
    }];
    for &t in Target::all() {
        let e = emit(t, &servers);
        golden(&format!("{}.{}", t.as_str(), t.extension()), &e.text);
        match t.extension() {
            "json" => {
                let _: Value = serde_json::from_str(&e.text).unwrap();
            }
            "toml" => {
                e.text.parse::<toml_edit::DocumentMut>().unwrap();
            }
            "cedar" => {
                cedar_resources(&e.text);
            }
            other => panic!("unexpected extension {other}"),
        }
    }
}

#[test]
fn claude_code_rate_limit_becomes_ask_and_says_so() {
    let tools = sample();
    let e = policy::emit(Target::ClaudeCode, "srv", &tools).unwrap();
    let v: Value = serde_json::from_str(&e.text).unwrap();
    assert_eq!(v["permissions"]["allow"], json!(["mcp__srv__list_items"]));
    assert_eq!(
        v["permissions"]["ask"],
        json!(["mcp__srv__search", "mcp__srv__send_message"])
    );
    assert_eq!(v["permissions"]["deny"], json!(["mcp__srv__delete_all"]));
    assert!(
        e.notes
            .iter()
            .any(|n| n.contains("rate-limited") && n.contains("ask")),
        "{:?}",
        e.notes
    );
    // The site's helper agrees.
    assert_eq!(
        policy::claude_code_settings("srv", &tools)["permissions"]["ask"],
        v["permissions"]["ask"]
    );
}

#[test]
fn claude_code_uses_the_users_own_server_name() {
    let tools = sample();
    let e = policy::emit(Target::ClaudeCode, "github-work", &tools).unwrap();
    assert!(e.text.contains("mcp__github-work__list_items"));
}

#[test]
fn tool_names_are_never_patterns_claude_code() {
    let tools: Vec<Classification> = HOSTILE.iter().map(|n| cls(n, Action::Allow)).collect();
    let e = policy::emit(Target::ClaudeCode, "srv", &tools).unwrap();
    let v: Value = serde_json::from_str(&e.text).unwrap();
    assert_eq!(
        v["permissions"]["allow"],
        json!([]),
        "no hostile name may be allowed"
    );
    let deny: Vec<String> = serde_json::from_value(v["permissions"]["deny"].clone()).unwrap();
    assert!(deny.contains(&"mcp__srv__*".to_string()));
    assert!(deny.contains(&"mcp__srv__get_*".to_string()));
    for d in &deny {
        assert!(d.starts_with("mcp__srv__"), "{d}");
        assert!(
            !d.contains(['(', ')', '\n', '"', ' ']),
            "a rule holds a syntax character: {d:?}"
        );
    }
    assert_eq!(e.unsafe_names.len(), HOSTILE.len());
    // A plain name next to them is still allowed exactly.
    let mut mixed = tools.clone();
    mixed.push(cls("get_status", Action::Allow));
    let v = policy::claude_code_settings("srv", &mixed);
    assert_eq!(v["permissions"]["allow"], json!(["mcp__srv__get_status"]));
}

#[test]
fn tool_names_are_never_patterns_cursor() {
    let tools: Vec<Classification> = HOSTILE
        .iter()
        .map(|n| cls(n, Action::Allow))
        .chain([cls("ok_tool", Action::Allow)])
        .collect();
    let e = policy::emit(Target::Cursor, "srv", &tools).unwrap();
    let v: Value = serde_json::from_str(&e.text).unwrap();
    let allow: Vec<String> = serde_json::from_value(v["mcpAllowlist"].clone()).unwrap();
    assert!(allow.contains(&"srv:ok_tool".to_string()));
    for a in &allow {
        let tool = a.strip_prefix("srv:").unwrap();
        assert!(!tool.contains(['*', ':', '?']), "{a:?} is a pattern");
    }
    assert!(!allow.iter().any(|a| a == "srv:*" || a == "srv:get_*"));
}

#[test]
fn tool_names_are_never_patterns_gemini_vscode_codex_exact_round_trip() {
    let tools: Vec<Classification> = HOSTILE
        .iter()
        .map(|n| cls(n, Action::RequireApproval))
        .collect();
    // Codex: TOML quotes every key: parsed back, the names are exactly the tools.
    let e = policy::emit(Target::Codex, "srv", &tools).unwrap();
    let doc = e.text.parse::<toml_edit::DocumentMut>().unwrap();
    let enabled: Vec<String> = doc["mcp_servers"]["srv"]["enabled_tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        enabled,
        HOSTILE.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    for n in HOSTILE {
        assert_eq!(
            doc["mcp_servers"]["srv"]["tools"][*n]["approval_mode"].as_str(),
            Some("prompt"),
            "{n:?}"
        );
    }
    // VS Code: exact keys.
    let e = policy::emit(Target::Vscode, "srv", &tools).unwrap();
    let v: Value = serde_json::from_str(&e.text).unwrap();
    for n in HOSTILE {
        assert_eq!(
            v["chat.tools.eligibleForAutoApproval"][format!("srv/{n}")],
            json!(false),
            "{n:?}"
        );
    }
    // Gemini CLI: names that could be read as a `tool(args)` pattern are left out (not offered).
    let e = policy::emit(Target::GeminiCli, "srv", &tools).unwrap();
    let v: Value = serde_json::from_str(&e.text).unwrap();
    let inc: Vec<String> =
        serde_json::from_value(v["mcpServers"]["srv"]["includeTools"].clone()).unwrap();
    assert!(!inc.iter().any(|n| n.contains('(')));
    assert!(e.unsafe_names.iter().any(|(_, t)| t == "(paren)"));
}

#[test]
fn tool_names_are_never_patterns_cedar_accepts_every_name_exactly() {
    let mut tools: Vec<Classification> = HOSTILE.iter().map(|n| cls(n, Action::Allow)).collect();
    tools.push(cls("blocked", Action::Deny));
    let e = policy::emit(Target::Cedar, "srv\"x", &tools).unwrap();
    let (set, resources) = cedar_resources(&e.text);
    let permitted: Vec<&str> = resources
        .iter()
        .filter(|(eff, _)| eff == "permit")
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(permitted, HOSTILE.to_vec());
    assert!(resources.contains(&("forbid".into(), "blocked".into())));
    // `*` permits the tool named `*` and nothing else.
    assert_eq!(call(&set, "*", json!({})), Decision::Allow);
    assert_eq!(call(&set, "anything_else", json!({})), Decision::Deny);
    assert_eq!(call(&set, "get_status", json!({})), Decision::Deny);
    assert_eq!(call(&set, "blocked", json!({})), Decision::Deny);
}

#[test]
fn per_argument_read_values_allowed_rest_asked_native_and_cedar() {
    let tools = vec![router()];
    let native = policy::native_policy(&tools);
    let rule = &native["tools"]["manage_records"];
    assert_eq!(rule["action"], json!("require_approval"));
    assert_eq!(
        rule["arguments"],
        json!({"param": "action", "allow": ["list", "get"]})
    );
    let e = policy::emit(Target::Cedar, "db", &tools).unwrap();
    let (set, _) = cedar_resources(&e.text);
    assert_eq!(
        call(&set, "manage_records", json!({"arg_action": "list"})),
        Decision::Allow
    );
    assert_eq!(
        call(&set, "manage_records", json!({"arg_action": "get"})),
        Decision::Allow
    );
    assert_eq!(
        call(&set, "manage_records", json!({"arg_action": "delete"})),
        Decision::Deny
    );
    assert_eq!(call(&set, "manage_records", json!({})), Decision::Deny);
    // A client format cannot see arguments: the worst case applies, and the output says so.
    let e = policy::emit(Target::ClaudeCode, "db", &tools).unwrap();
    assert!(e.text.contains("\"mcp__db__manage_records\""));
    assert!(e.notes.iter().any(|n| n.contains("argument")));
}

/// An `execute_sql` tool: SQL rows say what each statement kind does, but no policy allows SQL
/// text by its first word.
#[test]
fn sql_rows_inform_but_are_never_allowed_by_value() {
    let mut c = cls("execute_sql", Action::RequireApproval);
    c.access = Access::Execute;
    c.class = Class::Execute;
    for (value, access, class) in [
        ("SELECT", Access::Read, Class::Read),
        ("DROP", Access::Write, Class::Destructive),
    ] {
        c.per_argument.push(ArgumentClass {
            param: "sql".into(),
            value: value.into(),
            access,
            class,
            kind: ArgumentKind::Sql,
        });
    }
    let tools = vec![c];
    let native = policy::native_policy(&tools);
    let rule = &native["tools"]["execute_sql"];
    assert!(rule.get("arguments").is_none(), "{rule}");
    assert_eq!(rule["action"], json!("require_approval"));
    let e = policy::emit(Target::Cedar, "db", &tools).unwrap();
    let (set, _) = cedar_resources(&e.text);
    assert_eq!(
        call(&set, "execute_sql", json!({"arg_sql": "SELECT 1"})),
        Decision::Deny
    );
    assert!(!e.text.contains("SELECT"), "{}", e.text);
    // No client note claims read-only values a policy could allow.
    let e = policy::emit(Target::ClaudeCode, "db", &tools).unwrap();
    assert!(
        !e.notes.iter().any(|n| n.contains("argument")),
        "{:?}",
        e.notes
    );
}

#[test]
fn per_argument_on_an_allowed_tool_still_asks_for_the_rest() {
    let mut c = router();
    c.policy.action = Action::Allow;
    let rule = policy::native_rule(&c);
    assert_eq!(rule["action"], json!("require_approval"));
}

#[test]
fn annotations_overlay_hints() {
    let tools = sample();
    let e = policy::emit(Target::Annotations, "srv", &tools).unwrap();
    let v: Value = serde_json::from_str(&e.text).unwrap();
    assert_eq!(
        v["servers"]["srv"]["list_items"],
        json!({"readOnlyHint": true, "openWorldHint": false, "idempotentHint": true})
    );
    assert_eq!(
        v["servers"]["srv"]["delete_all"]["destructiveHint"],
        json!(true)
    );
    assert_eq!(
        v["servers"]["srv"]["delete_all"]["readOnlyHint"],
        json!(false)
    );
}

#[test]
fn duplicate_server_names_are_refused() {
    let tools = sample();
    let s = [
        ServerPolicy {
            key: "a",
            tools: &tools,
        },
        ServerPolicy {
            key: "a",
            tools: &tools,
        },
    ];
    assert!(policy::emit_setup(Target::Native, &s).is_err());
}

#[test]
fn target_names_round_trip() {
    for &t in Target::all() {
        assert_eq!(Target::from_str(t.as_str()).unwrap(), t);
    }
    assert!(Target::from_str("yaml").is_err());
}

// ---------------------------------------------------------------------------------------
// --write

fn write_round_trip(
    target: Target,
    name: &str,
    original: &str,
    servers: &[ServerPolicy],
) -> (String, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, original).unwrap();
    let e = policy::emit_setup(target, servers).unwrap();
    let w = write::write(target, &path, &e, servers).unwrap();
    let after = std::fs::read_to_string(&path).unwrap();
    let backup = w.backup.clone().expect("a backup");
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        original,
        "backup holds the old bytes"
    );
    assert!(w.diff.contains("+++ b/"), "a diff is printed");
    // Idempotent: a second write changes nothing and leaves no temporary file.
    let again = write::write(target, &path, &e, servers).unwrap();
    assert!(again.backup.is_none());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = w;
    (after, path, dir)
}

#[test]
fn write_claude_code_settings_keeps_other_settings_byte_for_byte() {
    let original = r#"{
  // my settings
  "model": "opus",
  "env": { "FOO": "bar" },
  "permissions": {
    "allow": ["Bash(npm test)", "mcp__srv__send_message"],
    "deny": ["Read(.env)"],
    "defaultMode": "default"
  },
  "hooks": {}
}
"#;
    let tools = sample();
    let s = [ServerPolicy {
        key: "srv",
        tools: &tools,
    }];
    let (after, _, _) = write_round_trip(Target::ClaudeCode, "settings.json", original, &s);
    for kept in [
        "  // my settings\n  \"model\": \"opus\",\n  \"env\": { \"FOO\": \"bar\" },",
        "\"Bash(npm test)\"",
        "\"Read(.env)\"",
        "\"defaultMode\": \"default\"",
        "  \"hooks\": {}\n}\n",
    ] {
        assert!(after.contains(kept), "lost {kept:?} in:\n{after}");
    }
    let v: Value =
        jsonc_parser::parse_to_serde_value::<Value>(&after, &Default::default()).unwrap();
    let allow: Vec<String> = serde_json::from_value(v["permissions"]["allow"].clone()).unwrap();
    assert!(allow.contains(&"mcp__srv__list_items".into()));
    assert!(
        !allow.contains(&"mcp__srv__send_message".into()),
        "a tool now asked for leaves allow"
    );
    assert!(v["permissions"]["ask"]
        .as_array()
        .unwrap()
        .contains(&json!("mcp__srv__send_message")));
    assert!(v["permissions"]["deny"]
        .as_array()
        .unwrap()
        .contains(&json!("mcp__srv__delete_all")));
}

#[test]
fn write_codex_config_keeps_comments_and_other_tables() {
    let original = r#"# my Codex config
model = "gpt-5"   # the model

[mcp_servers.srv]
command = "npx"  # launcher
args = ["-y", "pkg@1.0.0"]

[mcp_servers.other]
command = "uvx"
args = ["other==1"]

[profiles.fast]
model = "gpt-5-mini"
"#;
    let tools = sample();
    let s = [ServerPolicy {
        key: "srv",
        tools: &tools,
    }];
    let (after, _, _) = write_round_trip(Target::Codex, "config.toml", original, &s);
    for kept in [
        "# my Codex config\nmodel = \"gpt-5\"   # the model\n",
        "command = \"npx\"  # launcher\nargs = [\"-y\", \"pkg@1.0.0\"]\n",
        "[mcp_servers.other]\ncommand = \"uvx\"\nargs = [\"other==1\"]\n",
        "[profiles.fast]\nmodel = \"gpt-5-mini\"\n",
    ] {
        assert!(after.contains(kept), "lost {kept:?} in:\n{after}");
    }
    let doc = after.parse::<toml_edit::DocumentMut>().unwrap();
    assert_eq!(
        doc["mcp_servers"]["srv"]["disabled_tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["delete_all"]
    );
    assert_eq!(
        doc["mcp_servers"]["srv"]["tools"]["list_items"]["approval_mode"].as_str(),
        Some("approve")
    );
    assert_eq!(
        doc["mcp_servers"]["srv"]["tools"]["send_message"]["approval_mode"].as_str(),
        Some("prompt")
    );
}

#[test]
fn write_gemini_settings_keeps_comments_and_refuses_unknown_server() {
    let original = "{\n  // theme\n  \"theme\": \"GitHub\",\n  \"mcpServers\": {\n    \"srv\": {\"command\": \"uvx\", \"args\": [\"x==1\"]}\n  }\n}\n";
    let tools = sample();
    let s = [ServerPolicy {
        key: "srv",
        tools: &tools,
    }];
    let (after, path, _dir) = write_round_trip(Target::GeminiCli, "settings.json", original, &s);
    assert!(after.contains("  // theme\n  \"theme\": \"GitHub\",\n"));
    assert!(after.contains("\"command\": \"uvx\""));
    let v: Value =
        jsonc_parser::parse_to_serde_value::<Value>(&after, &Default::default()).unwrap();
    assert_eq!(
        v["mcpServers"]["srv"]["excludeTools"],
        json!(["delete_all"])
    );
    let missing = [ServerPolicy {
        key: "not-there",
        tools: &tools,
    }];
    let e = policy::emit_setup(Target::GeminiCli, &missing).unwrap();
    let err = write::write(Target::GeminiCli, &path, &e, &missing).unwrap_err();
    assert!(
        matches!(err, write::WriteError::MissingServer { .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        after,
        "a refused write changes nothing"
    );
}

#[test]
fn write_cursor_and_vscode_merge_into_existing_lists() {
    let tools = sample();
    let s = [ServerPolicy {
        key: "srv",
        tools: &tools,
    }];
    let cursor = "{\n  // mine\n  \"mcpAllowlist\": [\"github:*\", \"srv:delete_all\"],\n  \"terminalAllowlist\": [\"git\"]\n}\n";
    let (after, _, _) = write_round_trip(Target::Cursor, "permissions.json", cursor, &s);
    let v: Value =
        jsonc_parser::parse_to_serde_value::<Value>(&after, &Default::default()).unwrap();
    assert_eq!(v["mcpAllowlist"], json!(["github:*", "srv:list_items"]));
    assert!(after.contains("\"terminalAllowlist\": [\"git\"]"));
    let vscode = "{\n  \"editor.fontSize\": 14, // big\n  \"chat.tools.eligibleForAutoApproval\": {\"runInTerminal\": false}\n}\n";
    let (after, _, _) = write_round_trip(Target::Vscode, "settings.json", vscode, &s);
    assert!(after.contains("\"editor.fontSize\": 14, // big"));
    let v: Value =
        jsonc_parser::parse_to_serde_value::<Value>(&after, &Default::default()).unwrap();
    assert_eq!(
        v["chat.tools.eligibleForAutoApproval"]["runInTerminal"],
        json!(false)
    );
    assert_eq!(
        v["chat.tools.eligibleForAutoApproval"]["srv/delete_all"],
        json!(false)
    );
}

#[test]
fn write_refuses_a_broken_file_and_leaves_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, "{ \"permissions\": [1, 2 ").unwrap();
    let tools = sample();
    let s = [ServerPolicy {
        key: "srv",
        tools: &tools,
    }];
    let e = policy::emit_setup(Target::ClaudeCode, &s).unwrap();
    let err = write::write(Target::ClaudeCode, &path, &e, &s).unwrap_err();
    assert!(matches!(err, write::WriteError::Parse { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{ \"permissions\": [1, 2 "
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no backup or temp file"
    );
}

#[test]
fn write_creates_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/settings.json");
    let tools = sample();
    let s = [ServerPolicy {
        key: "srv",
        tools: &tools,
    }];
    let e = policy::emit_setup(Target::ClaudeCode, &s).unwrap();
    let w = write::write(Target::ClaudeCode, &path, &e, &s).unwrap();
    assert!(w.backup.is_none());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["permissions"]["deny"], json!(["mcp__srv__delete_all"]));
}

// ---------------------------------------------------------------------------------------
// The `policy` command

fn policy_cli(args: &[&str]) -> std::process::Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cat = root.join("tests/fixtures/scan/catalogue");
    let mut all = vec![
        "policy",
        "fixture-mailer",
        "--catalogue",
        cat.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    std::process::Command::new(env!("CARGO_BIN_EXE_toolrisk"))
        .args(&all)
        .output()
        .unwrap()
}

#[test]
fn policy_command_prints_every_format_under_the_users_name() {
    for &t in Target::all() {
        let o = policy_cli(&["--format", t.as_str(), "--name", "work-mail"]);
        assert!(
            o.status.success(),
            "{t}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8(o.stdout).unwrap();
        match t.extension() {
            "json" => {
                let _: Value = serde_json::from_str(&text).unwrap();
            }
            "toml" => {
                let doc = text.parse::<toml_edit::DocumentMut>().unwrap();
                assert!(doc["mcp_servers"].get("work-mail").is_some());
            }
            _ => {
                cedar_resources(&text);
            }
        }
        if t != Target::Native {
            assert!(text.contains("work-mail"), "{t}: {text}");
        }
    }
}

#[test]
fn policy_command_write_merges_and_prints_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, "{\n  \"model\": \"opus\"\n}\n").unwrap();
    let o = policy_cli(&[
        "--format",
        "claude-code",
        "--name",
        "mail",
        "--write",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        diff.contains("+") && diff.contains("mcp__mail__send_email"),
        "{diff}"
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.starts_with("{\n  \"model\": \"opus\""), "{after}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("backup"));
}
