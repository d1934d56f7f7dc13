//! The static search index: a small inverted index split into files, searched by
//! `static/search.js` in the reader's browser with no server-side component.
//!
//! Why not pagefind: fed every page it needs more memory than this machine has at 500k pages,
//! and search here only needs name, server, first sentence, class and risk. This index holds
//! just those, so its build costs a few bytes per word and its files load on demand:
//! - `search/meta.json`: number of documents and the chunk size;
//! - `search/docs/<n>.json`: documents `n*CHUNK ..`, each `[title, server, summary, url, class, risk]`
//!   (`url` a site path such as `/tools/a/b/`; search.js puts the site's root in front of it,
//!   so the index is the same whatever `--base-url` says);
//! - `search/terms/<xy>.json`: every term starting with `xy`, with its postings. A posting packs
//!   `((doc * 3 + field) * 6 + class) * 4 + risk`, so class and risk filters and ranking need no
//!   document fetch (field 0 = name, 1 = server, 2 = summary; class 5 = a server).
//!
//! A rebuild tokenises every document again, which takes about 0.1 s at 500k tools, but
//! writes only the files whose content digest changed (see `write_index`).

use super::cache::Cache;
use super::output::Output;
use super::{ServerEntry, Site, ToolEntry};
use crate::model::{Class, Risk};
use anyhow::Result;
use rayon::prelude::*;
use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;

/// Documents per `docs/<n>.json` file.
pub const CHUNK: usize = 256;
/// Most postings kept for one term.
pub const MAX_POSTINGS: usize = 50_000;
/// A term file over this many bytes is split by the third letter.
const SPLIT_BYTES: usize = 256 * 1024;
/// Longest indexed term.
const MAX_TERM: usize = 32;

/// A term, zero-padded to `MAX_TERM` bytes, as little-endian words: terms never hold a zero
/// byte, so two keys are equal when their terms are.
type Key = [u64; MAX_TERM / 8];

/// The bytes of a term, zero-padded: these compare like the terms do.
fn key_bytes(key: &Key) -> [u8; MAX_TERM] {
    let mut b = [0u8; MAX_TERM];
    for (c, w) in b.chunks_exact_mut(8).zip(key) {
        c.copy_from_slice(&w.to_le_bytes());
    }
    b
}

fn text(bytes: &[u8; MAX_TERM]) -> &[u8] {
    &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(MAX_TERM)]
}

/// The key of a term (at most `MAX_TERM` bytes, as `index::text::term` makes them).
fn key_of(term: &str) -> Key {
    let mut b = [0u8; MAX_TERM];
    let t = crate::text::truncate_at_char(term, MAX_TERM).as_bytes();
    b[..t.len()].copy_from_slice(t);
    let mut key: Key = [0; MAX_TERM / 8];
    for (w, c) in key.iter_mut().zip(b.chunks_exact(8)) {
        *w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
    }
    key
}

/// The terms of text for the index: `toolrisk query`'s tokeniser (`index::text`).
pub fn terms(text: &str, out: &mut Vec<String>) {
    out.extend(crate::index::text::index_terms(text));
}

/// The name of the term file for a term's first bytes: the bytes themselves when they are
/// ASCII letters and digits, else `x-` and their hex (so a name never splits a character
/// or leaves ASCII). `static/search.js` names files the same way.
fn shard_name(prefix: &[u8]) -> String {
    if prefix
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        String::from_utf8_lossy(prefix).into_owned()
    } else {
        format!("x-{}", hex::encode(prefix))
    }
}

fn class_code(c: Class) -> u32 {
    Class::ALL.iter().position(|x| *x == c).unwrap_or(0) as u32
}

fn risk_code(r: Risk) -> u32 {
    Risk::ALL.iter().position(|x| *x == r).unwrap_or(0) as u32
}

#[inline(always)]
fn same(a: &Key, b: &Key) -> bool {
    ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0
}

/// Numbers terms densely in the order they are first seen: an open-addressing table, which
/// for keys of four words is much cheaper than a `HashMap<String, _>`.
struct Interner {
    /// `id + 1` per slot, 0 for a free one; the length is a power of two.
    slots: Vec<u32>,
    keys: Vec<Key>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            slots: vec![0; 1024],
            keys: Vec::new(),
        }
    }

    #[inline]
    fn slot(key: &Key, mask: usize) -> usize {
        let h = key[0].wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ key[1].wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ key[2].wrapping_mul(0x1656_67B1_9E37_79F9)
            ^ key[3].wrapping_mul(0x27D4_EB2F_1656_67C5);
        let h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (h >> 32) as usize & mask
    }

    /// The id of `key`, and whether it was first seen now.
    #[inline(always)]
    fn id(&mut self, key: Key) -> (u32, bool) {
        let mask = self.slots.len() - 1;
        let mut i = Interner::slot(&key, mask);
        loop {
            match self.slots[i] {
                0 => break,
                s if same(&self.keys[(s - 1) as usize], &key) => return (s - 1, false),
                _ => i = (i + 1) & mask,
            }
        }
        self.insert(key, i)
    }

    #[inline(never)]
    fn insert(&mut self, key: Key, i: usize) -> (u32, bool) {
        let id = self.keys.len() as u32;
        self.keys.push(key);
        self.slots[i] = id + 1;
        if self.keys.len() * 2 > self.slots.len() {
            let mask = self.slots.len() * 2 - 1;
            self.slots = vec![0; mask + 1];
            for (id, key) in self.keys.iter().enumerate() {
                let mut i = Interner::slot(key, mask);
                while self.slots[i] != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = id as u32 + 1;
            }
        }
        (id, true)
    }
}

/// Collects the postings of terms, one per term and document, in its first field.
struct Indexer {
    terms: Interner,
    /// Per term: the document (plus one) of its last posting.
    last: Vec<u32>,
    lists: Vec<Vec<u32>>,
}

impl Indexer {
    #[inline(always)]
    fn id(&mut self, key: Key) -> u32 {
        let (id, new) = self.terms.id(key);
        if new {
            self.last.push(0);
            self.lists.push(Vec::new());
        }
        id
    }

    /// Adds `code` to term `id` unless it has a posting for document `stamp - 1` already.
    #[inline]
    fn post(&mut self, id: u32, stamp: u32, code: u32) {
        let last = &mut self.last[id as usize];
        if *last != stamp {
            *last = stamp;
            self.lists[id as usize].push(code);
        }
    }

    /// Posts every term of `terms` (space-separated, already tokenised).
    fn add_terms(&mut self, terms: &str, stamp: u32, code: u32) {
        for t in terms.split(' ').filter(|t| !t.is_empty()) {
            let id = self.id(key_of(t));
            self.post(id, stamp, code);
        }
    }
}

/// One document of `docs/<n>.json`.
#[derive(Clone, Copy)]
enum DocRef<'a> {
    Tool(&'a ToolEntry, &'a ServerEntry),
    Server(&'a ServerEntry),
}

impl DocRef<'_> {
    /// Tools first, then servers.
    fn get(site: &Site, d: usize) -> DocRef<'_> {
        match site.tools.get(d) {
            Some(t) => DocRef::Tool(t, &site.servers[t.server as usize]),
            None => DocRef::Server(&site.servers[d - site.tools.len()]),
        }
    }

    /// Appends what the document shows, for the digest of its chunk: its kind, then a fixed
    /// number of fields, each ended by 0xff (which never occurs in UTF-8).
    fn shown(self, buf: &mut Vec<u8>) {
        let mut field = |s: &str| {
            buf.extend_from_slice(s.as_bytes());
            buf.push(0xff);
        };
        match self {
            DocRef::Tool(t, s) => {
                field("\u{1}");
                for f in [
                    &t.name, &s.name, &t.summary, &s.slug, &t.slug, &t.words, &s.terms,
                ] {
                    field(f);
                }
                field(t.class.as_str());
                field(t.risk.as_str());
            }
            DocRef::Server(s) => {
                field("\u{2}");
                for f in [&s.name, &s.summary, &s.slug, &s.terms] {
                    field(f);
                }
                field(s.max_risk.map(|r| r.as_str()).unwrap_or(""));
                field(&s.tool_count.to_string());
            }
        }
    }

    /// Appends `[title, server, summary, url, class, risk]` as JSON.
    fn write_json(self, buf: &mut Vec<u8>) -> Result<()> {
        let url;
        let count;
        let fields: [&str; 6] = match self {
            DocRef::Tool(t, s) => {
                url = format!("/tools/{}/{}/", s.slug, t.slug);
                [
                    &t.name,
                    &s.name,
                    &t.summary,
                    &url,
                    t.class.as_str(),
                    t.risk.as_str(),
                ]
            }
            DocRef::Server(s) => {
                url = format!("/servers/{}/", s.slug);
                count = format!("{} tools", s.tool_count);
                [
                    &s.name,
                    &count,
                    &s.summary,
                    &url,
                    "server",
                    s.max_risk.map(|r| r.as_str()).unwrap_or(""),
                ]
            }
        };
        buf.push(b'[');
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            serde_json::to_writer(&mut *buf, f)?;
        }
        buf.push(b']');
        Ok(())
    }
}

/// The terms and postings of a run of whole doc chunks, and the digest of each chunk.
struct Part {
    keys: Vec<Key>,
    lists: Vec<Vec<u32>>,
    chunk_digests: Vec<u64>,
}

/// Tokenises the documents of doc chunks `chunks`.
fn index_part(site: &Site, chunks: Range<usize>) -> Part {
    let ndocs = site.tools.len() + site.servers.len();
    let mut ix = Indexer {
        terms: Interner::new(),
        last: Vec::new(),
        lists: Vec::new(),
    };
    let mut chunk_digests = Vec::with_capacity(chunks.len());
    // A server's tools are contiguous: its name is tokenised once for all of them.
    let mut server_terms: Vec<u32> = Vec::new();
    let mut cur_server = None;
    let mut shown = Vec::new();
    for c in chunks {
        shown.clear();
        for d in c * CHUNK..((c + 1) * CHUNK).min(ndocs) {
            let stamp = d as u32 + 1;
            let doc = DocRef::get(site, d);
            match doc {
                DocRef::Tool(t, s) => {
                    let code = d as u32 * 72 + class_code(t.class) * 4 + risk_code(t.risk);
                    let (name, words) = t.words.split_once('\t').unwrap_or((&t.words, ""));
                    ix.add_terms(name, stamp, code);
                    if cur_server != Some(t.server) {
                        cur_server = Some(t.server);
                        server_terms.clear();
                        for w in s.terms.split(' ').filter(|w| !w.is_empty()) {
                            server_terms.push(ix.id(key_of(w)));
                        }
                    }
                    for &id in &server_terms {
                        ix.post(id, stamp, code + 24);
                    }
                    ix.add_terms(words, stamp, code + 48);
                }
                DocRef::Server(s) => {
                    let code = d as u32 * 72 + 5 * 4 + s.max_risk.map(risk_code).unwrap_or(0);
                    ix.add_terms(&s.terms, stamp, code);
                    let mut summary = Vec::new();
                    terms(&s.summary, &mut summary);
                    ix.add_terms(&summary.join(" "), stamp, code + 48);
                }
            }
            doc.shown(&mut shown);
        }
        chunk_digests.push(digest(&shown));
    }
    Part {
        keys: ix.terms.keys,
        lists: ix.lists,
        chunk_digests,
    }
}

/// A term of the whole index. Its postings stay in the parts that found them, in document
/// order, unless the list was cut to `MAX_POSTINGS`.
struct Term<'p> {
    bytes: [u8; MAX_TERM],
    lists: Vec<&'p [u32]>,
    count: usize,
    cut: Option<Vec<u32>>,
}

impl Term<'_> {
    fn postings(&self) -> Vec<&[u32]> {
        match &self.cut {
            Some(c) => vec![c],
            None => self.lists.clone(),
        }
    }
}

/// The `MAX_POSTINGS` most useful of a term's postings (names first, then servers, then
/// descriptions, each in document order), in document order.
fn cut(lists: &[&[u32]]) -> Vec<u32> {
    let field = |c: u32| ((c / 24) % 3) as usize;
    let mut per_field = [0usize; 3];
    for &c in lists.iter().copied().flatten() {
        per_field[field(c)] += 1;
    }
    let mut room = MAX_POSTINGS;
    let mut quota = [0usize; 3];
    for (q, n) in quota.iter_mut().zip(per_field) {
        *q = n.min(room);
        room -= *q;
    }
    let mut out = Vec::with_capacity(MAX_POSTINGS);
    for &c in lists.iter().copied().flatten() {
        let q = &mut quota[field(c)];
        if *q > 0 {
            *q -= 1;
            out.push(c);
        }
    }
    out
}

/// The digest of a file's content (SipHash with fixed keys, as the rest of the build cache).
fn digest(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

fn push_u32(buf: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// A file of the index.
enum File<'a> {
    Docs(usize),
    Terms(&'a str, &'a [u32]),
}

/// Writes the index for every tool and server of `site`.
///
/// A rebuild tokenises every document again (cheap), but serialises and writes only the files
/// whose digest differs from the one `old` recorded: a doc chunk's digest covers what its
/// documents show, a term file's its terms and postings. `new` gets every file's digest under
/// `search:<path>`. Kept files are marked, so the stale-file sweep leaves them.
pub fn write_index(site: &Site, out: &Output, old: &Cache, new: &mut Cache) -> Result<()> {
    let ndocs = site.tools.len() + site.servers.len();
    anyhow::ensure!(
        (ndocs as u64) * 72 < u32::MAX as u64,
        "too many documents for the search index: {ndocs}"
    );
    let nchunks = ndocs.div_ceil(CHUNK);
    // Whole doc chunks per part; a few parts per thread, so that one slow part does not hold
    // up the others (each part interns its own terms, so not too many).
    let nparts = (rayon::current_num_threads() * 2).clamp(1, nchunks.max(1));
    let per = nchunks.div_ceil(nparts).max(1);
    let parts: Vec<Part> = (0..nchunks)
        .step_by(per)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|c| index_part(site, c..(c + per).min(nchunks)))
        .collect();

    // Merge the parts' terms.
    let mut ids = Interner::new();
    let mut all: Vec<Term> = Vec::new();
    for p in &parts {
        for (key, list) in p.keys.iter().zip(&p.lists) {
            if list.is_empty() {
                continue;
            }
            let (id, first) = ids.id(*key);
            if first {
                all.push(Term {
                    bytes: key_bytes(key),
                    lists: vec![list],
                    count: list.len(),
                    cut: None,
                });
            } else {
                let t = &mut all[id as usize];
                t.lists.push(list);
                t.count += list.len();
            }
        }
    }
    drop(ids);

    // Very common terms keep their most useful postings only: a word in every description
    // ranks nothing and would make its file megabytes long.
    for t in &mut all {
        if t.count > MAX_POSTINGS {
            let list = cut(&t.lists);
            t.count = list.len();
            t.cut = Some(list);
        }
    }
    let mut shards: BTreeMap<&[u8], Vec<u32>> = BTreeMap::new();
    for (i, t) in all.iter().enumerate() {
        shards.entry(&t.bytes[..2]).or_default().push(i as u32);
    }
    // A two-letter file that would be large is split by the third letter; two-letter terms
    // of a split prefix go to `<xy>_`.
    let name = shard_name;
    let mut split = Vec::new();
    let mut files: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (prefix, list) in shards {
        let size: usize = list
            .iter()
            .map(|&i| text(&all[i as usize].bytes).len() + 4 + all[i as usize].count * 8)
            .sum();
        if size > SPLIT_BYTES {
            split.push(name(prefix));
            for i in list {
                let term = text(&all[i as usize].bytes);
                let key = if term.len() > 2 {
                    name(&term[..3])
                } else {
                    format!("{}_", name(term))
                };
                files.entry(key).or_default().push(i);
            }
        } else {
            files.insert(name(prefix), list);
        }
    }
    for list in files.values_mut() {
        list.sort_unstable_by(|&a, &b| all[a as usize].bytes.cmp(&all[b as usize].bytes));
    }

    let jobs: Vec<File> = (0..nchunks)
        .map(File::Docs)
        .chain(files.iter().map(|(k, v)| File::Terms(k, v)))
        .collect();
    let digests: Vec<(String, u64)> = jobs
        .into_par_iter()
        .map(|file| -> Result<(String, u64)> {
            let (rel, digest) = match file {
                File::Docs(n) => (
                    format!("search/docs/{n}.json"),
                    parts[n / per].chunk_digests[n % per],
                ),
                File::Terms(prefix, list) => {
                    let mut h = DefaultHasher::new();
                    for &i in list {
                        let t = &all[i as usize];
                        t.bytes.hash(&mut h);
                        t.count.hash(&mut h);
                        // Raw words, no length: the same however the lists are split.
                        for p in t.postings() {
                            Hash::hash_slice(p, &mut h);
                        }
                    }
                    (format!("search/terms/{prefix}.json"), h.finish())
                }
            };
            let key = format!("search:{rel}");
            if old.digests.get(&key) == Some(&digest) && out.resolve(&rel)?.is_file() {
                out.mark(&rel);
                return Ok((key, digest));
            }
            let mut buf = Vec::new();
            match file {
                File::Docs(n) => {
                    buf.push(b'[');
                    for d in n * CHUNK..((n + 1) * CHUNK).min(ndocs) {
                        if d > n * CHUNK {
                            buf.push(b',');
                        }
                        DocRef::get(site, d).write_json(&mut buf)?;
                    }
                    buf.push(b']');
                }
                File::Terms(_, list) => {
                    buf.push(b'{');
                    for (k, &i) in list.iter().enumerate() {
                        let t = &all[i as usize];
                        if k > 0 {
                            buf.push(b',');
                        }
                        buf.push(b'"');
                        buf.extend_from_slice(text(&t.bytes));
                        buf.extend_from_slice(b"\":[");
                        for (j, &c) in t.postings().into_iter().flatten().enumerate() {
                            if j > 0 {
                                buf.push(b',');
                            }
                            push_u32(&mut buf, c);
                        }
                        buf.push(b']');
                    }
                    buf.push(b'}');
                }
            }
            out.write(&rel, &buf)?;
            Ok((key, digest))
        })
        .collect::<Result<_>>()?;
    new.digests.extend(digests);

    // Filters the postings do not carry: per effect, the tool documents that have it; per
    // server, the range of its tool documents (a server's tools are contiguous), in files
    // bucketed by `server_bucket` so that no file grows with the catalogue much.
    for (i, e) in crate::model::Effect::ALL.iter().enumerate() {
        let ids: Vec<u32> = (0..site.tools.len() as u32)
            .filter(|&d| site.tools[d as usize].effects & (1 << i) != 0)
            .collect();
        out.write(
            &format!("search/effects/{}.json", e.as_str()),
            &serde_json::to_vec(&ids)?,
        )?;
    }
    let mut buckets: BTreeMap<String, BTreeMap<&str, (u32, u32)>> = BTreeMap::new();
    for s in &site.servers {
        buckets
            .entry(server_bucket(&s.slug))
            .or_default()
            .insert(&s.slug, (s.first_tool, s.tool_count));
    }
    for (b, map) in &buckets {
        out.write(
            &format!("search/servers/{b}.json"),
            &serde_json::to_vec(map)?,
        )?;
    }

    let meta = serde_json::json!({
        "version": 2,
        "effects": crate::model::Effect::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "docs": ndocs,
        "chunk": CHUNK,
        "split": split,
        "classes": Class::ALL.iter().map(|c| c.as_str()).chain(["server"]).collect::<Vec<_>>(),
        "risks": Risk::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    });
    out.write("search/meta.json", meta.to_string().as_bytes())?;
    Ok(())
}

/// The file of `search/servers/` that holds a server: FNV-1a (32 bits) of its slug's bytes,
/// low byte, as two hex digits. `static/search.js` computes the same.
pub fn server_bucket(slug: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in slug.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{:02x}", h & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_what_sorting_by_field_then_document_kept() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        // The cut falls in the descriptions, the server names, the names, or nowhere.
        let fields: [(u32, &[u32]); 4] = [
            (60_000, &[0, 1, 2, 2, 2, 2, 2]),
            (100_000, &[1, 1, 1, 1, 0]),
            (200_000, &[0, 0, 0, 1, 2]),
            (45_000, &[2, 1, 0]),
        ];
        for (docs, table) in fields {
            // One posting per document the term is in, in document order, split in parts.
            let mut list = Vec::new();
            for doc in 0..docs {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                if rng % 5 == 0 {
                    continue;
                }
                let field = table[((rng >> 3) % table.len() as u64) as usize];
                list.push(doc * 72 + field * 24 + ((rng >> 8) % 24) as u32);
            }
            let mut want = list.clone();
            want.sort_by_key(|c| ((c / 24) % 3, c / 72));
            want.truncate(MAX_POSTINGS);
            want.sort_unstable();
            let (a, b) = list.split_at(list.len() / 3);
            assert_eq!(cut(&[a, b]), want);
        }
    }

    #[test]
    fn interner_numbers_terms_densely_through_growth() {
        let mut ix = Interner::new();
        let key = |i: usize| key_of(&format!("term{i}"));
        for i in 0..5000 {
            assert_eq!(ix.id(key(i)), (i as u32, true));
        }
        for i in 0..5000 {
            assert_eq!(ix.id(key(i)), (i as u32, false));
        }
        assert_eq!(text(&key_bytes(&key(42))), b"term42");
    }
}
