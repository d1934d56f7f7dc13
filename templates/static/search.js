// Client-side search over the static index in /search/ (see src/site/search.rs for the format).
// Results are built with DOM methods and textContent only: indexed text is crawled and untrusted.
(function () {
  "use strict";
  var STOP = ["the","and","or","of","to","in","for","on","with","is","this","that","by","from","as","be","it","at","an","are","if","its","can","will","use"];
  var FIELD_WEIGHT = [10, 4, 2];
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var fClass = document.getElementById("f-class");
  var fRisk = document.getElementById("f-risk");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var meta = null, shardCache = {}, docCache = {};

  function terms(text) {
    var out = [], cur = "", prevLower = false;
    function flush() {
      if (cur.length >= 2 && cur.length <= 32 && STOP.indexOf(cur) < 0) out.push(cur);
      cur = "";
    }
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (/[A-Za-z0-9]/.test(c)) {
        if (/[A-Z]/.test(c) && prevLower) flush();
        prevLower = /[a-z0-9]/.test(c);
        cur += c.toLowerCase();
      } else { prevLower = false; flush(); }
    }
    flush();
    return out;
  }
  function getJSON(url) {
    return fetch(url).then(function (r) { if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); });
  }
  // Which file holds the terms starting like `t` (see `split` in meta.json).
  function shardOf(t) {
    if (meta.split.indexOf(t.slice(0, 2)) < 0) return t.slice(0, 2);
    return t.length > 2 ? t.slice(0, 3) : t + "_";
  }
  function shard(prefix) {
    if (!shardCache[prefix]) {
      shardCache[prefix] = getJSON("/search/terms/" + prefix + ".json").catch(function () { return {}; });
    }
    return shardCache[prefix];
  }
  function chunk(n) {
    if (!docCache[n]) docCache[n] = getJSON("/search/docs/" + n + ".json");
    return docCache[n];
  }
  function decode(code) {
    var risk = code % 4; code = (code - risk) / 4;
    var cls = code % 6; code = (code - cls) / 6;
    var field = code % 3;
    return { doc: (code - field) / 3, field: field, cls: cls, risk: risk };
  }
  function run() {
    var q = input.value.trim();
    var qs = terms(q);
    var wantClass = fClass.value, wantRisk = fRisk.value;
    var params = new URLSearchParams();
    if (q) params.set("q", q);
    if (wantClass) params.set("class", wantClass);
    if (wantRisk) params.set("risk", wantRisk);
    history.replaceState(null, "", "?" + params.toString());
    list.textContent = "";
    if (!qs.length) { status.textContent = q ? "Type at least two letters or digits." : ""; return; }
    status.textContent = "Searching…";
    var ready = meta ? Promise.resolve(meta) : getJSON("/search/meta.json").then(function (m) { meta = m; return m; });
    ready.then(function (m) {
      var ci = wantClass ? m.classes.indexOf(wantClass) : -1;
      var ri = wantRisk ? m.risks.indexOf(wantRisk) : -1;
      return Promise.all(qs.map(function (t) { return shard(shardOf(t)); })).then(function (shards) {
        var scores = null;
        qs.forEach(function (t, i) {
          var last = i === qs.length - 1, index = shards[i], here = new Map();
          Object.keys(index).forEach(function (term) {
            var exact = term === t;
            if (!exact && !(last && term.indexOf(t) === 0)) return;
            index[term].forEach(function (code) {
              var p = decode(code);
              if (ci >= 0 && p.cls !== ci) return;
              if (ri >= 0 && p.risk !== ri) return;
              var s = FIELD_WEIGHT[p.field] * (exact ? 2 : 1);
              if ((here.get(p.doc) || 0) < s) here.set(p.doc, s);
            });
          });
          if (scores === null) { scores = here; return; }
          var next = new Map();
          scores.forEach(function (s, d) { if (here.has(d)) next.set(d, s + here.get(d)); });
          scores = next;
        });
        var ranked = Array.from(scores.entries()).sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
        var top = ranked.slice(0, 50);
        var chunks = Array.from(new Set(top.map(function (e) { return Math.floor(e[0] / m.chunk); })));
        return Promise.all(chunks.map(chunk)).then(function (loaded) {
          var byChunk = {};
          chunks.forEach(function (c, i) { byChunk[c] = loaded[i]; });
          render(top.map(function (e) { return byChunk[Math.floor(e[0] / m.chunk)][e[0] % m.chunk]; }), ranked.length);
        });
      });
    }).catch(function (e) { status.textContent = "Search failed: " + e.message; });
  }
  function badge(cls, text) {
    var s = document.createElement("span"); s.className = "badge sm " + cls; s.textContent = text; return s;
  }
  function render(docs, total) {
    status.textContent = total === 0 ? "No tool or server matches." :
      (total > docs.length ? "Showing the best " + docs.length + " of " + total + " matches." : total + (total === 1 ? " match." : " matches."));
    docs.forEach(function (d) {
      if (!d) return;
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = d[3];
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
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  var timer = null;
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
  fClass.addEventListener("change", run);
  fRisk.addEventListener("change", run);
  if (input.value) run();
})();
