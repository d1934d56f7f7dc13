//! The tool page: `/tools/<server>/<tool>/`.

use super::*;

/// Sibling and similar tools shown on a tool page.
pub(crate) const MAX_SIBLINGS: usize = 30;

/// Parameters shown on a tool page.
pub(crate) const MAX_PARAMS: usize = 100;

/// Bytes of the raw definition shown on a tool page.
pub(crate) const MAX_DEFINITION: usize = 64 * 1024;

/// The matched text shown in its context, with the match marked. Everything is escaped.
pub(crate) fn quote_evidence(tool: &Tool, source: Source, text: &str) -> String {
    let haystack: Option<String> = match source {
        Source::Name => Some(tool.name.clone()),
        Source::Description => tool.description.clone(),
        Source::Schema => tool.input_schema.as_ref().map(|s| s.to_string()),
        Source::Annotation => tool.annotations.as_ref().map(|s| s.to_string()),
        _ => None,
    };
    let text = reveal(text);
    let mark = |s: &str| format!("<mark>{}</mark>", escape_attr(s));
    let Some(h) = haystack.map(|h| reveal(&h)) else {
        return mark(&cell(&text));
    };
    if text.is_empty() {
        return escape_attr(&cell(&h));
    }
    let lower_h = h.to_lowercase();
    let lower_t = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII; only quote when offsets line up.
    match lower_h.find(&lower_t) {
        Some(pos)
            if lower_h.len() == h.len()
                && h.is_char_boundary(pos)
                && h.is_char_boundary(pos + text.len()) =>
        {
            let mut a = pos.saturating_sub(80);
            while !h.is_char_boundary(a) {
                a -= 1;
            }
            let mut b = (pos + text.len() + 80).min(h.len());
            while !h.is_char_boundary(b) {
                b += 1;
            }
            format!(
                "{}{}{}{}{}",
                if a > 0 { "…" } else { "" },
                escape_attr(&h[a..pos]),
                mark(&h[pos..pos + text.len()]),
                escape_attr(&h[pos + text.len()..b]),
                if b < h.len() { "…" } else { "" }
            )
        }
        _ => mark(&cell(&text)),
    }
}

/// A row of a tool page's parameter table.
#[derive(serde::Serialize)]
pub(crate) struct Param {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    required: bool,
    description: String,
    values: Option<String>,
}

pub(crate) fn params_of(tool: &Tool) -> (Vec<Param>, bool) {
    let Some(schema) = tool.input_schema.as_ref() else {
        return (vec![], false);
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return (vec![], false);
    };
    let list = props
        .iter()
        .take(MAX_PARAMS)
        .map(|(name, p)| {
            let ty = match p.get("type") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" | "),
                _ => match p
                    .get("anyOf")
                    .or_else(|| p.get("oneOf"))
                    .and_then(Value::as_array)
                {
                    Some(alts) => {
                        let mut names: Vec<&str> = alts
                            .iter()
                            .map(|a| a.get("type").and_then(Value::as_str).unwrap_or("object"))
                            .collect();
                        names.dedup();
                        names.join(" | ")
                    }
                    None => "any".into(),
                },
            };
            let values = p.get("enum").and_then(Value::as_array).map(|a| {
                let mut v: Vec<String> = a
                    .iter()
                    .take(12)
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                if a.len() > 12 {
                    v.push("…".into());
                }
                v.join(", ")
            });
            Param {
                name: cell(name),
                ty: cell(&ty),
                required: required.contains(&name.as_str()),
                description: p
                    .get("description")
                    .and_then(Value::as_str)
                    .map(cell)
                    .unwrap_or_default(),
                values: values.as_deref().map(cell),
            }
        })
        .collect();
    (list, props.len() > MAX_PARAMS)
}

/// A row of a tool page's table of annotations, declared and inferred.
#[derive(serde::Serialize)]
pub(crate) struct AnnotationRow {
    key: &'static str,
    declared: &'static str,
    inferred: &'static str,
    contradiction: bool,
}

pub(crate) fn annotations_of(tool: &Tool, c: &Classification) -> Vec<AnnotationRow> {
    let yn = |b: bool| if b { "true" } else { "false" };
    let has = |e: Effect| c.effects.contains(&e);
    let inferred: [(&'static str, Option<bool>); 4] = [
        ("readOnlyHint", Some(c.access == Access::Read)),
        ("destructiveHint", Some(has(Effect::Destructive))),
        ("idempotentHint", None),
        (
            "openWorldHint",
            Some(has(Effect::Network) || has(Effect::Send) || has(Effect::UntrustedInput)),
        ),
    ];
    inferred
        .iter()
        .map(|(key, inf)| {
            let declared = tool.hint(key);
            // A declared destructiveHint only means something for tools that are not read-only.
            let contradiction = match (declared, inf) {
                (Some(d), Some(i)) => {
                    d != *i && !(*key == "destructiveHint" && c.access == Access::Read)
                }
                _ => false,
            };
            AnnotationRow {
                key,
                declared: declared.map(yn).unwrap_or("not declared"),
                inferred: inf.map(yn).unwrap_or("not inferred"),
                contradiction,
            }
        })
        .collect()
}

/// Template values shared by the tool pages of one server.
pub(crate) struct Shared<'a> {
    pub(crate) server: tera::Value,
    /// The first `MAX_SIBLINGS + 1` tools of the server, by slug.
    pub(crate) siblings: Vec<(&'a str, tera::Value)>,
}

/// What `tool.html` is given (besides `server` and `siblings`, shared by a server's pages).
/// Typed rather than built as JSON: a tool page is most of a build, and this skips building
/// and converting a JSON tree per page.
#[derive(serde::Serialize)]
pub(crate) struct ToolPage<'a> {
    page: Value,
    tool: ToolView<'a>,
    c: ClassView,
    verdict: String,
    params: Vec<Param>,
    params_cut: bool,
    annotations: Vec<AnnotationRow>,
    attacks: Vec<AttackRow<'a>>,
    native_json: String,
    claude_json: String,
    more_siblings: bool,
    similar: Vec<SimilarRow<'a>>,
    faq: [Faq; 6],
    history: Vec<HistoryRow>,
    definition: String,
    /// A new issue on the catalogue's repository, prefilled with the verdict and an
    /// `overrides.yaml` entry to fill in.
    wrong_label_url: String,
    /// FAQ structured data (schema.org `FAQPage`), with `<`, `>` and `&` escaped so that no
    /// crawled text can close the script element.
    faq_jsonld: String,
}

#[derive(serde::Serialize)]
pub(crate) struct ToolView<'a> {
    name: &'a str,
    display: String,
    slug: &'a str,
    description_html: Option<String>,
    truncated_from: Option<u64>,
    has_schema: bool,
}

#[derive(serde::Serialize)]
pub(crate) struct ClassView {
    risk: &'static str,
    risk_label: &'static str,
    class: &'static str,
    class_label: &'static str,
    access: &'static str,
    effects: Vec<&'static str>,
    action: &'static str,
    action_label: &'static str,
    rate_limit: Option<crate::model::RateLimit>,
    reason: String,
    confidence: &'static str,
    rationale: String,
    evidence: Vec<EvidenceRow>,
    findings: Vec<FindingRow>,
    per_argument: Vec<ArgumentRow>,
    /// Some rows are SQL statement kinds (which no policy allows by value).
    per_argument_sql: bool,
}

#[derive(serde::Serialize)]
pub(crate) struct SimilarRow<'a> {
    name: &'a str,
    url: String,
    server: &'a str,
    class: &'static str,
    risk: &'static str,
}

#[derive(serde::Serialize)]
pub(crate) struct ArgumentRow {
    param: String,
    value: String,
    access: &'static str,
    class: &'static str,
    /// `enum`, `described` or `sql`: where the value comes from.
    kind: &'static str,
}

#[derive(serde::Serialize)]
pub(crate) struct EvidenceRow {
    /// The rule's page, when the rule is one of the rule set's (not an override).
    rule_url: Option<String>,
    rule: String,
    signal: String,
    source: &'static str,
    quoted: String,
}

#[derive(serde::Serialize)]
pub(crate) struct FindingRow {
    kind: String,
    severity: &'static str,
    message: String,
}

#[derive(serde::Serialize)]
pub(crate) struct AttackRow<'a> {
    id: &'a str,
    title: &'a str,
    defence: &'a str,
}

#[derive(serde::Serialize)]
pub(crate) struct HistoryRow {
    at: String,
    change: String,
    description_before: Option<String>,
}

#[derive(serde::Serialize)]
pub(crate) struct Faq {
    q: String,
    a: String,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn render_tool(
    site: &Site,
    index: usize,
    server: &Server,
    shared: &Shared,
    tool: &Tool,
    tool_json: &Value,
    ti: usize,
    c: &Classification,
    tpl: &Templates,
) -> Result<String> {
    let t = &site.tools[ti];
    let entry = &site.servers[index];
    let siblings_all = site.tools_of(entry);
    let siblings: Vec<tera::Value> = shared
        .siblings
        .iter()
        .filter(|(slug, _)| *slug != t.slug)
        .take(MAX_SIBLINGS)
        .map(|(_, v)| v.clone())
        .collect();
    let similar: Vec<SimilarRow> = similar_of(site, index, ti)
        .into_iter()
        .map(|o| SimilarRow {
            name: &o.name,
            url: site.tool_url(o),
            server: &site.servers[o.server as usize].name,
            class: o.class.as_str(),
            risk: o.risk.as_str(),
        })
        .collect();
    let evidence: Vec<EvidenceRow> = c
        .evidence
        .iter()
        .take(50)
        .map(|e| EvidenceRow {
            rule_url: (e.rule != "override" && !e.rule.is_empty())
                .then(|| super::method::rule_url(&e.rule)),
            rule: cell(&e.rule),
            signal: cell(&e.signal),
            source: e.source.as_str(),
            quoted: quote_evidence(tool, e.source, &e.text),
        })
        .collect();
    let findings: Vec<FindingRow> = c
        .findings
        .iter()
        .take(50)
        .map(|f| FindingRow {
            kind: cell(&f.kind),
            severity: f.severity.as_str(),
            message: cell(&f.message),
        })
        .collect();
    let attacks: Vec<AttackRow> = site
        .attacks
        .iter()
        .filter(|a| a.applies(c))
        .map(|a| AttackRow {
            id: &a.id,
            title: &a.title,
            defence: &a.defence,
        })
        .collect();
    let (params, params_cut) = params_of(tool);
    let one = native_policy(std::slice::from_ref(c));
    let native_json = serde_json::to_string_pretty(&one)?;
    let claude_json =
        serde_json::to_string_pretty(&claude_code_settings(&entry.slug, std::slice::from_ref(c)))?;
    let history: Vec<HistoryRow> = server
        .history
        .iter()
        .rev()
        .filter(|h| h.tool == tool.name)
        .take(50)
        .map(|h| HistoryRow {
            at: cell(&h.at),
            change: cell(&h.change),
            description_before: h.description_before.as_deref().map(cell),
        })
        .collect();
    let definition = reveal(&serde_json::to_string_pretty(tool_json)?);
    let (def, def_cut) = markdown::cut(&definition, MAX_DEFINITION);
    let definition = if def_cut {
        format!("{def}\n… (shortened for display; the full definition is in the JSON API)")
    } else {
        def.to_string()
    };

    let name = &t.name;
    let sname = &entry.name;
    let risk = risk_label(c.risk);
    let action = action_label(c.policy.action);
    let effects = if c.effects.is_empty() {
        String::new()
    } else {
        format!(
            " with {} effects",
            c.effects
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rate = match c.policy.rate_limit {
        Some(r) => format!(
            "Yes: the recommended rule allows at most {} calls per {} seconds; the native policy carries that limit (Claude Code has no rate limits, so there it is simply allowed).",
            r.max, r.window
        ),
        None => format!(
            "Yes. Add a rate_limit to its rule in the native policy, for example {{\"{}\": {{\"rate_limit\": {{\"max\": 10, \"window\": 60}}}}}}, to cap calls to 10 a minute.",
            reveal(&tool.name)
        ),
    };
    let verdict = format!(
        "{name} is a {} tool on {sname} ({} access{effects}). Risk: {}. Recommended policy: {}{}.",
        c.class.title(),
        c.access,
        risk.to_lowercase(),
        action.to_lowercase(),
        if c.policy.action == Action::Allow {
            ", so it is allowed under a default-deny policy"
        } else {
            ""
        }
    );
    let faq = [
        Faq {
            q: format!("What does {name} do?"),
            a: if t.summary.is_empty() { format!("{sname} gives no description for {name}. toolrisk classifies it as {} access from its name and schema.", c.access) }
                    else { format!("{} toolrisk classifies it as {} access{effects}.", sentence(&cell(&t.summary)), c.access) }},
        Faq {
            q: format!("Which server provides {name}?"),
            a: format!("The {sname} MCP server ({}). It offers {} tools in all.", cell(&server.id), entry.tool_count)},
        Faq {
            q: format!("What is the risk level of {name}?"),
            a: format!("{risk}, with {} confidence. {}", c.confidence, if c.rationale.is_empty() { String::new() } else { cell(&c.rationale) })},
        Faq {
            q: format!("How do I enforce a policy on {name}?"),
            a: format!("Paste the native rule above into your gateway's policy (default deny), or add {} to the {} list of permissions in Claude Code's settings.json.",
                            crate::classify::policy::claude_code_name(&entry.slug, &tool.name),
                            match c.policy.action { Action::Allow | Action::RateLimit => "allow", Action::RequireApproval => "ask", Action::Deny => "deny" })},
        Faq {
            q: format!("Can {name} be rate-limited?"), a: rate},
        Faq {
            q: format!("How do I block {name}?"),
            a: format!("Under a default-deny policy, leave it out of the tools list, or give it {{\"action\": \"deny\"}}. In Claude Code, add {} to permissions.deny.",
                            crate::classify::policy::claude_code_name(&entry.slug, &tool.name))},
    ];
    let desc = format!(
        "{name} on {sname}: {} tool, {} risk, recommended policy {}. {}",
        c.class.title(),
        risk.to_lowercase(),
        action.to_lowercase(),
        t.summary
    );
    let url = site.tool_url(t);
    let ctx = ToolPage {
        page: page(
            site,
            &format!("{name} ({sname}): {} risk {} tool", risk, c.class.title()),
            &desc,
            &url,
        ),
        tool: ToolView {
            name,
            display: cell(tool.display_name()),
            slug: &t.slug,
            description_html: tool
                .description
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .map(markdown::render),
            truncated_from: tool.description_truncated_from,
            has_schema: tool.input_schema.is_some(),
        },
        c: ClassView {
            risk: c.risk.as_str(),
            risk_label: risk,
            class: c.class.as_str(),
            class_label: c.class.title(),
            access: c.access.as_str(),
            effects: c.effects.iter().map(|e| e.as_str()).collect(),
            action: c.policy.action.as_str(),
            action_label: action,
            rate_limit: c.policy.rate_limit,
            reason: cell(&c.policy.reason),
            confidence: c.confidence.as_str(),
            rationale: cell(&c.rationale),
            evidence,
            findings,
            per_argument: c
                .per_argument
                .iter()
                .take(MAX_PARAMS)
                .map(|a| ArgumentRow {
                    param: cell(&a.param),
                    value: cell(&a.value),
                    access: a.access.as_str(),
                    class: a.class.as_str(),
                    kind: a.kind.as_str(),
                })
                .collect(),
            per_argument_sql: c
                .per_argument
                .iter()
                .any(|a| a.kind == crate::model::ArgumentKind::Sql),
        },
        verdict,
        params,
        params_cut,
        annotations: annotations_of(tool, c),
        attacks,
        native_json,
        claude_json,
        more_siblings: siblings_all.len() > MAX_SIBLINGS + 1,
        similar,
        history,
        definition,
        wrong_label_url: wrong_label_url(site, server, &entry.slug, tool, c, &url),
        faq_jsonld: faq_jsonld(&faq),
        faq,
    };
    let mut ctx = tera::Context::from_serialize(&ctx).map_err(|e| anyhow!("tool.html: {e}"))?;
    ctx.insert_value("server", shared.server.clone());
    ctx.insert_value("siblings", tera::Value::from(siblings));
    tpl.render_context("tool.html", &ctx)
}

/// The "wrong label?" link: `<repo>/issues/new?title=…&body=…` (GitHub's prefilled-issue
/// query parameters). The body carries the tool, the verdict and a ready `overrides.yaml`
/// entry; names are JSON-quoted, which YAML reads as the same string.
fn wrong_label_url(
    site: &Site,
    server: &Server,
    slug: &str,
    tool: &Tool,
    c: &Classification,
    page_url: &str,
) -> String {
    let q = |s: &str| serde_json::to_string(&cell(s)).unwrap_or_default();
    let title = format!(
        "Wrong label: {} on {}",
        cell(&tool.name),
        cell(&server.name)
    );
    let body = format!(
        "The label of `{tool}` on `{server}` looks wrong.\n\n\
         Page: {page}\n\
         Verdict: {access} access, class {class}, risk {risk}, policy {action}, {conf} confidence\n\n\
         What it really does (and why):\n\n\n\
         The override to add to `catalogue/overrides.yaml` (keep the fields you change):\n\n\
         ```yaml\noverrides:\n- server: {qs}\n  tool: {qt}\n  reason: \"FILL IN: why the rules are wrong\"\n  access: {access}\n  risk: {risk}\n  action: {action}\n```\n",
        tool = cell(&tool.name),
        server = cell(&server.id),
        page = site.abs(page_url),
        access = c.access.as_str(),
        class = c.class.as_str(),
        risk = c.risk.as_str(),
        action = c.policy.action.as_str(),
        conf = c.confidence.as_str(),
        qs = q(slug),
        qt = serde_json::to_string(crate::text::truncate_at_char(&tool.name, 300)).unwrap_or_default(),
    );
    match url::Url::parse(&format!("{}/issues/new", site.repo_url)) {
        Ok(mut u) => {
            u.query_pairs_mut()
                .append_pair("title", &title)
                .append_pair("body", &body);
            u.to_string()
        }
        Err(_) => format!("{}/issues", site.repo_url),
    }
}

fn faq_jsonld(faq: &[Faq]) -> String {
    let v = json!({
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": faq.iter().map(|f| json!({"@type": "Question", "name": f.q,
            "acceptedAnswer": {"@type": "Answer", "text": f.a}})).collect::<Vec<_>>(),
    });
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}
