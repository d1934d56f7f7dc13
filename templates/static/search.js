// Client-side search over the static index in <root>/search/ (see src/site/search.rs for the format).
// The tokeniser mirrors src/index/text.rs (`term`, `index_terms`, `query_terms`): the one
// `toolrisk query` uses, so both find the same tools (tests/browser.rs compares them).
// Results are built with DOM methods and textContent only: indexed text is crawled and untrusted.
(function () {
  "use strict";
  var STOP = ["the","and","or","of","to","in","for","on","with","is","this","that","by","from","as","be","it","at","an","are","if","its","can","will","use"];
  var MAX_TERM = 32, MAX_WORD = 64, MAX_WORDS = 32, PER_PAGE = 50;
  var FIELD_WEIGHT = [10, 4, 2];
  var ALNUM = /[\p{Alphabetic}\p{Nd}\p{Nl}\p{No}]/u, LOWER = /\p{Lowercase}/u, UPPER = /\p{Uppercase}/u,
      ALPHA = /\p{Alphabetic}/u, NUM = /[\p{Nd}\p{Nl}\p{No}]/u;
  var enc = new TextEncoder();
  // The site's path on its host ("" at the root, /toolrisk for a project site): every fetch
  // and link goes under it. Set by base.html from --base-url.
  var ROOT = document.documentElement.getAttribute("data-root") || "";
  var $ = function (id) { return document.getElementById(id); };
  var form = $("search-form"), input = $("q"), fClass = $("f-class"), fRisk = $("f-risk"),
      fEffect = $("f-effect"), fServer = $("f-server"), status = $("search-status"),
      list = $("search-results"), pager = $("search-pager");
  var meta = null, shardCache = {}, docCache = {}, fileCache = {};
  var ranked = [], page = 1;

  function splitWords(text) {
    var words = [], cur = "", prev = null;
    for (var c of text) {
      if (!ALNUM.test(c)) { if (cur) words.push(cur); cur = ""; prev = null; continue; }
      if (prev !== null) {
        var boundary = (LOWER.test(prev) && UPPER.test(c)) || (ALPHA.test(prev) && NUM.test(c)) || (NUM.test(prev) && ALPHA.test(c));
        if (boundary && cur) { words.push(cur); cur = ""; }
      }
      cur += c; prev = c;
    }
    if (cur) words.push(cur);
    return words;
  }
  function ends(w, s) { return w.slice(-s.length) === s; }
  function term(word) {
    var w = word.toLowerCase(), n = Array.from(w).length;
    if (n < 2 || STOP.indexOf(w) >= 0) return null;
    if (n >= 4) {
      if (ends(w, "ies") && !ends(w, "eies") && !ends(w, "aies")) w = w.slice(0, -3) + "y";
      else if (ends(w, "es") && !(ends(w, "aes") || ends(w, "ees") || ends(w, "oes"))) w = w.slice(0, -1);
      else if (ends(w, "s") && !(ends(w, "us") || ends(w, "ss"))) w = w.slice(0, -1);
    }
    return enc.encode(w).length <= MAX_TERM ? w : null;
  }
  function queryTerms(text) {
    var out = [];
    splitWords(text).forEach(function (w) {
      if (out.length >= MAX_WORDS || enc.encode(w).length > MAX_WORD) return;
      var t = term(w); if (t !== null) out.push(t);
    });
    return out.slice(0, MAX_WORDS);
  }
  function getJSON(url, missing) {
    return fetch(url).then(function (r) {
      if (r.status === 404 && missing !== undefined) return missing;
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }
  function hex(bytes) { return Array.from(bytes).map(function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join(""); }
  // The file named for a term's first bytes (`shard_name` in src/site/search.rs).
  function shardName(bytes) {
    var ascii = Array.from(bytes).every(function (b) { return (b >= 97 && b <= 122) || (b >= 48 && b <= 57); });
    return ascii ? String.fromCharCode.apply(null, bytes) : "x-" + hex(bytes);
  }
  function shardOf(t) {
    var b = enc.encode(t), two = shardName(b.slice(0, 2));
    if (meta.split.indexOf(two) < 0) return two;
    return b.length > 2 ? shardName(b.slice(0, 3)) : two + "_";
  }
  function cached(url, missing) {
    if (!fileCache[url]) fileCache[url] = getJSON(url, missing);
    return fileCache[url];
  }
  function shard(name) { return cached(ROOT + "/search/terms/" + name + ".json", {}); }
  function chunk(n) { return cached(ROOT + "/search/docs/" + n + ".json"); }
  function serverBucket(slug) {
    var h = 0x811c9dc5;
    enc.encode(slug).forEach(function (b) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; });
    var x = (h & 0xff).toString(16);
    return x.length < 2 ? "0" + x : x;
  }
  function decode(code) {
    var risk = code % 4; code = (code - risk) / 4;
    var cls = code % 6; code = (code - cls) / 6;
    var field = code % 3;
    return { doc: (code - field) / 3, field: field, cls: cls, risk: risk };
  }
  // Scores by document of the documents holding every term (`all`) or any of them.
  function score(qs, shards, keep, all) {
    var scores = null;
    qs.forEach(function (t, i) {
      var here = new Map(), postings = shards[i][t] || [];
      postings.forEach(function (code) {
        var p = decode(code);
        if (!keep(p)) return;
        var s = FIELD_WEIGHT[p.field];
        if ((here.get(p.doc) || 0) < s) here.set(p.doc, s);
      });
      if (scores === null) { scores = here; return; }
      var next = new Map();
      if (all) {
        scores.forEach(function (s, d) { if (here.has(d)) next.set(d, s + here.get(d)); });
      } else {
        scores.forEach(function (s, d) { next.set(d, s + (here.get(d) || 0)); });
        here.forEach(function (s, d) { if (!scores.has(d)) next.set(d, s); });
      }
      scores = next;
    });
    return scores || new Map();
  }
  function run(keepPage) {
    var q = input.value.trim(), qs = queryTerms(q);
    var wantClass = fClass.value, wantRisk = fRisk.value, wantEffect = fEffect.value,
        wantServer = fServer.value.trim().toLowerCase();
    if (!keepPage) page = 1;
    var params = new URLSearchParams();
    if (q) params.set("q", q);
    if (wantClass) params.set("class", wantClass);
    if (wantRisk) params.set("risk", wantRisk);
    if (wantEffect) params.set("effect", wantEffect);
    if (wantServer) params.set("server", wantServer);
    if (page > 1) params.set("page", String(page));
    history.replaceState(null, "", "?" + params.toString());
    list.textContent = ""; pager.hidden = true;
    if (!qs.length) { status.textContent = q ? "Type a word of at least two letters or digits." : ""; return; }
    status.textContent = "Searching…";
    var ready = meta ? Promise.resolve(meta) : getJSON(ROOT + "/search/meta.json").then(function (m) { meta = m; return m; });
    ready.then(function (m) {
      var ci = wantClass ? m.classes.indexOf(wantClass) : -1;
      var atLeast = wantRisk.slice(-1) === "+";
      var ri = wantRisk ? m.risks.indexOf(atLeast ? wantRisk.slice(0, -1) : wantRisk) : -1;
      var effect = wantEffect ? cached(ROOT + "/search/effects/" + wantEffect + ".json", []) : Promise.resolve(null);
      var server = wantServer ? cached(ROOT + "/search/servers/" + serverBucket(wantServer) + ".json", {}) : Promise.resolve(null);
      return Promise.all([Promise.all(qs.map(function (t) { return shard(shardOf(t)); })), effect, server]).then(function (got) {
        var shards = got[0], effectDocs = got[1] ? new Set(got[1]) : null, range = got[2] ? got[2][wantServer] || [0, 0] : null;
        // Effect and server filters select tools: servers (class 5) are not documents then.
        var keep = function (p) {
          if (ci >= 0 && p.cls !== ci) return false;
          if (ri >= 0 && (atLeast ? p.risk < ri : p.risk !== ri)) return false;
          if (effectDocs && !effectDocs.has(p.doc)) return false;
          if (range && !(p.doc >= range[0] && p.doc < range[0] + range[1])) return false;
          return true;
        };
        // Every word first; if nothing has them all, any of them (as `toolrisk query`).
        var scores = score(qs, shards, keep, true);
        if (scores.size === 0 && qs.length > 1) scores = score(qs, shards, keep, false);
        ranked = Array.from(scores.entries()).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
        return show();
      });
    }).catch(function (e) { status.textContent = "Search failed: " + e.message; });
  }
  function show() {
    var pages = Math.max(1, Math.ceil(ranked.length / PER_PAGE));
    if (page > pages) page = pages;
    var top = ranked.slice((page - 1) * PER_PAGE, page * PER_PAGE);
    var chunks = Array.from(new Set(top.map(function (e) { return Math.floor(e[0] / meta.chunk); })));
    return Promise.all(chunks.map(chunk)).then(function (loaded) {
      var byChunk = {};
      chunks.forEach(function (c, i) { byChunk[c] = loaded[i]; });
      list.textContent = "";
      render(top.map(function (e) { return byChunk[Math.floor(e[0] / meta.chunk)][e[0] % meta.chunk]; }));
      var total = ranked.length;
      status.textContent = total === 0 ? "No tool or server matches." :
        total + (total === 1 ? " match" : " matches") + (pages > 1 ? ", " + ((page - 1) * PER_PAGE + 1) + "–" + ((page - 1) * PER_PAGE + top.length) + " shown." : ".");
      pager.hidden = pages < 2;
      $("search-page").textContent = "Page " + page + " of " + pages;
      $("search-prev").disabled = page <= 1;
      $("search-next").disabled = page >= pages;
    });
  }
  function badge(cls, text) {
    var s = document.createElement("span"); s.className = "badge sm " + cls; s.textContent = text; return s;
  }
  function render(docs) {
    docs.forEach(function (d) {
      if (!d) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = ROOT + d[3];
      var code = document.createElement(d[4] === "server" ? "strong" : "code");
      code.textContent = d[0];
      a.appendChild(code);
      li.appendChild(a);
      li.appendChild(document.createTextNode(" "));
      if (d[5]) li.appendChild(badge("risk-" + d[5], d[5]));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(badge(d[4] === "server" ? "" : "class-" + d[4], d[4]));
      var m = document.createElement("div"); m.className = "meta";
      m.textContent = (d[4] === "server" ? d[1] : "on " + d[1]) + (d[2] ? " — " + d[2] : "");
      li.appendChild(m);
      list.appendChild(li);
    });
  }
  var params = new URLSearchParams(location.search);
  input.value = params.get("q") || "";
  fClass.value = params.get("class") || "";
  fRisk.value = params.get("risk") || "";
  fEffect.value = params.get("effect") || "";
  fServer.value = params.get("server") || "";
  page = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  var timer = null;
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { run(); }, 150); });
  fServer.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { run(); }, 300); });
  [fClass, fRisk, fEffect].forEach(function (f) { f.addEventListener("change", function () { run(); }); });
  $("search-prev").addEventListener("click", function () { page -= 1; run(true); });
  $("search-next").addEventListener("click", function () { page += 1; run(true); });
  // Exposed for the test that compares this search with `toolrisk query`.
  window.toolriskSearch = { queryTerms: queryTerms, results: function () { return ranked.map(function (e) { return e[0]; }); } };
  if (input.value) run(true);
})();
