//! The method in the open: `/method/` (signals, decision, risk grading, confidence, the
//! taxonomy, from docs/classification.md) and `/method/rules/<id>/`, one page per rule with
//! its examples, how many catalogued tools it fired on and a sample of them.

use super::*;

/// The classification docs, shown on the method page.
const CLASSIFICATION_MD: &str = include_str!("../../../docs/classification.md");
/// Tools listed on a rule or attack page (the count says how many there are in all).
pub(crate) const MAX_SAMPLE: usize = 50;

/// The URL of a rule's page.
pub fn rule_url(id: &str) -> String {
    format!("/method/rules/{}/", crate::slug::slugify(id))
}

/// A tool as a row of a sample table.
pub(crate) fn tool_row(site: &Site, t: &ToolEntry) -> Value {
    let s = &site.servers[t.server as usize];
    json!({"name": t.name, "url": site.tool_url(t), "server": s.name,
           "server_url": format!("/servers/{}/", s.slug), "class": t.class.as_str(),
           "risk": t.risk.as_str(), "summary": cell(&t.summary)})
}

/// The highest-risk tools among `hits` (first `MAX_SAMPLE`, riskiest first, then site order).
pub(crate) fn sample(site: &Site, mut hits: Vec<u32>) -> Vec<Value> {
    hits.sort_by_key(|&i| (std::cmp::Reverse(site.tools[i as usize].risk), i));
    hits.iter()
        .take(MAX_SAMPLE)
        .map(|&i| tool_row(site, &site.tools[i as usize]))
        .collect()
}

/// The method page and one page per rule; returns how many pages.
pub(crate) fn render_method(
    site: &Site,
    rules: &crate::classify::rules::RuleSet,
    tpl: &Templates,
    out: &Output,
) -> Result<u64> {
    // By rule: the tools whose evidence cites it, in one pass over the tools.
    let mut fired: Vec<Vec<u32>> = vec![Vec::new(); rules.rules.len()];
    for (i, t) in site.tools.iter().enumerate() {
        for &r in &t.rules {
            if let Some(list) = fired.get_mut(r as usize) {
                list.push(i as u32);
            }
        }
    }
    let rows: Vec<Value> = rules
        .rules
        .iter()
        .zip(&fired)
        .map(|(r, f)| json!({"id": r.id, "url": rule_url(&r.id), "description": cell(&r.description), "count": f.len()}))
        .collect();
    let ctx = json!({
        "page": page(site, "How toolrisk classifies tools", "The signals, the decision, risk grading, confidence and the taxonomy behind every toolrisk verdict, and every rule with the tools it fired on.", "/method/"),
        "doc_html": markdown::render(CLASSIFICATION_MD),
        "rules": rows,
        "tools": site.tools.len(),
    });
    out.write(
        "method/index.html",
        tpl.render("method.html", &ctx)?.as_bytes(),
    )?;
    let mut n = 1;
    for (r, f) in rules.rules.iter().zip(fired) {
        let examples: Vec<String> = r
            .examples
            .iter()
            .take(30)
            .map(|e| match e {
                crate::classify::rules::Example::Name(n) => cell(n),
                crate::classify::rules::Example::Tool(t) => cell(&t.name),
            })
            .collect();
        let url = rule_url(&r.id);
        let count = f.len();
        let ctx = json!({
            "page": page(site, &format!("Rule {}", r.id), &r.description, &url),
            "rule": {"id": cell(&r.id), "description": cell(&r.description), "signal": cell(&r.signal_label),
                     "weight": r.weight, "ambiguous": r.ambiguous, "examples": examples},
            "count": count, "tools": site.tools.len(), "sample": sample(site, f),
        });
        out.write(
            &format!("{}index.html", &url[1..]),
            tpl.render("rule.html", &ctx)?.as_bytes(),
        )?;
        n += 1;
    }
    Ok(n)
}
