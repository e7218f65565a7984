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
  // Paged tables (class "paged", data-page-size): one page of the matching rows at a time.
  function pager(table) {
    var size = parseInt(table.getAttribute("data-page-size"), 10) || 20;
    var state = { page: 0, all: false };
    var nav = document.createElement("div");
    nav.className = "pager";
    function button(text, fn) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.addEventListener("click", fn);
      nav.appendChild(b);
      return b;
    }
    var prev = button("‹ Previous", function () { state.page -= 1; apply(); });
    var label = document.createElement("span");
    label.className = "muted";
    nav.appendChild(label);
    var next = button("Next ›", function () { state.page += 1; apply(); });
    var all = button("Show all", function () { state.all = !state.all; state.page = 0; apply(); });
    var wrap = table.closest(".table-wrap") || table;
    wrap.parentNode.insertBefore(nav, wrap.nextSibling);
    function apply(reset) {
      if (reset) { state.page = 0; }
      var rows = Array.prototype.filter.call(table.tBodies[0].rows, function (r) {
        var out = r.getAttribute("data-out") === "1";
        if (out) { r.hidden = true; }
        return !out;
      });
      var pages = Math.max(1, Math.ceil(rows.length / size));
      state.page = Math.min(Math.max(state.page, 0), pages - 1);
      rows.forEach(function (r, i) {
        r.hidden = !state.all && (i < state.page * size || i >= (state.page + 1) * size);
      });
      prev.disabled = state.all || state.page === 0;
      next.disabled = state.all || state.page >= pages - 1;
      all.textContent = state.all ? "Show pages" : "Show all " + rows.length;
      label.textContent = state.all ? rows.length + " rows" :
        "rows " + (rows.length ? state.page * size + 1 : 0) + "–" +
        Math.min(rows.length, (state.page + 1) * size) + " of " + rows.length;
    }
    table.pageApply = apply;
    apply(true);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.paged"), pager);
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
        r.setAttribute("data-out", ok ? "0" : "1");
        r.hidden = !ok;
        if (ok) { shown += 1; }
      });
      if (count) { count.textContent = String(shown); }
      if (table.pageApply) { table.pageApply(true); }
    });
  });
  // Charts: each chart's script queued its figure (the stub in the page's head) while the
  // text loaded; plotly.js waits as text at the end of the page. Once the page is ready it
  // runs, and the charts are drawn one at a time, each in a task of its own, so that the
  // page shows and answers meanwhile; printing and the event picker draw the rest at once.
  var queued = window.eventstudyCharts || [];
  var plotly = null;  // null: not run yet; false: not available
  function loadPlotly() {
    if (plotly === null) {
      plotly = false;
      var src = document.getElementById("plotly-js");
      if (src) {
        var s = document.createElement("script");
        s.text = src.textContent;  // runs on insertion, no request
        document.head.appendChild(s);
      }
      plotly = window.Plotly && window.Plotly.Plots ? window.Plotly : false;
    }
    return plotly;
  }
  function drawOne(at) {
    var args = queued.splice(at || 0, 1)[0];
    if (!args || !loadPlotly()) { return; }
    var gd = document.getElementById(args[0]);
    if (gd && args[2] && window.innerWidth < 700) { narrow(gd, args[2], args[1]); }
    plotly.newPlot.apply(plotly, args);
  }
  function drawAll() { while (queued.length && loadPlotly()) { drawOne(); } }
  function drawNow(id) {  // one chart ahead of its turn
    for (var i = 0; i < queued.length; i += 1) {
      if (queued[i][0] === id) { drawOne(i); return; }
    }
  }
  function drawLater() {
    drawOne();
    if (queued.length && plotly) { setTimeout(drawLater, 0); }
  }
  // Print: charts are drawn for the screen's width; fit them to the page before
  // printing (colour scales and legends stay on the page) and back afterwards.
  function fitCharts() {
    drawAll();
    if (!loadPlotly()) { return; }
    Array.prototype.forEach.call(document.querySelectorAll(".plotly-graph-div"), function (d) {
      if (d.layout) { plotly.Plots.resize(d); }
    });
  }
  window.addEventListener("beforeprint", fitCharts);
  window.addEventListener("afterprint", fitCharts);
  // Narrow screens: chart titles wrap at word boundaries and long axis titles lose their
  // note in parentheses, instead of being cut (set in the figure before it is drawn).
  function wrap(text, width) {
    if (typeof text !== "string" || text.length <= width || text.indexOf("<br>") !== -1) { return text; }
    var lines = [""];
    text.split(" ").forEach(function (w) {
      var last = lines.length - 1;
      if (lines[last] && lines[last].length + w.length + 1 > width) { lines.push(w); }
      else { lines[last] = lines[last] ? lines[last] + " " + w : w; }
    });
    return lines.join("<br>");
  }
  // Each word of categorical labels (e.g. markets) on a line of its own, level, where every
  // word fits its column; otherwise plotly tilts them.
  function stacked(axis, names, column) {
    var longest = Math.max.apply(null, names.map(function (n) {
      return Math.max.apply(null, String(n).split(" ").map(function (w) { return w.length; }));
    }).concat([0]));
    if (!names.length || longest * 7.5 > column) { return null; }
    return Object.assign({}, axis, {
      tickangle: 0, tickmode: "array", tickvals: names,
      ticktext: names.map(function (n) { return String(n).split(" ").join("<br>"); })
    });
  }
  // From the top down: the title (wrapped), a menu under it on the left (its labels cut to
  // the screen), a legend that sat above the plot, the labels of an axis on top; the top
  // margin makes room for them all, so that none overlaps another.
  function narrow(gd, lay, data) {
    if (gd.clientWidth >= 700) { return; }
    var px = gd.clientWidth || 400;
    var width = Math.floor(px / 8.5);
    var titleH = 16;
    if (lay.title && lay.title.text) {
      var text = wrap(lay.title.text, width);
      var lines = text.split("<br>").length;
      // (plotly sets a title of several lines about 14 px higher than one of a single line)
      lay.title = Object.assign({}, lay.title, {
        text: text, yref: "container", y: 1, yanchor: "top", pad: { t: lines > 1 ? 22 : 8 }
      });
      titleH += 19 * lines;
    }
    if (lay.xaxis && lay.xaxis.title && lay.xaxis.title.text) {
      var x = lay.xaxis.title.text;  // the axis title's note in parentheses goes; the caption has it
      lay.xaxis = Object.assign({}, lay.xaxis, {
        title: Object.assign({}, lay.xaxis.title, {
          text: x.length > width && x.indexOf(" (") > 0 ? x.slice(0, x.indexOf(" (")) : x
        })
      });
    }
    var heat = gd.id === "fig-car-heatmap" && lay.yaxis && lay.yaxis.ticktext;
    if (heat) {
      // rows labelled by date only (hover shows the title), so the cells keep their room
      lay.yaxis = Object.assign({}, lay.yaxis, {
        ticktext: lay.yaxis.ticktext.map(function (t) { return String(t).slice(0, 10); })
      });
    }
    var margin = Object.assign({}, lay.margin, heat ? { l: 80 } : {});
    var names = (data && data[0] && Array.isArray(data[0].x) && data[0].x.every(function (v) {
      return typeof v === "string" && !/^\d{4}-\d\d-\d\d/.test(v);
    })) ? data[0].x : [];
    var side = (lay.xaxis && lay.xaxis.side) || "bottom";
    var axisTop = 0;
    if (names.length) {
      var room = px - (margin.l || 64) - (heat ? 100 : margin.r || 24);  // (the colour scale's width)
      var level = stacked(lay.xaxis || {}, names, room / names.length);
      if (level) {
        lay.xaxis = level;
        if (side === "top") {
          axisTop = 8 + 16 * Math.max.apply(null, names.map(function (n) { return String(n).split(" ").length; }));
        }
      } else if (side === "top") {
        axisTop = 90;  // tilted names: about their length
      }
    }
    // titles of subplots above the plot (annotations at its top edge)
    var noteTop = (lay.annotations || []).some(function (a) {
      return a.yref === "paper" && a.y >= 1 && a.yanchor === "bottom";
    }) ? 22 : 0;
    var legendH = 0;
    var onTop = lay.legend && lay.legend.y >= 1 && lay.showlegend !== false;
    if (onTop) {
      var items = (data || []).filter(function (t) { return t.showlegend !== false && t.name; });
      var run = items.reduce(function (w, t) { return w + 40 + 7 * String(t.name).length; }, 0);
      legendH = 22 * Math.max(1, Math.ceil(run / (px - 40)));
    }
    var menuH = 0;
    if (lay.updatemenus && lay.updatemenus.length) {
      var cut = Math.max(12, width - 6);
      lay.updatemenus = lay.updatemenus.map(function (m) {
        if (!(m.y >= 1)) { return m; }
        menuH = 40;
        return Object.assign({}, m, {
          x: 0, xanchor: "left", y: 1, yanchor: "bottom", pad: { b: legendH + noteTop + axisTop + 4 },
          buttons: (m.buttons || []).map(function (bt) {
            var l = String(bt.label || "");
            return l.length > cut ? Object.assign({}, bt, { label: l.slice(0, cut - 1) + "…" }) : bt;
          })
        });
      });
    }
    var above = menuH || legendH || noteTop || axisTop;
    margin.t = Math.max(titleH + menuH + legendH + noteTop + axisTop + 8, above ? 0 : margin.t || 0);
    lay.margin = margin;
    if (onTop) {  // over the subplots' titles and an axis on top
      var plotH = (lay.height || gd.clientHeight || 440) - margin.t - (margin.b || 0);
      lay.legend = Object.assign({}, lay.legend, {
        x: 0, xanchor: "left", y: 1 + (noteTop + axisTop) / Math.max(plotH, 1), yanchor: "bottom"
      });
    }
  }
  // Event picker: typing lists matching events (every word must match) and opens the first.
  (function () {
    var input = document.getElementById("event-search");
    var list = document.getElementById("event-matches");
    var count = document.getElementById("event-count");
    if (!input || !list) { return; }
    var cards = Array.prototype.slice.call(document.querySelectorAll(".event-card"));
    // the chart of one event's daily abnormal returns follows the picker
    function showInChart(eid) {
      var gd = document.getElementById("fig-ar-event");
      drawNow("fig-ar-event");  // (it may still wait in the queue)
      loadPlotly();
      var menus = gd && gd.layout && gd.layout.updatemenus;
      if (!plotly || !menus || !menus.length) { return; }
      var buttons = menus[0].buttons || [];
      for (var i = 0; i < buttons.length; i += 1) {
        if (buttons[i].name === eid) {
          plotly.update(gd, buttons[i].args[0], Object.assign({}, buttons[i].args[1], { "updatemenus[0].active": i }));
          return;
        }
      }
    }
    function show(card) {
      cards.forEach(function (c) { c.hidden = c !== card; });
      showInChart(card.getAttribute("data-event"));
      Array.prototype.forEach.call(list.children, function (li) {
        li.firstChild.setAttribute("aria-selected", li.firstChild.getAttribute("data-card") === card.id ? "true" : "false");
      });
    }
    function update() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var hits = cards.filter(function (c) {
        var t = c.getAttribute("data-search");
        return words.every(function (w) { return t.indexOf(w) !== -1; });
      });
      while (list.firstChild) { list.removeChild(list.firstChild); }
      if (words.length) {
        hits.slice(0, 12).forEach(function (c) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button";
          b.setAttribute("role", "option");
          b.setAttribute("data-card", c.id);
          b.textContent = c.getAttribute("data-label");
          b.addEventListener("click", function () { show(c); });
          li.appendChild(b);
          list.appendChild(li);
        });
      }
      count.textContent = words.length ? hits.length + " of " + cards.length + " events match" : cards.length + " events";
      if (hits.length) { show(hits[0]); }
    }
    input.addEventListener("input", update);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); update(); }
    });
  }());
  // once the page has loaded: plotly.js, then the charts, top first (each after a chance to paint)
  function start() { setTimeout(function () { if (queued.length && loadPlotly()) { setTimeout(drawLater, 0); } }, 0); }
  if (document.readyState === "complete") { start(); } else { window.addEventListener("load", start); }
}());
