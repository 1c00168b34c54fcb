// ptbench publish: draws a benchmark's history with plotly.js (assets/plotly.min.js, copied
// from the plotly Python wheel: no request leaves the site's folder).
//
// A benchmark page embeds <script id="data" type="application/json"> holding
//   benchmark, unit ("seconds" | "bytes"), param_keys, versions (public torch versions, oldest
//   first, PEP 440 order), points: [{params: {device, size, dtype, method}, machine, env, torch,
//   line (torch build line), version, order, commit, date, value, low, high, unit}],
//   changes: [{params, machine, series (build line or env), axis ("torch" | "commit"), at, change}].
// The x-axis is the torch version (one line per combination, machine and build line; the newest
// result of each version), the run date or the suite commit (one line per combination, machine
// and environment), or the size (the newest run of each line). Filters narrow the points; the
// page's query string (?x=torch&machine=...&device=cpu) sets them, so links can open a view.
(function () {
  "use strict";
  var AXES = { torch: "torch version", date: "run date", commit: "suite commit", size: "size" };
  var AXIS_TITLES = {
    torch: "torch version (PEP 440 order)", date: "run date", commit: "suite commit (by date)",
    size: "size (elements, or matrix order n)"
  };
  var UNIT_TITLES = { seconds: "time per call (s)", bytes: "peak memory (bytes)" };
  var FILTER_NAMES = { machine: "machine", line: "torch build", device: "device", size: "size",
    dtype: "dtype", method: "method" };

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function filterKeys(data) { return ["machine", "line"].concat(data.param_keys); }

  function valueOf(point, key) {
    return key === "machine" || key === "line" ? point[key] : point.params[key];
  }

  function distinct(values) {
    var seen = {};
    return values.filter(function (v) {
      var key = String(v);
      if (seen[key]) { return false; }
      seen[key] = true;
      return v !== null && v !== undefined;
    });
  }

  function sortValues(values) {
    return values.slice().sort(function (a, b) {
      return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
    });
  }

  function readState(data) {
    var query = new URLSearchParams(window.location.search);
    var state = { x: query.get("x") || (data.versions.length > 1 ? "torch" : "date") };
    if (!(state.x in AXES) || (state.x === "size" && data.param_keys.indexOf("size") < 0)) {
      state.x = "date";
    }
    filterKeys(data).forEach(function (key) { state[key] = query.get(key) || "all"; });
    var chosen = filterKeys(data).some(function (key) { return query.get(key); });
    state.preselected = chosen ? [] : preselect(data, state);
    return state;
  }

  // With no filter in the query string, narrow the page to at most MAX_LINES lines, one filter
  // at a time in this order (the largest size, else the first value), so that it opens readable;
  // the controls show what was chosen and "all" widens it again.
  var MAX_LINES = 12;
  var PRESELECT_ORDER = ["device", "dtype", "method", "machine", "line", "size"];

  function lineCount(data, state) {
    return Object.keys(group(selected(data, state), seriesKeys(data, state.x))).length;
  }

  function preselect(data, state) {
    var narrowed = [];
    PRESELECT_ORDER.forEach(function (key) {
      if (filterKeys(data).indexOf(key) < 0 || lineCount(data, state) <= MAX_LINES) { return; }
      var values = sortValues(distinct(data.points.map(function (p) { return valueOf(p, key); })));
      if (values.length < 2 || (key === "size" && state.x === "size")) { return; }
      state[key] = String(key === "size" ? values[values.length - 1] : values[0]);
      narrowed.push(FILTER_NAMES[key] || key);
    });
    return narrowed;
  }

  function writeState(state) {
    var query = new URLSearchParams();
    Object.keys(state).forEach(function (key) {
      if (key !== "preselected" && state[key] !== "all") { query.set(key, state[key]); }
    });
    try { window.history.replaceState(null, "", "?" + query.toString()); } catch (error) { /* file:// */ }
  }

  function select(name, label, options, value, onChange) {
    var wrapper = element("label", { "class": "control" }, label + " ");
    var box = element("select", { name: name, id: "control-" + name });
    options.forEach(function (option) {
      var node = element("option", { value: option[0] }, option[1]);
      if (option[0] === value) { node.selected = true; }
      box.appendChild(node);
    });
    box.addEventListener("change", function () { onChange(box.value); });
    wrapper.appendChild(box);
    return wrapper;
  }

  function controls(data, state, redraw) {
    var bar = element("div", { "class": "controls" });
    var axes = Object.keys(AXES).filter(function (a) { return a !== "size" || data.param_keys.indexOf("size") >= 0; });
    bar.appendChild(select("x", "x-axis", axes.map(function (a) { return [a, AXES[a]]; }), state.x,
      function (value) { state.x = value; redraw(); }));
    filterKeys(data).forEach(function (key) {
      var values = sortValues(distinct(data.points.map(function (p) { return valueOf(p, key); })));
      if (values.length < 2) { return; }
      var options = [["all", "all"]].concat(values.map(function (v) { return [String(v), String(v)]; }));
      bar.appendChild(select(key, FILTER_NAMES[key] || key, options, state[key],
        function (value) { state[key] = value; state.preselected = []; redraw(); }));
    });
    return bar;
  }

  function selected(data, state) {
    return data.points.filter(function (point) {
      return filterKeys(data).every(function (key) {
        return state[key] === "all" || String(valueOf(point, key)) === state[key];
      });
    });
  }

  function seriesKeys(data, x) {
    var params = data.param_keys.filter(function (k) { return !(x === "size" && k === "size"); });
    return params.concat(["machine", x === "torch" ? "line" : "env"]);
  }

  function keyOf(point, keys) {
    return keys.map(function (k) { return String(k in point.params ? point.params[k] : point[k]); }).join("\u0001");
  }

  function group(points, keys) {
    var groups = {};
    points.forEach(function (point) {
      var key = keyOf(point, keys);
      (groups[key] = groups[key] || []).push(point);
    });
    return groups;
  }

  function byDate(a, b) { return a.date < b.date ? -1 : a.date > b.date ? 1 : 0; }

  // The points one line draws, in x order.
  function linePoints(points, x) {
    var sorted = points.slice().sort(byDate);
    if (x === "torch") {
      var newest = {};
      sorted.forEach(function (p) { newest[p.version] = p; });
      return Object.keys(newest).map(function (v) { return newest[v]; })
        .sort(function (a, b) { return a.order - b.order; });
    }
    if (x === "size") {
      var last = sorted[sorted.length - 1].commit;
      return sorted.filter(function (p) { return p.commit === last; })
        .sort(function (a, b) { return a.params.size - b.params.size; });
    }
    return sorted;
  }

  function xOf(point, x) {
    return x === "torch" ? point.version : x === "date" ? point.date : x === "commit" ? point.commit : point.params.size;
  }

  function formatValue(value, unit) {
    if (value === null || value === undefined) { return "?"; }
    var scales = unit === "bytes" ? [[1073741824, "GiB"], [1048576, "MiB"], [1024, "KiB"], [1, "B"]]
      : [[1, "s"], [1e-3, "ms"], [1e-6, "us"], [1e-9, "ns"]];
    for (var i = 0; i < scales.length; i++) {
      if (Math.abs(value) >= scales[i][0] || i === scales.length - 1) {
        return (value / scales[i][0]).toPrecision(3) + " " + scales[i][1];
      }
    }
    return String(value);
  }

  // A short name: only what tells this line from the others drawn.
  function names(groups, keys) {
    var varying = keys.filter(function (_k, i) {
      return distinct(Object.keys(groups).map(function (g) { return g.split("\u0001")[i]; })).length > 1;
    });
    var result = {};
    Object.keys(groups).forEach(function (g) {
      var parts = g.split("\u0001");
      var text = varying.map(function (k) {
        var value = parts[keys.indexOf(k)];
        if (value === "null" || value === "undefined") { return ""; }
        return k === "size" ? "size " + value : value;  // a bare number says nothing
      }).filter(function (v) { return v; }).join(" \u00b7 ");
      result[g] = text || "all results";
    });
    return result;
  }

  function trace(name, points, x, unit) {
    return {
      type: "scatter", mode: "lines+markers", name: name,
      x: points.map(function (p) { return xOf(p, x); }),
      y: points.map(function (p) { return p.value; }),
      error_y: {
        type: "data", symmetric: false, thickness: 1, width: 2,
        array: points.map(function (p) { return p.high === null ? 0 : Math.max(p.high - p.value, 0); }),
        arrayminus: points.map(function (p) { return p.low === null ? 0 : Math.max(p.value - p.low, 0); })
      },
      customdata: points.map(function (p) {
        return [formatValue(p.value, unit) + " [" + formatValue(p.low, unit) + ", " + formatValue(p.high, unit) + "] (99%)",
          p.torch, p.commit, p.date.slice(0, 16).replace("T", " "), p.machine, p.env];
      }),
      hovertemplate: "<b>%{fullData.name}</b><br>%{customdata[0]}<br>torch %{customdata[1]}, " +
        "commit %{customdata[2]}<br>%{customdata[3]} on %{customdata[4]}<extra></extra>"
    };
  }

  function changeTrace(data, state, groups, keys, lines) {
    var axis = state.x === "torch" ? "torch" : "commit";
    if (state.x === "size") { return null; }
    var xs = [], ys = [], texts = [];
    data.changes.filter(function (c) { return c.axis === axis; }).forEach(function (change) {
      var probe = { params: change.params, machine: change.machine, line: change.series, env: change.series };
      var key = keyOf(probe, keys);
      (lines[key] || []).forEach(function (p) {
        var where = axis === "torch" ? p.version : p.commit;
        if (where === change.at) {
          xs.push(xOf(p, state.x)); ys.push(p.value);
          texts.push("change point: " + change.change.toFixed(2) + "x from here");
        }
      });
    });
    if (!xs.length) { return null; }
    return { type: "scatter", mode: "markers", name: "change point", x: xs, y: ys, text: texts,
      hoverinfo: "text", marker: { symbol: "diamond-open", size: 15, color: "#c0392b", line: { width: 2 } } };
  }

  function layout(data, state, points) {
    var values = points.map(function (p) { return p.value; }).filter(function (v) { return v > 0; });
    var spread = values.length ? Math.max.apply(null, values) / Math.min.apply(null, values) : 1;
    var xaxis = { title: { text: AXIS_TITLES[state.x] }, automargin: true };
    if (state.x === "torch") {
      var present = distinct(points.map(function (p) { return p.version; }));
      xaxis.type = "category"; xaxis.categoryorder = "array";
      xaxis.categoryarray = data.versions.filter(function (v) { return present.indexOf(v) >= 0; });
    } else if (state.x === "commit") {
      xaxis.type = "category"; xaxis.categoryorder = "array";
      xaxis.categoryarray = distinct(points.slice().sort(byDate).map(function (p) { return p.commit; }));
    } else if (state.x === "size") {
      xaxis.type = "log";
    } else {
      xaxis.type = "date";
    }
    return {
      xaxis: xaxis,
      yaxis: { title: { text: UNIT_TITLES[data.unit] || data.unit }, type: spread > 10 ? "log" : "linear",
        tickformat: "~s", automargin: true, rangemode: spread > 10 ? undefined : "tozero" },
      legend: { x: 1.02, xanchor: "left", y: 1, yanchor: "top", font: { size: 11 } },
      margin: { t: 30, r: 20, l: 70, b: 60 }, hovermode: "closest"
    };
  }

  function draw(data, state, target, note) {
    writeState(state);
    var points = selected(data, state);
    var keys = seriesKeys(data, state.x);
    var groups = group(points, keys);
    var lines = {};
    Object.keys(groups).forEach(function (g) { lines[g] = linePoints(groups[g], state.x); });
    var labels = names(groups, keys);
    var traces = Object.keys(lines).sort(function (a, b) { return labels[a].localeCompare(labels[b], undefined, { numeric: true }); })
      .map(function (g) { return trace(labels[g], lines[g], state.x, data.unit); });
    var drawn = [].concat.apply([], Object.keys(lines).map(function (g) { return lines[g]; }));
    var changes = changeTrace(data, state, groups, keys, lines);
    if (changes) { traces.push(changes); }
    var narrowed = state.preselected.length ? " (" + state.preselected.join(", ") +
      " preselected, to draw at most " + MAX_LINES + " lines: choose \"all\" to widen)" : "";
    note.textContent = drawn.length ? drawn.length + " points in " + Object.keys(lines).length + " lines" +
      narrowed : "No results match these filters.";
    document.body.setAttribute("data-lines", String(Object.keys(lines).length));
    document.body.setAttribute("data-points", String(drawn.length));
    window.Plotly.react(target, traces, layout(data, state, drawn), { responsive: true, displaylogo: false });
  }

  function benchmarkPage() {
    var source = document.getElementById("data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var state = readState(data);
    var target = document.getElementById("graph");
    var note = element("p", { "class": "note", id: "graph-note" });
    var redraw = function () { draw(data, state, target, note); };
    target.parentNode.insertBefore(controls(data, state, redraw), target);
    target.parentNode.insertBefore(note, target.nextSibling);
    redraw();
  }

  function hardwareCharts() {
    Array.prototype.forEach.call(document.querySelectorAll(".hardware-chart"), function (node) {
      var chart = JSON.parse(node.getAttribute("data-chart"));
      var rows = chart.rows.slice().sort(function (a, b) { return b.ratio - a.ratio; });
      var names = rows.map(function (r) { return r.benchmark.split(".").pop() + " (" + r.torch + ")"; });
      window.Plotly.newPlot(node, [{
        type: "bar", orientation: "h", y: names, x: rows.map(function (r) { return 1 / r.ratio; }),
        base: 0, marker: { color: "#2e86c1" },
        hovertemplate: "%{y}: %{x:.2f}x<extra></extra>"
      }], {
        title: { text: "speedup of " + chart.second + " over " + chart.first + " (geometric mean over combinations)", x: 0, xanchor: "left" },
        xaxis: { title: { text: "speedup (> 1: " + chart.second + " faster)" }, type: "log" },
        yaxis: { automargin: true }, height: 140 + 22 * rows.length,
        shapes: [{ type: "line", x0: 1, x1: 1, yref: "paper", y0: 0, y1: 1, line: { color: "black", width: 1 } }],
        margin: { t: 50, r: 20 }
      }, { responsive: true, displaylogo: false });
    });
  }

  function start() {
    if (!window.Plotly) {
      document.body.insertBefore(element("p", { "class": "error" }, "assets/plotly.min.js did not load: " +
        "copy the whole folder that ptbench publish wrote."), document.body.firstChild);
      return;
    }
    benchmarkPage();
    hardwareCharts();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
