(function () {
  "use strict";
  // Sortable tables: click a header button; numbers sort by the cell's data-v
  // (missing values last in both directions), text by its content.
  function key(cell) {
    if (!cell) { return ""; }
    var v = cell.getAttribute("data-v");
    return v === null ? cell.textContent.trim().toLowerCase() : v;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.getAttribute("data-type") === "num";
    rows.sort(function (a, b) {
      var x = key(a.cells[col]);
      var y = key(b.cells[col]);
      if (numeric) {
        var xe = x === "" || isNaN(parseFloat(x));
        var ye = y === "" || isNaN(parseFloat(y));
        if (xe || ye) { return xe === ye ? 0 : (xe ? 1 : -1); }
        var d = parseFloat(x) - parseFloat(y);
        return asc ? d : -d;
      }
      var c = x.localeCompare(y);
      return asc ? c : -c;
    });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      var b = th.querySelector("button");
      if (b) { b.addEventListener("click", function () { sortBy(table, i, th); }); }
    });
  });
  // Row filter: <input data-filter="table-id"> keeps rows containing every word typed.
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table || !table.tBodies.length) { return; }
    var count = document.getElementById(input.getAttribute("data-count") || "");
    input.addEventListener("input", function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var t = r.textContent.toLowerCase();
        var ok = words.every(function (w) { return t.indexOf(w) !== -1; });
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (count) { count.textContent = String(shown); }
    });
  });
  // Print everything: open the collapsed sections before printing.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
}());
