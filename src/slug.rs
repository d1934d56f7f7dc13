//! URL- and file-safe slugs. Every crawled name passes through here before it becomes part of
//! a path, so a slug can never hold a separator, a dot-dot or a control character.

use sha2::{Digest, Sha256};

/// Longest slug, in bytes, before a hash suffix keeps it unique.
const MAX_LEN: usize = 80;

/// Lower-case ASCII letters, digits and single dashes; never empty, never `.` or `..`.
/// Names that have nothing usable (all punctuation, or non-Latin script) get a short hash.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !out.is_empty() && !dash {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        return format!("x-{}", short_hash(name));
    }
    if out.len() > MAX_LEN {
        out.truncate(MAX_LEN - 9);
        while out.ends_with('-') {
            out.pop();
        }
        out.push('-');
        out.push_str(&short_hash(name));
    }
    out
}

/// Eight hex digits of the SHA-256 of `s`: a deterministic tie-breaker for slugs.
pub fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..4])
}

/// Assigns unique slugs to names in a deterministic way: the names are sorted, the first
/// keeps the plain slug and later ones get a hash of their full name appended.
/// Returns slugs in the order of `names`.
pub fn unique_slugs<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].as_ref().cmp(names[b].as_ref()).then(a.cmp(&b)));
    let mut taken = std::collections::HashSet::new();
    let mut out = vec![String::new(); names.len()];
    for i in order {
        let name = names[i].as_ref();
        let mut slug = slugify(name);
        if !taken.insert(slug.clone()) {
            let mut n = 0u32;
            loop {
                let candidate = format!("{}-{}", slug, short_hash(&format!("{name}\u{0}{n}")));
                if taken.insert(candidate.clone()) {
                    slug = candidate;
                    break;
                }
                n += 1;
            }
        }
        out[i] = slug;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe() {
        assert_eq!(
            slugify("@modelcontextprotocol/server-memory"),
            "modelcontextprotocol-server-memory"
        );
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("get_Job.Status"), "get-job-status");
        assert!(slugify("..").starts_with("x-"));
        assert!(slugify("日本語").starts_with("x-"));
        assert!(slugify(&"a".repeat(500)).len() <= MAX_LEN);
    }

    #[test]
    fn collisions_are_resolved_deterministically() {
        let a = unique_slugs(&["get-x", "get_x", "GET.X"]);
        let b = unique_slugs(&["GET.X", "get_x", "get-x"]);
        assert_eq!(a[0], b[2]);
        assert_eq!(a[1], b[1]);
        let set: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(set.len(), 3);
    }
}
