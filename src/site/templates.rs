//! The page templates (tera) and static files: built-in copies compiled into the binary, each
//! replaceable by a file of the same name in the user's templates folder.

use anyhow::{anyhow, Context as _, Result};
use std::path::Path;

/// Built-in templates, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("tool.html", include_str!("../../templates/tool.html")),
    ("server.html", include_str!("../../templates/server.html")),
    ("list.html", include_str!("../../templates/list.html")),
    ("attack.html", include_str!("../../templates/attack.html")),
    ("changes.html", include_str!("../../templates/changes.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("404.html", include_str!("../../templates/404.html")),
    ("method.html", include_str!("../../templates/method.html")),
    ("rule.html", include_str!("../../templates/rule.html")),
    ("api.html", include_str!("../../templates/api.html")),
    ("compare.html", include_str!("../../templates/compare.html")),
];

/// Built-in static files, by path under the site root.
pub const STATIC: &[(&str, &[u8])] = &[
    (
        "static/style.css",
        include_bytes!("../../templates/static/style.css"),
    ),
    (
        "static/site.js",
        include_bytes!("../../templates/static/site.js"),
    ),
    (
        "static/search.js",
        include_bytes!("../../templates/static/search.js"),
    ),
    (
        "static/compare.js",
        include_bytes!("../../templates/static/compare.js"),
    ),
    (
        "static/favicon.svg",
        include_bytes!("../../templates/static/favicon.svg"),
    ),
];

pub struct Templates {
    pub tera: tera::Tera,
    /// Static files after overrides: (path under the site root, bytes).
    pub statics: Vec<(String, Vec<u8>)>,
    /// Digest of every template and static file, for the build cache.
    pub sources_digest: u64,
}

impl Templates {
    /// The built-in templates, with those in `dir` (if given) replacing them by name.
    pub fn load(dir: Option<&Path>) -> Result<Templates> {
        let mut tera = tera::Tera::new();
        let mut sources: Vec<(String, String)> = TEMPLATES
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        let mut statics: Vec<(String, Vec<u8>)> = STATIC
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect();
        if let Some(dir) = dir {
            if !dir.is_dir() {
                anyhow::bail!("templates folder {} does not exist", dir.display());
            }
            for (name, src) in sources.iter_mut() {
                let p = dir.join(name.as_str());
                if p.is_file() {
                    *src = std::fs::read_to_string(&p)
                        .with_context(|| format!("cannot read template {}", p.display()))?;
                }
            }
            for (name, bytes) in statics.iter_mut() {
                let p = dir.join(name.as_str());
                if p.is_file() {
                    *bytes = std::fs::read(&p)
                        .with_context(|| format!("cannot read {}", p.display()))?;
                }
            }
        }
        tera.set_escape_fn(escape_html);
        for (name, src) in &sources {
            tera.add_raw_template(name, src)
                .map_err(|e| anyhow!("template {name}: {e}"))?;
        }
        let sources_digest = super::cache::digest(&(&sources, &statics));
        Ok(Templates {
            tera,
            statics,
            sources_digest,
        })
    }

    pub fn render(&self, name: &str, ctx: &serde_json::Value) -> Result<String> {
        let ctx = tera::Context::from_serialize(ctx).map_err(|e| anyhow!("{name}: {e}"))?;
        self.render_context(name, &ctx)
    }

    /// Renders with a context the caller assembled (e.g. from values shared between pages).
    pub fn render_context(&self, name: &str, ctx: &tera::Context) -> Result<String> {
        self.tera
            .render(name, ctx)
            .map_err(|e| anyhow!("rendering {name}: {e:?}"))
    }
}

/// Escapes like tera's built-in `escape_html` (`& < > " '`), but copies the runs between special
/// characters in one write each instead of one write per byte: escaping was a tenth of a
/// full build's CPU.
fn escape_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = input.as_bytes();
    let mut last = 0;
    for (i, b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#39;",
            _ => continue,
        };
        out.write_all(&bytes[last..i])?;
        out.write_all(rep)?;
        last = i + 1;
    }
    out.write_all(&bytes[last..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_matches_teras_own() {
        for s in ["", "plain", "<a href=\"x\">&'</a>", "é<ü>", "&&", "tail&"] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            super::escape_html(s, &mut a).unwrap();
            tera::escape_html(s, &mut b).unwrap();
            assert_eq!(a, b, "{s}");
        }
    }
}
