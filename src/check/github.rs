//! GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`): one inline
//! annotation per result. Escaping follows GitHub's toolkit (`@actions/core` command.ts):
//! `%`, CR and LF in the message; those and `:` and `,` in properties. A definition's text
//! cannot end the command or start another one: every line break in it is escaped.

use super::{Item, Level};

/// The message part.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One command line per result (suppressed ones as `notice`, saying so), in order.
pub fn commands(items: &[Item]) -> String {
    let mut out = String::new();
    for it in items {
        let cmd = match (it.suppressed.is_some(), it.level) {
            (true, _) | (false, Level::Note) => "notice",
            (false, Level::Warning) => "warning",
            (false, Level::Error) => "error",
        };
        let mut props = Vec::new();
        if let Some(l) = &it.location {
            props.push(format!("file={}", escape_property(&l.path)));
            props.push(format!("line={}", l.start_line));
            props.push(format!("col={}", l.start_column));
            props.push(format!("endLine={}", l.end_line));
            if l.end_line == l.start_line {
                props.push(format!("endColumn={}", l.end_column));
            }
        }
        let tool = crate::classify::report::clean(&it.tool, 100);
        props.push(format!(
            "title={}",
            escape_property(&format!("toolrisk {} ({tool})", it.rule_id))
        ));
        let message = match &it.suppressed {
            Some(reason) => format!(
                "suppressed in toolrisk.toml: {} — {}",
                crate::classify::report::clean(reason, 500),
                it.message
            ),
            None => it.message.clone(),
        };
        out.push_str(&format!(
            "::{cmd} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("50%\r\nnext ::x"), "50%25%0D%0Anext ::x");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }
}
