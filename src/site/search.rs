//! The static search index: a small inverted index split into files, searched by
//! `static/search.js` in the reader's browser with no server-side component.
//!
//! Why not pagefind: fed every page it needs more memory than this machine has at 500k pages,
//! and search here only needs name, server, first sentence, class and risk. This index holds
//! just those, so its build costs a few bytes per word and its files load on demand:
//! - `search/meta.json`: number of documents and the chunk size;
//! - `search/docs/<n>.json`: documents `n*CHUNK ..`, each `[title, server, summary, url, class, risk]`;
//! - `search/terms/<xy>.json`: every term starting with `xy`, with its postings. A posting packs
//!   `((doc * 3 + field) * 6 + class) * 4 + risk`, so class and risk filters and ranking need no
//!   document fetch (field 0 = name, 1 = server, 2 = summary; class 5 = a server).

use super::output::Output;
use super::Site;
use crate::model::{Class, Risk};
use anyhow::Result;
use std::collections::{BTreeMap, HashMap};

/// Documents per `docs/<n>.json` file.
pub const CHUNK: usize = 256;
/// Most postings kept for one term.
pub const MAX_POSTINGS: usize = 50_000;
/// A term file over this many bytes is split by the third letter.
const SPLIT_BYTES: usize = 256 * 1024;
/// Longest indexed term.
const MAX_TERM: usize = 32;

const STOP: &[&str] = &[
    "the", "and", "or", "of", "to", "in", "for", "on", "with", "is", "this", "that", "by", "from",
    "as", "be", "it", "at", "an", "are", "if", "its", "can", "will", "use",
];

/// Splits text into index terms: ASCII letters and digits, camelCase split, lower-cased,
/// at least two characters. The browser script does the same to queries.
pub fn terms(text: &str, out: &mut Vec<String>) {
    let mut cur = String::new();
    let mut prev_lower = false;
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if cur.len() >= 2 && cur.len() <= MAX_TERM && !STOP.contains(&cur.as_str()) {
            out.push(std::mem::take(cur));
        } else {
            cur.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                flush(&mut cur, out);
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            flush(&mut cur, out);
        }
    }
    flush(&mut cur, out);
}

fn class_code(c: Class) -> u64 {
    Class::ALL.iter().position(|x| *x == c).unwrap_or(0) as u64
}

fn risk_code(r: Risk) -> u64 {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) as u64
}

/// Writes the index for every tool and server of `site`.
pub fn write_index(site: &Site, out: &Output) -> Result<()> {
    let mut postings: HashMap<String, Vec<u64>> = HashMap::new();
    let mut docs: Vec<serde_json::Value> = Vec::with_capacity(CHUNK);
    let mut doc: u64 = 0;
    let mut buf = Vec::new();
    let mut add = |doc: u64, fields: [&str; 3], class: u64, risk: u64| {
        // One posting per term and document, in its most important field.
        let mut seen: HashMap<String, u64> = HashMap::new();
        for (f, text) in fields.iter().enumerate() {
            buf.clear();
            terms(text, &mut buf);
            for t in buf.drain(..) {
                seen.entry(t).or_insert(f as u64);
            }
        }
        for (t, f) in seen {
            postings
                .entry(t)
                .or_default()
                .push(((doc * 3 + f) * 6 + class) * 4 + risk);
        }
    };
    let flush_docs = |docs: &mut Vec<serde_json::Value>, n: u64| -> Result<()> {
        let bytes = serde_json::to_vec(&docs)?;
        out.write(&format!("search/docs/{n}.json"), &bytes)?;
        docs.clear();
        Ok(())
    };
    for t in &site.tools {
        let s = &site.servers[t.server as usize];
        add(
            doc,
            [&t.name, &s.name, &t.summary],
            class_code(t.class),
            risk_code(t.risk),
        );
        docs.push(serde_json::json!([
            t.name,
            s.name,
            t.summary,
            site.tool_url(t),
            t.class.as_str(),
            t.risk.as_str()
        ]));
        doc += 1;
        if docs.len() == CHUNK {
            flush_docs(&mut docs, doc / CHUNK as u64 - 1)?;
        }
    }
    for s in &site.servers {
        let risk = s.max_risk.map(risk_code).unwrap_or(0);
        add(doc, [&s.name, &s.id, &s.summary], 5, risk);
        docs.push(serde_json::json!([
            s.name,
            format!("{} tools", s.tool_count),
            s.summary,
            format!("/servers/{}/", s.slug),
            "server",
            s.max_risk.map(|r| r.as_str()).unwrap_or("")
        ]));
        doc += 1;
        if docs.len() == CHUNK {
            flush_docs(&mut docs, doc / CHUNK as u64 - 1)?;
        }
    }
    if !docs.is_empty() {
        flush_docs(&mut docs, doc / CHUNK as u64)?;
    }

    // Very common terms keep their most useful postings only (names first, then servers,
    // then descriptions): a word in every description ranks nothing and would make its file
    // megabytes long.
    for list in postings.values_mut() {
        if list.len() > MAX_POSTINGS {
            list.sort_by_key(|c| ((c / 24) % 3, c / 72));
            list.truncate(MAX_POSTINGS);
            list.sort_unstable();
        }
    }
    let mut shards: BTreeMap<String, Vec<(String, Vec<u64>)>> = BTreeMap::new();
    for (term, list) in postings {
        shards
            .entry(term[..2].to_string())
            .or_default()
            .push((term, list));
    }
    // A two-letter file that would be large is split by the third letter; two-letter terms
    // of a split prefix go to `<xy>_`.
    let mut split = Vec::new();
    let mut files: BTreeMap<String, Vec<(String, Vec<u64>)>> = BTreeMap::new();
    for (prefix, list) in shards {
        let size: usize = list.iter().map(|(t, c)| t.len() + 4 + c.len() * 8).sum();
        if size > SPLIT_BYTES {
            split.push(prefix.clone());
            for (term, codes) in list {
                let key = if term.len() > 2 {
                    term[..3].to_string()
                } else {
                    format!("{term}_")
                };
                files.entry(key).or_default().push((term, codes));
            }
        } else {
            files.insert(prefix, list);
        }
    }
    let mut text = String::new();
    for (prefix, mut list) in files {
        list.sort_by(|a, b| a.0.cmp(&b.0));
        text.clear();
        text.push('{');
        for (i, (term, codes)) in list.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push('"');
            text.push_str(term);
            text.push_str("\":[");
            for (j, c) in codes.iter().enumerate() {
                if j > 0 {
                    text.push(',');
                }
                text.push_str(&c.to_string());
            }
            text.push(']');
        }
        text.push('}');
        out.write(&format!("search/terms/{prefix}.json"), text.as_bytes())?;
    }
    let meta = serde_json::json!({
        "version": 1,
        "docs": doc,
        "chunk": CHUNK,
        "split": split,
        "classes": Class::ALL.iter().map(|c| c.as_str()).chain(["server"]).collect::<Vec<_>>(),
        "risks": Risk::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    });
    out.write("search/meta.json", meta.to_string().as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_split_names_like_the_browser_does() {
        let mut t = vec![];
        terms("check_job_status getJobStatus of the HTTPServer x", &mut t);
        assert_eq!(
            t,
            [
                "check",
                "job",
                "status",
                "get",
                "job",
                "status",
                "httpserver"
            ]
        );
    }
}
