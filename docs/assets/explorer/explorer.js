/* initreport explorer: draws window.EXPLORER_DATA (docs/assets/explorer/data.js, written by
   `initreport build`) as plain SVG. No dependencies, no requests; works from file://.
   Part of initreport (same licence as the project). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

// start() is the module's scope (its state and the small functions below), run once the page is parsed.
function start() {
  var D = window.EXPLORER_DATA;
  var box = document.getElementById("ir-explorer");
  if (!box) return;
  if (!D || !D.cells || !D.cells.length) {
    box.querySelector(".ir-x-summary").textContent =
      "This build's profile has no explorer grid (explorer = \"none\"); build with another profile to explore.";
    box.querySelectorAll(".ir-x-controls, .ir-x-panel").forEach(function (e) { e.hidden = true; });
    return;
  }
  var NS = "http://www.w3.org/2000/svg";
  var GAIN_INIT = "scaled_normal";
  var ROOT = script ? script.src.replace(/assets\/explorer\/explorer\.js(\?.*)?$/, "") : "";
  function $(id) { return document.getElementById(id); }
  var controls = { init: $("ir-x-init"), gain: $("ir-x-gain"), act: $("ir-x-act"), depth: $("ir-x-depth"),
                   data: $("ir-x-data"), seed: $("ir-x-seed") };
  var state = { revealed: false, guess: null };

  // ---- the grid ---------------------------------------------------------------------------
  function key(init, gain, act, depth, data) {
    return [init, init === GAIN_INIT ? Number(gain) : "", act, Number(depth), data].join("|");
  }
  var cells = {};
  D.cells.forEach(function (c) { cells[key(c.init, c.gain, c.act, c.depth, c.data)] = c; });

  function options(select, values, label) {
    select.textContent = "";
    values.forEach(function (v) {
      var o = document.createElement("option");
      o.value = String(v);
      o.textContent = label ? label(v) : String(v);
      select.appendChild(o);
    });
  }
  options(controls.init, D.axes.init);
  options(controls.gain, D.axes.gain, function (g) { return g + "/\u221An_in"; });
  options(controls.act, D.axes.act);
  options(controls.depth, D.axes.depth);
  options(controls.data, D.axes.data);
  options(controls.seed, ["all"].concat(D.cells[0].seeds), function (s) { return s === "all" ? "all seeds" : "seed " + s; });
  var th = $("ir-x-threshold");
  if (th) th.textContent = Math.round(D.trains_below * 100) + "%";

  function current() {
    var v = {};
    Object.keys(controls).forEach(function (k) { v[k] = controls[k].value; });
    return v;
  }
  function cellOf(v) { return cells[key(v.init, v.gain, v.act, v.depth, v.data)]; }

  // ---- the URL hash -------------------------------------------------------------------------
  function readHash() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var kv = part.split("=");
      if (kv.length === 2) out[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1]);
    });
    return out;
  }
  function applyHash() {
    var h = readHash(), changed = false;
    Object.keys(controls).forEach(function (k) {
      if (h[k] === undefined) return;
      var sel = controls[k];
      var match = Array.prototype.find.call(sel.options, function (o) {
        return o.value === h[k] || (k === "gain" && Number(o.value) === Number(h[k]));
      });
      if (match && sel.value !== match.value) { sel.value = match.value; changed = true; }
    });
    return changed;
  }
  function writeHash() {
    var v = current();
    var h = "#" + Object.keys(v).map(function (k) { return k + "=" + encodeURIComponent(v[k]); }).join("&");
    if (location.hash === h) return;
    try { history.replaceState(null, "", h); } catch (e) { location.hash = h; }
  }

  // ---- numbers ------------------------------------------------------------------------------
  var SUP = { "-": "\u207b", "0": "\u2070", "1": "\u00b9", "2": "\u00b2", "3": "\u00b3", "4": "\u2074",
              "5": "\u2075", "6": "\u2076", "7": "\u2077", "8": "\u2078", "9": "\u2079" };
  function fmt(x) {
    if (x === null || x === undefined || !isFinite(x)) return "\u2014";
    if (x === 0) return "0";                     // as initreport.fmt.num writes it
    var a = Math.abs(x);
    if (a !== 0 && (a < 1e-3 || a >= 1e4)) {
      var parts = x.toExponential(2).split("e");
      return parts[0] + "\u00d710" + sup(parts[1]);
    }
    return a >= 1000 ? x.toFixed(0) : x.toPrecision(3);
  }
  function sup(exp) { return exp.replace("+", "").replace(/[-0-9]/g, function (ch) { return SUP[ch]; }); }
  function tick(t) {                               // a short axis label: 0.5, 20, 2×10⁴
    var a = Math.abs(t);
    if (a !== 0 && (a < 1e-3 || a >= 1e4)) {
      var p = t.toExponential(1).split("e");
      return p[0].replace(/\.0$/, "") + "\u00d710" + sup(p[1]);
    }
    return String(+t.toPrecision(3));
  }
  function finite(xs) { return xs.filter(function (x) { return x !== null && isFinite(x); }); }
  function mean(xs) { var f = finite(xs); return f.length ? f.reduce(function (a, b) { return a + b; }, 0) / f.length : null; }
  function pick(values, seed, seeds) {           // one seed's value, or the mean over seeds
    return seed === "all" ? mean(values) : values[seeds.indexOf(Number(seed))];
  }

  // ---- SVG ----------------------------------------------------------------------------------
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls, anchor) {
    var t = el("text", { x: x, y: y, "class": cls || "ir-x-tick", "text-anchor": anchor || "middle" }, parent);
    t.textContent = s;
    return t;
  }
  function niceTicks(lo, hi, n) {
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n || 1)));
    var err = (hi - lo) / n / step;
    step *= err >= 5 ? 10 : err >= 2 ? 5 : err >= 1.5 ? 2 : 1;
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
    return out;
  }

  /* A line chart: series [{pts: [[x, y|null]], band: [[x, lo, hi]], cls, name}]. */
  function lineChart(host, o) {
    host.textContent = "";
    var W = Math.max(260, Math.min(box.clientWidth || 600, 720)), H = W < 420 ? 210 : 240;
    var m = { l: 54, r: 10, t: 26, b: 38 };
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": o.title }, host);
    var xs = [], ys = [];
    o.series.forEach(function (s) {
      s.pts.forEach(function (p) { xs.push(p[0]); if (p[1] !== null && (!o.log || p[1] > 0)) ys.push(p[1]); });
      (s.band || []).forEach(function (b) { [b[1], b[2]].forEach(function (y) { if (y !== null && (!o.log || y > 0)) ys.push(y); }); });
    });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    if (x1 === x0) x1 = x0 + 1;
    var y0, y1;
    if (o.yDomain) { y0 = o.yDomain[0]; y1 = o.yDomain[1]; }
    else if (!ys.length) { y0 = 0; y1 = 1; }
    else { y0 = Math.min.apply(null, ys); y1 = Math.max.apply(null, ys); }
    if (o.log && ys.length) { y0 = Math.floor(Math.log10(y0)); y1 = Math.ceil(Math.log10(y1)); if (y1 === y0) y1 = y0 + 1; }
    else if (!o.yDomain) { var pad = (y1 - y0) * 0.08 || Math.abs(y0) * 0.1 || 1; y0 -= pad; y1 += pad; if (o.nonneg && y0 < 0) y0 = 0; }
    function X(x) { return m.l + (x - x0) / (x1 - x0) * (W - m.l - m.r); }
    function Y(y) { var v = o.log ? Math.log10(y) : y; return H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b); }
    var ok = function (y) { return y !== null && isFinite(y) && (!o.log || y > 0); };
    // axes
    el("line", { x1: m.l, y1: H - m.b, x2: W - m.r, y2: H - m.b, "class": "ir-x-axis" }, svg);
    el("line", { x1: m.l, y1: m.t, x2: m.l, y2: H - m.b, "class": "ir-x-axis" }, svg);
    if (!ys.length && o.empty) {                   // nothing drawable (every value 0 on a log scale, or none)
      text(svg, (m.l + W - m.r) / 2, (m.t + H - m.b) / 2, o.empty, "ir-x-label ir-x-empty");
      niceTicks(x0, x1, W < 420 ? 4 : 8).filter(function (t) { return o.integerX ? t === Math.round(t) : true; })
        .forEach(function (t) { text(svg, X(t), H - m.b + 15, String(t)); });
      text(svg, (m.l + W - m.r) / 2, H - 4, o.xLabel, "ir-x-label");
      return svg;
    }
    var yt = o.log ? (function () { var t = [], s = Math.max(1, Math.ceil((y1 - y0) / 6)); for (var e = y0; e <= y1; e += s) t.push(Math.pow(10, e)); return t; })()
                   : niceTicks(y0, y1, 4);
    yt.forEach(function (t) {
      var y = Y(t);
      el("line", { x1: m.l, y1: y, x2: W - m.r, y2: y, "class": "ir-x-grid" }, svg);
      text(svg, m.l - 5, y + 4, o.log ? "10" + sup(String(Math.round(Math.log10(t)))) : tick(t), "ir-x-tick", "end");
    });
    niceTicks(x0, x1, W < 420 ? 4 : 8).filter(function (t) { return o.integerX ? t === Math.round(t) : true; }).forEach(function (t) {
      text(svg, X(t), H - m.b + 15, String(t));
    });
    text(svg, (m.l + W - m.r) / 2, H - 4, o.xLabel, "ir-x-label");
    var yl = text(svg, 12, (m.t + H - m.b) / 2, o.yLabel, "ir-x-label");
    yl.setAttribute("transform", "rotate(-90 12 " + (m.t + H - m.b) / 2 + ")");
    // series
    o.series.forEach(function (s) {
      if (s.band && s.band.length) {
        var top = [], bot = [];
        s.band.forEach(function (b) { if (ok(b[1]) && ok(b[2])) { top.push(X(b[0]).toFixed(1) + "," + Y(b[2]).toFixed(1)); bot.unshift(X(b[0]).toFixed(1) + "," + Y(b[1]).toFixed(1)); } });
        if (top.length) el("path", { d: "M" + top.concat(bot).join("L") + "Z", "class": "ir-x-band " + s.cls }, svg);
      }
      var d = "", pen = false;
      s.pts.forEach(function (p) {
        if (!ok(p[1])) { pen = false; return; }
        d += (pen ? "L" : "M") + X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1);
        pen = true;
      });
      var path = el("path", { d: d || "M0,0", "class": "ir-x-line " + s.cls, "data-series": s.name }, svg);
      // dots: on request, and wherever a point has no drawn neighbour (a run that diverged after epoch 0)
      s.pts.forEach(function (p, i) {
        var alone = !(i > 0 && ok(s.pts[i - 1][1])) && !(i + 1 < s.pts.length && ok(s.pts[i + 1][1]));
        if (ok(p[1]) && (s.dots || alone)) el("circle", { cx: X(p[0]), cy: Y(p[1]), r: 3, "class": "ir-x-dot " + s.cls }, svg); });
      return path;
    });
    // legend
    var lg = el("g", { "class": "ir-x-legend" }, svg), lx = m.l + 8;
    o.series.forEach(function (s) {
      if (!s.legend) return;
      el("line", { x1: lx, y1: 10, x2: lx + 18, y2: 10, "class": "ir-x-line " + s.cls }, lg);
      var t = text(lg, lx + 22, 14, s.legend, "ir-x-tick", "start");
      lx += 30 + (t.getComputedTextLength ? t.getComputedTextLength() : s.legend.length * 6);
    });
    return svg;
  }

  function boundaryChart(host, b) {
    host.textContent = "";
    var size = Math.max(200, Math.min(box.clientWidth || 300, 320));
    var cap = document.createElement("p");
    cap.className = "ir-x-caption";
    cap.textContent = "Decision boundary after training: the class predicted over the input square (seed " + b.seed + ").";
    host.appendChild(cap);
    var svg = el("svg", { viewBox: "0 0 " + b.n + " " + b.n, width: size, height: size, role: "img",
                         "aria-label": "decision boundary", "class": "ir-x-boundary-svg" }, host);
    var paths = {};
    for (var i = 0; i < b.n; i++) {
      for (var j = 0; j < b.n; j++) {
        var c = b.classes.charAt(i * b.n + j);
        // row i is y = ys[i] (bottom to top); SVG y grows downwards
        paths[c] = (paths[c] || "") + "M" + j + "," + (b.n - 1 - i) + "h1v1h-1z";
      }
    }
    Object.keys(paths).sort().forEach(function (c) {
      el("path", { d: paths[c], "class": "ir-x-class ir-x-c" + (c === "." ? "na" : c), "data-class": c }, svg);
    });
    return svg;
  }

  /* Per-layer distributions: one row per layer, the histogram's outline scaled to the row. Above each
     histogram, in a band of its own, its range: the lowest edge under its left end, the highest under
     its right end (one "lo … hi" label where the two would touch). Side by side from 560 px of page
     width, stacked below that, so the labels keep a readable size at phone width. */
  function histChart(host, hists, title) {
    host.textContent = "";
    var full = box.clientWidth || 600, narrow = full < 560;
    var W = narrow ? Math.min(full, 420) : Math.max(200, Math.min(full / 2 - 8, 360));
    var band = 13, plot = 24, row = band + plot + 4, top = 18, lx = 22, rx = W - 4;
    var H = top + hists.length * row + 2;
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": title }, host);
    text(svg, W / 2, 12, title, "ir-x-label");
    hists.forEach(function (h, i) {
      var y0 = top + i * row + band + plot;        // the histogram's baseline
      text(svg, 2, y0 - plot / 2 + 4, String(i + 1), "ir-x-tick", "start");
      el("line", { x1: lx, y1: y0, x2: rx, y2: y0, "class": "ir-x-grid" }, svg);
      if (!h) return;
      var f = h[2], peak = Math.max.apply(null, f.map(function (v) { return v || 0; })) || 1, n = f.length;
      var d = "M" + lx + "," + y0;
      f.forEach(function (v, j) {
        var x = lx + j / n * (rx - lx), y = y0 - (v || 0) / peak * (plot - 2);
        d += "L" + x.toFixed(1) + "," + y.toFixed(1) + "L" + (lx + (j + 1) / n * (rx - lx)).toFixed(1) + "," + y.toFixed(1);
      });
      d += "L" + rx + "," + y0 + "Z";
      el("path", { d: d, "class": "ir-x-hist", "data-layer": i + 1 }, svg);
      var t = el("title", {}, svg.lastChild);
      t.textContent = "layer " + (i + 1) + ": " + fmt(h[0]) + " to " + fmt(h[1]);
      var ly = y0 - plot - 3;
      var lo = text(svg, lx, ly, fmt(h[0]), "ir-x-tick ir-x-range", "start");
      var hi = text(svg, rx, ly, fmt(h[1]), "ir-x-tick ir-x-range", "end");
      var wl = lo.getComputedTextLength ? lo.getComputedTextLength() : 0;
      var wh = hi.getComputedTextLength ? hi.getComputedTextLength() : 0;
      if (lx + wl + 8 > rx - wh) {                 // too narrow for two labels: one, at the right
        svg.removeChild(lo);
        hi.textContent = fmt(h[0]) + " \u2026 " + fmt(h[1]);
      }
    });
  }

  // ---- drawing one selection ------------------------------------------------------------------
  function seriesOf(curves, seed, seeds) {
    var n = curves[0].length, pts = [], band = [];
    for (var e = 0; e < n; e++) {
      var vals = curves.map(function (c) { return c[e]; });
      if (seed === "all") {
        var f = finite(vals);
        pts.push([e, mean(vals)]);
        band.push([e, f.length ? Math.min.apply(null, f) : null, f.length ? Math.max.apply(null, f) : null]);
      } else pts.push([e, vals[seeds.indexOf(Number(seed))]]);
    }
    return { pts: pts, band: seed === "all" && seeds.length > 1 ? band : [] };
  }

  function span(k, x) { return '<span class="ir-x-num" data-k="' + k + '">' + fmt(x) + "</span>"; }

  function drawLayers(c, v) {
    var L = c.layers, n = L.act_std.length;
    var act = L.act_std.map(function (vals, i) { return [i + 1, pick(vals, v.seed, c.seeds)]; });
    var grad = L.grad_std.map(function (vals, i) { return [i + 1, pick(vals, v.seed, c.seeds)]; });
    var series = [{ pts: act, cls: "ir-x-s1", name: "activation", legend: "activation std", dots: true },
                  { pts: grad, cls: "ir-x-s2", name: "gradient", legend: "gradient std", dots: true }];
    if (L.theory) series.push({ pts: L.theory.map(function (y, i) { return [i + 1, y]; }), cls: "ir-x-theory", name: "theory", legend: "theory" });
    lineChart($("ir-x-layers"), { series: series, log: true, xLabel: "hidden layer", yLabel: "std (log)", integerX: true,
                                   empty: "every std is exactly 0: nothing to draw on a log scale",
                                   title: "activation and gradient std per layer at initialisation" });
    histChart($("ir-x-act-hist"), L.act_hist || [], "activations");
    histChart($("ir-x-grad-hist"), L.grad_hist || [], "gradients dL/dZ");
    var zeros = act.filter(function (p) { return p[1] === 0; }).length + grad.filter(function (p) { return p[1] === 0; }).length;
    $("ir-x-layers-readout").innerHTML =
      gloss("Layer 1: activation std ") + span("act-first", act[0][1]) + gloss(", gradient std ") + span("grad-first", grad[0][1]) +
      gloss(". Layer " + n + ": activation std ") + span("act-last", act[n - 1][1]) + gloss(", gradient std ") +
      span("grad-last", grad[n - 1][1]) + "." + (zeros ? " (Exactly 0 is not drawn on the log scale.)" : "");
  }

  function drawTraining(c, v) {
    var loss = seriesOf(c.curves.loss, v.seed, c.seeds), acc = seriesOf(c.curves.accuracy, v.seed, c.seeds);
    lineChart($("ir-x-loss"), { series: [{ pts: loss.pts, band: loss.band, cls: "ir-x-s1", name: "loss", legend: "training loss" }],
                                xLabel: "epoch", yLabel: "loss", nonneg: true, integerX: true, title: "training loss per epoch" });
    lineChart($("ir-x-acc"), { series: [{ pts: acc.pts, band: acc.band, cls: "ir-x-s2", name: "accuracy", legend: "training accuracy" }],
                               xLabel: "epoch", yLabel: "accuracy", yDomain: [0, 1], integerX: true, title: "training accuracy per epoch" });
    var bd = $("ir-x-boundary");
    bd.hidden = !c.boundary;
    if (c.boundary) boundaryChart(bd, c.boundary);
    var last = loss.pts.length - 1;
    var div = c.diverged.length ? " Diverged: " + c.diverged.map(function (d) { return "seed " + d.seed + " at epoch " + d.epoch; }).join(", ") + "." : "";
    $("ir-x-train-readout").innerHTML = "Loss " + span("loss-first", loss.pts[0][1]) + " \u2192 " + span("loss-last", loss.pts[last][1]) +
      ", accuracy " + span("acc-last", acc.pts[last][1]) + gloss(" after " + last + " epochs" +
      (v.seed === "all" ? " (mean over " + c.seeds.length + " seeds)" : " (seed " + v.seed + ")") + "." + div +
      (c.boundary ? " Boundary: seed " + c.boundary.seed + "." : ""));
  }

  // The site's glossary terms in text written here get the same <abbr> tooltips as the Markdown.
  var TERMS = Object.keys(D.glossary || {}).sort(function (a, b) { return b.length - a.length; });
  var TERM_RE = TERMS.length ? new RegExp("(^|[^\\w])(" + TERMS.map(function (t) {
    return esc(t).replace(/[.*+?^${}()|[\]\\\/]/g, "\\$&"); }).join("|") + ")(?![\\w])", "g") : null;
  function gloss(s) {                               // plain text -> HTML with the terms glossed
    var h = esc(s);
    if (!TERM_RE) return h;
    return h.replace(TERM_RE, function (all, pre, term) {
      var t = term.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
      return pre + '<abbr title="' + esc(D.glossary[t]) + '">' + term + "</abbr>";
    });
  }

  function esc(s) { return String(s).replace(/[&<>"]/g, function (ch) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[ch]; }); }

  // A verdict's status as the site's verdict boxes show it: Material's admonition type and label.
  var STATUS = { "confirmed": ["success", "Confirmed"], "partly confirmed": ["warning", "Partly confirmed"],
                 "refuted": ["failure", "Refuted"], "inconclusive": ["question", "Inconclusive"] };
  function drawVerdicts(c) {
    var host = $("ir-x-verdicts");
    host.innerHTML = c.verdicts.map(function (x) {
      var st = STATUS[x.status] || ["note", x.status];
      return '<details class="ir-x-verdict ' + st[0] + '" data-status="' + esc(x.status) + '"><summary><strong>' +
        esc(st[1]) + ":</strong> " +
        gloss(x.claim) + '</summary><p>Measured: ' + gloss(x.measured) + ' <a href="' + esc(ROOT + x.page) + '">' + gloss(x.title) +
        "</a></p></details>";
    }).join("");
    host.hidden = !c.verdicts.length;
  }

  var OUTCOME = { trains: "trains", stalls: "stalls", diverges: "diverges" };
  function showReveal() {
    var on = state.revealed || $("ir-x-always").checked;
    $("ir-x-reveal").hidden = !on;
    box.classList.toggle("ir-x-revealed", on);
  }

  function draw() {
    var v = current();
    controls.gain.disabled = v.init !== GAIN_INIT;
    var c = cellOf(v);
    if (!c) { $("ir-x-summary").textContent = "No run for this selection in this build."; return; }
    var seeds = v.seed === "all" ? "seeds " + c.seeds.join(", ") : "seed " + v.seed;
    $("ir-x-summary").innerHTML = "<code>" + esc(c.init) + "</code>" + gloss((c.gain !== null ? " gain " + fmt(c.gain) : "") + " \u00b7 " +
      c.act + " \u00b7 " + c.depth + " hidden layers of " + c.width + " \u00b7 " + c.data + " \u00b7 " +
      c.epochs + " epochs, lr " + c.lr + " \u00b7 " + seeds + " \u00b7 ") + '<span class="ir-x-key">run ' + esc(c.key.slice(0, 12)) + "</span>";
    drawVerdicts(c);
    drawLayers(c, v);
    drawTraining(c, v);
    var fb = $("ir-x-feedback");
    if (state.guess) {
      fb.textContent = "You predicted: " + state.guess + ". Measured: it " + OUTCOME[c.outcome] + "." +
        (state.guess === c.outcome ? " Right." : "");
    } else fb.textContent = "";
    showReveal();
  }

  function changed() {
    state.revealed = false;
    state.guess = null;
    writeHash();
    draw();
  }

  Object.keys(controls).forEach(function (k) {
    controls[k].addEventListener("change", function () {
      if (k === "seed") { writeHash(); draw(); } else changed();
    });
  });
  box.querySelectorAll("[data-guess]").forEach(function (b) {
    b.addEventListener("click", function () {
      state.guess = b.getAttribute("data-guess");
      state.revealed = true;
      draw();
    });
  });
  $("ir-x-always").addEventListener("change", showReveal);
  window.addEventListener("hashchange", function () { if (applyHash()) { state.revealed = false; state.guess = null; draw(); } });
  var resizeTimer = null;
  window.addEventListener("resize", function () { clearTimeout(resizeTimer); resizeTimer = setTimeout(draw, 150); });

  // Start: the hash's selection, else He on ReLU if the grid has it.
  var start = { init: "he_normal", act: "relu" };
  Object.keys(start).forEach(function (k) { if (D.axes[k].indexOf(start[k]) >= 0) controls[k].value = start[k]; });
  applyHash();
  writeHash();
  draw();
}
})();
