//! `toolrisk query`: ranked full-text search over the catalogue's tools, with filters, from
//! the persistent index (built or refreshed on the way).

use std::io::Write;
use std::process::ExitCode;
use toolrisk::catalogue::Catalogue;
use toolrisk::index::{Hit, Index, Query, RiskFilter};
use toolrisk::model::{Access, Class, Effect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  toolrisk query delete --risk high+\n  toolrisk query --class financial --format csv > financial.csv\n  toolrisk query --server github-mcp-server --limit 0\n\n\
    Exit status:\n  0  some tools matched\n  1  no tool matched\n  2  a bad query or an unreadable catalogue"
)]
pub struct Args {
    /// Words to look for in tool names, descriptions and server names (`job status` finds
    /// `check_job_status`). Without text, tools are listed riskiest first.
    pub text: Vec<String>,
    /// Only this class: read, write, execute, destructive, financial.
    #[arg(long, value_parser = parse::<Class>)]
    pub class: Option<Class>,
    /// Only this access: read, write, execute.
    #[arg(long, value_parser = parse::<Access>)]
    pub access: Option<Access>,
    /// Only this risk (low, medium, high, critical), or that and worse with `+` (`high+`).
    #[arg(long, value_parser = parse::<RiskFilter>)]
    pub risk: Option<RiskFilter>,
    /// Only tools with this effect (destructive, financial, send, credentials, …).
    #[arg(long, value_parser = parse::<Effect>)]
    pub effect: Option<Effect>,
    /// Only this server (slug, id or name).
    #[arg(long)]
    pub server: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// At most this many results (0 = all).
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    #[command(flatten)]
    pub catalogue: crate::cli::CatalogueArg,
}

fn parse<T: std::str::FromStr<Err = toolrisk::model::UnknownLabel>>(
    s: &str,
) -> Result<T, toolrisk::model::UnknownLabel> {
    s.parse()
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::new(&args.catalogue);
    let ix = Index::open(&cat)?;
    let r = &ix.refresh;
    if let Some(why) = &r.rebuilt {
        crate::ui::note!("index: rebuilt, {why} ({} files)", r.reindexed);
    } else if r.reindexed + r.removed > 0 {
        crate::ui::note!(
            "index: {} changed file(s) re-read, {} removed",
            r.reindexed,
            r.removed
        );
    }
    if let Some(first) = r.errors.first() {
        eprintln!(
            "warning: {} catalogue file(s) could not be read and are left out (first: {first}); \
             `toolrisk validate{}` lists them all",
            r.errors.len(),
            args.catalogue.hint_flag()
        );
    }
    let text = args.text.join(" ");
    let q = Query {
        text: Some(text).filter(|t| !t.trim().is_empty()),
        class: args.class,
        access: args.access,
        risk: args.risk,
        effect: args.effect,
        server: args.server.clone(),
        limit: args.limit,
    };
    let hits = ix.search(&q)?;
    if let Some(s) = &args.server {
        if hits.is_empty() && !ix.has_server(s)? {
            anyhow::bail!(
                "no server `{s}` in the catalogue at {} (give its slug, id or name)",
                cat.root.display()
            );
        }
        // A server a registry lists without its tools has none to match, which is not the
        // same as having none.
        if hits.is_empty() {
            if let Ok(rec) = cat.find(s) {
                if rec.crawl.status == toolrisk::model::CrawlStatus::ToolsUnknown {
                    eprintln!(
                        "note: `{}`: tools not known (a registry lists it without its tools)",
                        toolrisk::classify::report::clean(&rec.slug, 100)
                    );
                }
            }
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &hits)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        Format::Csv => write_csv(&mut out, &hits),
        Format::Table => write_table(&mut out, &hits, args.limit),
    };
    // A closed pipe (`toolrisk query … | head`) is handled once, in main.
    written.and_then(|()| out.flush())?;
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Crawled text made safe for a terminal: control characters (escape sequences included) and
/// invisible format characters become spaces, runs of whitespace collapse.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = if c.is_control() || is_invisible(c) || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

fn is_invisible(c: char) -> bool {
    toolrisk::text::hidden_kind(c).is_some()
}

/// At most `n` characters, with `…` when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn write_table(out: &mut impl Write, hits: &[Hit], limit: usize) -> std::io::Result<()> {
    if hits.is_empty() {
        eprintln!("no tools match");
        return Ok(());
    }
    let rows: Vec<[String; 5]> = hits
        .iter()
        .map(|h| {
            [
                h.risk.as_str().to_string(),
                h.class.as_str().to_string(),
                cut(&clean(&h.server), 32),
                cut(&clean(&h.tool), 40),
                cut(&clean(h.description.as_deref().unwrap_or("")), 70),
            ]
        })
        .collect();
    let head = ["RISK", "CLASS", "SERVER", "TOOL", "DESCRIPTION"];
    let mut width = head.map(|h| h.len());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 5], paint: bool| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            // Risk and class in colour on a terminal (padding outside the colour codes).
            let shown = match i {
                0 if paint => crate::ui::paint(c, crate::ui::risk_code(c)),
                1 if paint => crate::ui::paint(c, crate::ui::class_code(c)),
                _ => c.to_string(),
            };
            s.push_str(&shown);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(width[i] - c.chars().count() + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, head, false)?;
    for r in &rows {
        line(out, [&r[0], &r[1], &r[2], &r[3], &r[4]], true)?;
    }
    if limit > 0 && hits.len() == limit {
        eprintln!("(first {limit} results; --limit N for more, --limit 0 for all)");
    }
    Ok(())
}

fn csv_field(s: &str) -> String {
    // Quote everything that needs it; neutralise spreadsheet formulas in crawled text.
    // TAB and CR start formulas too in some spreadsheets (OWASP "CSV injection").
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn write_csv(out: &mut impl Write, hits: &[Hit]) -> std::io::Result<()> {
    writeln!(
        out,
        "server,server_id,tool,access,class,effects,risk,action,confidence,findings,score,description"
    )?;
    for h in hits {
        let effects: Vec<&str> = h.effects.iter().map(|e| e.as_str()).collect();
        let cells = [
            csv_field(&h.server),
            csv_field(&h.server_id),
            csv_field(&h.tool),
            h.access.as_str().to_string(),
            h.class.as_str().to_string(),
            csv_field(&effects.join(";")),
            h.risk.as_str().to_string(),
            h.action.as_str().to_string(),
            h.confidence.as_str().to_string(),
            h.findings.to_string(),
            format!("{:.3}", h.score),
            csv_field(h.description.as_deref().unwrap_or("")),
        ];
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_is_cleaned() {
        assert_eq!(clean("a\x1b[31mred\n\tb\u{200b}c"), "a [31mred b c");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("\t=cmd()"), "'\t=cmd()");
        assert_eq!(csv_field("\r=cmd()"), "\"'\r=cmd()\"");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
