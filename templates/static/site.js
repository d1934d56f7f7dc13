// Copy buttons for policy snippets. The page works without this script.
document.addEventListener("click", function (ev) {
  var b = ev.target.closest ? ev.target.closest("button.copy") : null;
  if (!b) return;
  var el = document.getElementById(b.getAttribute("data-copy"));
  if (!el) return;
  var text = el.textContent;
  var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, function () { select(el); });
  } else { select(el); }
  function select(node) {
    var r = document.createRange(); r.selectNodeContents(node);
    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
    b.textContent = "Press Ctrl+C";
  }
});

// Tables with class "sortable": sort by any column (click its header) and filter rows as you
// type. Progressive enhancement over the static table: without this script it is just a table.
(function () {
  "use strict";
  var RISK = { low: 0, medium: 1, high: 2, critical: 3 };
  function key(cell) {
    var t = cell.textContent.trim(), l = t.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(RISK, l)) return [0, RISK[l]];
    if (/^-?\d+(\.\d+)?$/.test(t)) return [0, parseFloat(t)];
    return [1, l];
  }
  function compare(a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table, n) {
    var body = table.tBodies[0], head = table.tHead;
    if (!body || !head) return;
    var rows = Array.prototype.slice.call(body.rows);
    Array.prototype.forEach.call(head.rows[0].cells, function (th, col) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "sort"; b.textContent = th.textContent;
      th.textContent = ""; th.appendChild(b); th.setAttribute("aria-sort", "none");
      b.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.rows[0].cells, function (o) { o.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        rows.sort(function (x, y) {
          var c = compare(key(x.cells[col]), key(y.cells[col]));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    var label = document.createElement("label"), input = document.createElement("input");
    input.type = "search"; input.id = "table-filter-" + n; input.className = "table-filter";
    label.htmlFor = input.id; label.textContent = "Filter rows ";
    var count = document.createElement("span"); count.className = "muted"; count.setAttribute("aria-live", "polite");
    label.appendChild(input); label.appendChild(count);
    table.parentNode.insertBefore(label, table);
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      rows.forEach(function (r) {
        var text = r.textContent.toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        r.hidden = !ok; if (ok) shown += 1;
      });
      count.textContent = words.length ? " " + shown + " of " + rows.length + " rows" : "";
    });
  });
})();
