// The compare page: loads /api/servers/<slug>.json for two to four servers and tabulates them.
// Built with DOM methods and textContent only: the records are crawled and untrusted.
(function () {
  "use strict";
  var RISKS = ["low", "medium", "high", "critical"];
  var CLASSES = ["read", "write", "execute", "destructive", "financial"];
  var POWERS = [
    ["reads private data or secrets", function (c) { return has(c, "private_data") || has(c, "credentials"); }],
    ["takes in content others control", function (c) { return has(c, "untrusted_input"); }],
    ["sends outside", function (c) { return has(c, "send") || has(c, "network"); }],
    ["runs code or commands", function (c) { return c.access === "execute" || has(c, "code"); }],
    ["moves money", function (c) { return has(c, "financial"); }],
    ["deletes or overwrites", function (c) { return has(c, "destructive"); }]
  ];
  // The site's path on its host ("" at the root); set by base.html from --base-url.
  var ROOT = document.documentElement.getAttribute("data-root") || "";
  function has(c, e) { return (c.effects || []).indexOf(e) >= 0; }
  var input = document.getElementById("compare-s"), status = document.getElementById("compare-status"),
      out = document.getElementById("compare-out");
  var slugs = (new URLSearchParams(location.search).get("s") || "").split(",")
    .map(function (s) { return s.trim().toLowerCase(); }).filter(Boolean).slice(0, 4);
  input.value = slugs.join(", ");
  if (slugs.length < 2) { status.textContent = slugs.length ? "Add at least one more server to compare." : ""; return; }
  status.textContent = "Loading…";
  Promise.all(slugs.map(function (s) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(s)) return Promise.resolve(null);
    return fetch(ROOT + "/api/servers/" + s + ".json").then(function (r) { return r.ok ? r.json() : null; }).catch(function () { return null; });
  })).then(function (recs) {
    var missing = slugs.filter(function (s, i) { return !recs[i]; });
    var ok = recs.filter(Boolean);
    status.textContent = missing.length ? "Not found: " + missing.join(", ") + "." : "";
    if (ok.length < 1) return;
    var table = document.createElement("table"); table.className = "compare";
    var head = table.createTHead().insertRow(), cornerTh = document.createElement("th");
    cornerTh.scope = "col"; cornerTh.textContent = "Server"; head.appendChild(cornerTh);
    ok.forEach(function (r) {
      var th = document.createElement("th"); th.scope = "col";
      var a = document.createElement("a"); a.href = ROOT + "/servers/" + r.server.slug + "/"; a.textContent = r.server.name;
      th.appendChild(a); head.appendChild(th);
    });
    var body = table.createTBody();
    function row(label, f) {
      var tr = body.insertRow(), th = document.createElement("th");
      th.scope = "row"; th.textContent = label; tr.appendChild(th);
      ok.forEach(function (r) { tr.insertCell().textContent = f(r.classifications || []); });
    }
    row("Tools", function (cs) { return String(cs.length); });
    row("Highest risk", function (cs) {
      var m = -1; cs.forEach(function (c) { m = Math.max(m, RISKS.indexOf(c.risk)); }); return m < 0 ? "none" : RISKS[m];
    });
    CLASSES.forEach(function (k) { row(k + " tools", function (cs) { return String(cs.filter(function (c) { return c.class === k; }).length); }); });
    POWERS.forEach(function (p) { row("It " + p[0], function (cs) { var n = cs.filter(p[1]).length; return n ? "yes (" + n + ")" : "no"; }); });
    out.textContent = ""; out.appendChild(table);
  });
})();
