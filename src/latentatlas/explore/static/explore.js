// latentatlas explore: the page. Plotly (served by the explorer) draws the plane in WebGL; the
// server projects, decodes and answers everything else (see latentatlas/explore/app.py).
"use strict";

const $ = (id) => document.getElementById(id);
const T = { real: 0, gen: 1, ellipses: 2, marks: 3, slice: 4 };
// The decoded point, the path and A/B live in an SVG over the plot, not in plotly: any plotly
// update redraws the WebGL points too (a second for 200,000 points in a software renderer),
// while a click must show its face within 150 ms.
const overlay = { current: null, path: null };
const DEFAULT_SLIDERS = ["pc:0", "pc:1", "pc:2", "attr:Smiling", "attr:Eyeglasses", "attr:Male"];
// Timings the benchmark and the browser test read.
window.__explore = { firstPaint: null, latencies: [], decodes: 0, ready: false };

const state = {
  ax: "pc:0", ay: "pc:1", colour: "split", base: "centroid", selected: null,
  at: null, moves: {}, gen: "", genN: 2000, sliceB: null, a: null, b: null,
};
let meta = null, plot = null, xy = null, selection = [];

// --- the URL holds the view ------------------------------------------------------------------

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const k of ["ax", "ay", "colour", "gen"]) if (p.has(k)) state[k] = p.get(k);
  if (p.has("base")) state.base = p.get("base");
  if (p.has("sel")) state.selected = parseInt(p.get("sel"), 10);
  if (p.has("at")) state.at = p.get("at").split(",").map(Number);
  if (p.has("n")) state.genN = parseInt(p.get("n"), 10);
  if (p.has("b")) state.sliceB = p.get("b");
  if (p.has("mv")) for (const m of p.get("mv").split(";")) {
    const i = m.lastIndexOf("="); if (i > 0) state.moves[m.slice(0, i)] = Number(m.slice(i + 1));
  }
}

function writeHash() {
  const p = new URLSearchParams();
  for (const k of ["ax", "ay", "colour", "base"]) p.set(k, state[k]);
  if (state.selected !== null) p.set("sel", state.selected);
  if (state.at) p.set("at", state.at.map((v) => +v.toPrecision(6)).join(","));
  const mv = Object.entries(state.moves).filter(([, v]) => v !== 0);
  if (mv.length) p.set("mv", mv.map(([k, v]) => `${k}=${v}`).join(";"));
  if (state.gen) { p.set("gen", state.gen); p.set("n", state.genN); }
  if (state.sliceB !== null) p.set("b", state.sliceB);
  history.replaceState(null, "", "#" + p.toString());
}

// --- talking to the server -------------------------------------------------------------------

function esc(text) {
  const d = document.createElement("div");
  d.textContent = String(text);
  return d.innerHTML;
}

function status(text) { $("status").textContent = text || ""; }

async function call(url, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const r = await fetch(url, init);
  if (!r.ok) {
    let msg = r.statusText;
    try { msg = (await r.json()).error; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return r;
}

async function floats(url) {
  return new Float32Array(await (await call(url)).arrayBuffer());
}

function planeQuery() { return `ax=${encodeURIComponent(state.ax)}&ay=${encodeURIComponent(state.ay)}`; }

function baseSpec() {
  if (state.base === "selected" && state.selected !== null) return state.selected;
  return state.base === "origin" ? "origin" : "centroid";
}

function currentSpec() {
  const spec = { base: baseSpec(), axes: [state.ax, state.ay] };
  if (state.at) spec.at = state.at;
  const mv = Object.entries(state.moves).filter(([, v]) => v !== 0);
  if (mv.length) spec.moves = mv;
  return spec;
}

function describe(spec) {
  const where = spec.at ? `(${spec.at.map((v) => v.toFixed(1)).join(", ")})` : "";
  const base = typeof spec.base === "number" ? `#${spec.base}` : spec.base;
  return `${base}${where}${spec.moves ? " + sliders" : ""}`;
}

// --- decoding ----------------------------------------------------------------------------------

let inflight = false, pending = null;

function decodeCurrent(t0) {
  // One request at a time: a slider dragged fast decodes its latest value, not every one.
  pending = { spec: currentSpec(), t0: t0 || performance.now() };
  if (!inflight) nextDecode();
}

async function nextDecode() {
  const job = pending; pending = null;
  if (!job) return;
  inflight = true;
  try {
    const r = await call("/api/decode", job.spec);
    const info = JSON.parse(r.headers.get("X-Point"));
    const url = URL.createObjectURL(await r.blob());
    const img = $("face");
    img.onload = () => {
      window.__explore.latencies.push(performance.now() - job.t0);
      window.__explore.decodes += 1;
      URL.revokeObjectURL(url);
    };
    img.src = url;
    const far = (100 * info.further).toFixed(1);
    $("face-info").innerHTML = (info.coords ? `at (${info.coords.map((v) => v.toFixed(2)).join(", ")}), ` : "")
      + `Mahalanobis distance <b>${info.mahalanobis.toFixed(1)}</b>; ${far} % of the real points lie further out`
      + (info.further === 0 ? " (a void: no real point is this far)" : "")
      + `; ‖z‖ = ${info.radius.toFixed(1)}`;
    overlay.current = info.coords || null;
    drawOverlay();
    status("");
  } catch (e) {
    status(e.message);
  } finally {
    inflight = false;
    if (pending) nextDecode();
  }
}

// --- real points -------------------------------------------------------------------------------

let hoverTimer = null, dwellTimer = null, hoverShown = null, realTicket = 0;

function hoverPoint(trace, index) {
  clearTimeout(hoverTimer);
  clearTimeout(dwellTimer);
  hoverTimer = setTimeout(() => showHover(trace, index), 120);
}

async function showHover(trace, index) {
  const key = `${trace}:${index}`;
  if (key === hoverShown) return;
  hoverShown = key;
  try {
    if (trace === T.real) {
      await showReal(index, 0);
      // Neighbours (a scan of every z-point) only once the pointer rests on the point.
      dwellTimer = setTimeout(async () => {
        if (hoverShown !== key) return;
        try { await showReal(index, 6); } catch (e) { status(e.message); }
      }, 400);
    } else if (trace === T.gen) {
      const spec = { base: { generator: state.gen, n: state.genN, seed: 0, index }, axes: [state.ax, state.ay] };
      const r = await call("/api/decode", spec);
      const info = JSON.parse(r.headers.get("X-Point"));
      $("real-face").src = URL.createObjectURL(await r.blob());
      $("real-info").textContent = `${state.gen} sample #${index}: Mahalanobis ${info.mahalanobis.toFixed(1)}, `
        + `${(100 * info.further).toFixed(1)} % of real points further out`;
      $("neighbours").removeAttribute("src");
    }
  } catch (e) { status(e.message); }
}

async function showReal(index, k) {
  // Answers may arrive out of order (a hover, then a pick): only the latest call shows.
  const ticket = ++realTicket;
  const info = await (await call(`/api/real/${index}?k=${k}`)).json();
  const r = await call("/api/decode", { base: index });
  if (ticket !== realTicket) return;
  $("real-face").src = URL.createObjectURL(await r.blob());
  const on = Object.entries(info.attributes).filter(([, v]) => v > 0).map(([k]) => k);
  // Ids and attribute names come from the store's files: escaped, never markup.
  $("real-info").innerHTML = `<b>${esc(info.id)}</b> (#${info.index}, ${esc(info.split)}); `
    + `Mahalanobis ${info.mahalanobis.toFixed(1)}, ${(100 * info.further).toFixed(1)} % further out`
    + (on.length ? `<br>${esc(on.join(", "))}` : "")
    + (info.neighbours.length ? `<br>nearest: ${esc(info.neighbours.map((n) => n.id).join(", "))}` : "");
  if (!info.neighbours.length) { $("neighbours").removeAttribute("src"); return; }
  const strip = await call("/api/strip", { points: info.neighbours.map((n) => ({ base: n.index })) });
  const blob = await strip.blob();
  if (ticket === realTicket) $("neighbours").src = URL.createObjectURL(blob);
}

async function pickReal(index, t0) {
  clearTimeout(hoverTimer);
  clearTimeout(dwellTimer);
  state.selected = index;
  state.base = "selected";
  state.at = null;
  state.moves = {};
  $("base").querySelector('option[value="selected"]').disabled = false;
  $("base").querySelector('option[value="selected"]').textContent = `selected real point (#${index})`;
  $("base").value = "selected";
  buildSliders();
  writeHash();
  hoverShown = `${T.real}:${index}`;
  decodeCurrent(t0);
  await showSelected(index);
}

async function showSelected(index) {
  try { await showReal(index, 6); } catch (e) { status(e.message); }
}

// --- sliders -----------------------------------------------------------------------------------

function axisLabel(name) {
  const [kind, arg] = [name.slice(0, name.indexOf(":")), name.slice(name.indexOf(":") + 1)];
  if (kind === "pc") return `pc${+arg + 1}`;
  if (kind === "z") return `z[${arg}]`;
  if (kind === "attr") return arg;
  return name;
}

function buildSliders() {
  const box = $("sliders");
  box.textContent = "";
  const names = [...new Set([...DEFAULT_SLIDERS.filter(validAxis), ...Object.keys(state.moves)])];
  for (const name of names) {
    const row = document.createElement("div");
    row.className = "slider";
    const label = document.createElement("span");
    label.textContent = axisLabel(name);
    label.title = name;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: -3, max: 3, step: 0.05, value: state.moves[name] || 0 });
    input.dataset.axis = name;
    const value = document.createElement("span");
    value.textContent = (+input.value).toFixed(2);
    input.addEventListener("input", () => {
      state.moves[name] = +input.value;
      value.textContent = (+input.value).toFixed(2);
      writeHash();
      decodeCurrent();
    });
    row.append(label, input, value);
    box.append(row);
  }
}

function validAxis(name) {
  if (name.startsWith("attr:")) return meta.attributes.includes(name.slice(5));
  if (name.startsWith("pc:")) return +name.slice(3) < meta.dim;
  return true;
}

// --- the plot ----------------------------------------------------------------------------------

function axisOptions(select, value) {
  select.textContent = "";
  const groups = [
    ["principal axes", [...Array(meta.principal_axes).keys()].map((k) => `pc:${k}`)],
    ["attribute directions", meta.attributes.map((a) => `attr:${a}`)],
    ["components", [...Array(meta.dim).keys()].map((j) => `z:${j}`)],
  ];
  if (typeof state.a?.base === "number" && typeof state.b?.base === "number" && state.a.base !== state.b.base) {
    groups.push(["the line between A and B", [`line:${state.a.base}-${state.b.base}`]]);
  }
  for (const [label, names] of groups) {
    if (!names.length) continue;
    const g = document.createElement("optgroup");
    g.label = label;
    for (const n of names) g.append(new Option(n.startsWith("line:") ? `A → B (${n})` : axisLabel(n), n));
    select.append(g);
  }
  if (![...select.options].some((o) => o.value === value)) select.append(new Option(value, value));
  select.value = value;
}

// Three categories, three flat bands (a colour bar with steps, not a gradient).
const steps3 = (a, b, c) => [[0, a], [1 / 3, a], [1 / 3, b], [2 / 3, b], [2 / 3, c], [1, c]];
const SPLIT_COLOURS = steps3("#4c78a8", "#f58518", "#54a24b");
const ATTR_COLOURS = steps3("#9ab0c8", "#dddddd", "#e4572e");

function marker(values, info) {
  const size = meta.n > 50000 ? 2 : 3;
  if (info.kind === "categorical") {
    const k = info.categories.length - 1;
    const scale = state.colour === "split" ? SPLIT_COLOURS : ATTR_COLOURS;
    return {
      size, color: values, cmin: 0, cmax: k, colorscale: scale, opacity: 0.7,
      colorbar: { tickvals: [...Array(k + 1).keys()].map((i) => (i * k + k / 2) / (k + 1)), ticktext: info.categories, thickness: 10, len: 0.5 },
      showscale: true,
    };
  }
  return { size, color: values, colorscale: "Viridis", opacity: 0.7, showscale: true,
    colorbar: { title: { text: info.label }, thickness: 10, len: 0.5 } };
}

async function loadPlane(first) {
  const q = planeQuery();
  if (!first) { overlay.path = null; overlay.current = null; }
  // Beyond meta.limits.points_drawn real points, a density image (density.js) instead.
  const dense = typeof densityView !== "undefined" && densityView.active(meta);
  const [info, coords, colour, heatmap] = await Promise.all([
    call(`/api/plane?${q}`).then((r) => r.json()),
    dense ? new Float32Array(0) : floats(`/api/projection?${q}`),
    call(`/api/colour?by=${encodeURIComponent(state.colour)}`),
    dense ? densityView.trace(q) : null,
  ]);
  const colourInfo = JSON.parse(colour.headers.get("X-Colour"));
  const values = new Float32Array(await colour.arrayBuffer());
  const n = coords.length / 2;
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { x[i] = coords[2 * i]; y[i] = coords[2 * i + 1]; }
  xy = { x, y };
  const ex = [], ey = [];
  for (const [xs, ys] of info.ellipses) { ex.push(...xs, null); ey.push(...ys, null); }
  const traces = [
    { type: "scattergl", mode: "markers", name: "real z-points", x, y,
      marker: marker(dense ? [] : values, colourInfo), hoverinfo: "none" },
    { type: "scattergl", mode: "markers", name: state.gen || "generator", x: [], y: [], hoverinfo: "none",
      marker: { size: 4, color: "#d62728", symbol: "x", opacity: 0.8 } },
    { type: "scatter", mode: "lines", name: "1/2/3σ", x: ex, y: ey, hoverinfo: "skip",
      line: { color: "#333", width: 1, dash: "dot" } },
    { type: "scatter", mode: "markers+text", name: "origin, centroid", hoverinfo: "skip",
      x: [info.origin[0], info.centroid[0]], y: [info.origin[1], info.centroid[1]],
      text: ["origin", "centroid"], textposition: "top right",
      marker: { size: 10, color: ["#ffbf00", "#000"], symbol: ["circle", "cross"], line: { width: 1, color: "#000" } } },
    { type: "scattergl", mode: "markers", name: "in the slice", x: [], y: [], hoverinfo: "skip",
      marker: { size: 6, color: "rgba(0,0,0,0)", line: { width: 1.5, color: "#000" } } },
    ...(heatmap ? [heatmap] : []),
  ];
  const layout = {
    margin: { l: 50, r: 10, t: 10, b: 40 }, dragmode: "pan", hovermode: "closest", showlegend: true,
    legend: { orientation: "h", y: -0.08 }, uirevision: q,
    xaxis: { title: { text: info.labels[0] }, zeroline: false },
    yaxis: { title: { text: info.labels[1] }, zeroline: false },
  };
  // No double-click reset: two quick clicks into the plane are two decodes, and a reset would
  // redraw every point (the home button in the toolbar resets the view).
  const config = { scrollZoom: true, displaylogo: false, responsive: true, doubleClick: false };
  if (first) {
    await Plotly.newPlot(plot, traces, layout, config);
    window.__explore.firstPaint = performance.now();
    wirePlot();
  } else {
    await Plotly.react(plot, traces, layout, config);
  }
  window.__explore.plane = { x, y, index: null, values, plane: q };
  document.dispatchEvent(new CustomEvent("explore:plane"));
  $("what").textContent = `${meta.model} · ${meta.n.toLocaleString("en")} z-points, N = ${meta.dim} · `
    + `${info.labels[0]} × ${info.labels[1]}`;
  await Promise.all([loadSamples(), state.sliceB !== null ? applySlice() : null]);
  drawAB();
}

async function loadSamples() {
  if (!state.gen) { Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.gen]); return; }
  status(`fitting ${state.gen} on the train split…`);
  const s = await floats(`/api/samples?generator=${state.gen}&n=${state.genN}&seed=0&${planeQuery()}`);
  const n = s.length / 2, x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { x[i] = s[2 * i]; y[i] = s[2 * i + 1]; }
  Plotly.restyle(plot, { x: [x], y: [y], name: `${state.gen} samples` }, [T.gen]);
  status("");
}

async function applySlice() {
  const b = state.sliceB === "" || state.sliceB === null ? "" : state.sliceB;
  try {
    const r = await (await call(`/api/slice?${planeQuery()}&b=${encodeURIComponent(b)}`)).json();
    const bits = Uint8Array.from(atob(r.mask), (c) => c.charCodeAt(0));
    const sx = [], sy = [];
    for (let i = 0; i < r.n; i++) if (bits[i >> 3] & (1 << (i & 7))) { sx.push(xy.x[i]); sy.push(xy.y[i]); }
    Plotly.restyle(plot, { x: [sx], y: [sy] }, [T.slice]);
    $("slice-count").textContent = `${r.count} of ${r.n} real points inside |z_j| ≤ ${r.b.toFixed(2)} `
      + `for every j but the plane's two`;
  } catch (e) {
    Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.slice]);
    $("slice-count").textContent = e.message;
  }
}

let downAt = null;

function wirePlot() {
  // Click anywhere: plotly reports clicks on points only, so the plane's own mouse events are
  // turned into data coordinates here (a drag that pans is not a click).
  plot.addEventListener("mousedown", (e) => { downAt = [e.clientX, e.clientY]; }, true);
  plot.addEventListener("click", (e) => {
    const t0 = performance.now();
    if (!downAt || Math.hypot(e.clientX - downAt[0], e.clientY - downAt[1]) > 4) return;
    const drag = plot.querySelector(".draglayer .nsewdrag");
    if (!drag || mode() !== "decode") return;
    const box = drag.getBoundingClientRect();
    const px = e.clientX - box.left, py = e.clientY - box.top;
    if (px < 0 || py < 0 || px > box.width || py > box.height) return;
    const fl = plot._fullLayout;
    state.at = [fl.xaxis.p2c(px), fl.yaxis.p2c(py)];
    state.moves = {};
    buildSliders();
    writeHash();
    decodeCurrent(t0);
  });
  for (const ev of ["plotly_relayout", "plotly_relayouting", "plotly_afterplot"]) plot.on(ev, drawOverlay);
  plot.on("plotly_click", (ev) => {
    const p = ev.points && ev.points[0];
    if (mode() === "pick" && p && p.curveNumber === T.real) pickReal(realIndex(p.pointIndex), performance.now());
  });
  plot.on("plotly_hover", (ev) => {
    const p = ev.points && ev.points[0];
    if (p && p.curveNumber === T.real) hoverPoint(T.real, realIndex(p.pointIndex));
    else if (p && p.curveNumber === T.gen) hoverPoint(T.gen, p.pointIndex);
  });
  plot.on("plotly_selected", (ev) => {
    selection = ev && ev.points ? ev.points.filter((p) => p.curveNumber === T.real).map((p) => realIndex(p.pointIndex)) : [];
    $("sel-count").textContent = `${selection.length} real points selected`;
    $("export-csv").disabled = $("export-npy").disabled = selection.length === 0;
  });
}

function mode() { return document.querySelector('input[name="mode"]:checked').value; }

// A point of the real-points trace -> its real point (density.js draws only those in view).
function realIndex(i) {
  const index = window.__explore.plane && window.__explore.plane.index;
  return index ? index[i] : i;
}


// --- paths, selection ----------------------------------------------------------------------------

function drawOverlay() {
  // An SVG laid over the plot's axis area, in plotly's own data-to-pixel mapping (c2p).
  const fl = plot._fullLayout;
  if (!fl || !fl.xaxis || !fl.xaxis.c2p) return;
  const xa = fl.xaxis, ya = fl.yaxis;
  const svg = $("overlay");
  Object.assign(svg.style, { left: `${xa._offset}px`, top: `${ya._offset}px` });
  svg.setAttribute("width", xa._length);
  svg.setAttribute("height", ya._length);
  const p = (x, y) => `${xa.c2p(x).toFixed(1)},${ya.c2p(y).toFixed(1)}`;
  let html = "";
  if (overlay.path && overlay.path.length) {
    html += `<polyline id="path-line" points="${overlay.path.map(([x, y]) => p(x, y)).join(" ")}"/>`;
  }
  for (const [label, spec] of [["A", state.a], ["B", state.b]]) {
    if (!spec || !spec.at || !spec.axes || spec.axes[0] !== state.ax || spec.axes[1] !== state.ay) continue;
    const [cx, cy] = p(...spec.at).split(",");
    html += `<circle class="end" cx="${cx}" cy="${cy}" r="4"/><text x="${+cx + 6}" y="${cy - 6}">${label}</text>`;
  }
  if (overlay.current) {
    const [cx, cy] = p(...overlay.current).split(",");
    html += `<circle id="current" cx="${cx}" cy="${cy}" r="7"/>`;
  }
  svg.innerHTML = html;
}

function drawAB() {
  drawOverlay();
  $("ab").textContent = `A: ${state.a ? describe(state.a) : "–"}, B: ${state.b ? describe(state.b) : "–"}`;
}

function setEnd(which) {
  const spec = state.at || state.base !== "selected" ? currentSpec() : { base: state.selected, axes: [state.ax, state.ay] };
  state[which] = JSON.parse(JSON.stringify(spec));
  drawAB();
  axisOptions($("ax"), state.ax);
  axisOptions($("ay"), state.ay);
}

async function makePath() {
  if (!state.a || !state.b) { status("set A and B first"); return; }
  const steps = Math.max(2, Math.min(64, parseInt($("steps").value, 10) || 10));
  try {
    const r = await (await call("/api/path", { a: state.a, b: state.b, kind: $("path-kind").value, steps })).json();
    $("strip").src = r.png;
    $("strip-png").href = r.png;
    $("strip-png").hidden = false;
    $("path-cli").textContent = r.cli ? `same strip from the shell: ${r.cli}` : "";
    overlay.path = r.coords;
    drawOverlay();
    status("");
  } catch (e) { status(e.message); }
}

async function exportSelection(format) {
  try {
    const r = await call("/api/export", { indices: selection, format });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `selection.${format}`;
    a.click();
  } catch (e) { status(e.message); }
}

// --- start -----------------------------------------------------------------------------------------

async function start() {
  readHash();
  plot = $("plot-area");
  meta = await (await call("/api/meta")).json();
  axisOptions($("ax"), state.ax);
  axisOptions($("ay"), state.ay);
  for (const c of meta.colours) $("colour").append(new Option(c.replace("attr:", ""), c));
  if (!meta.colours.includes(state.colour)) state.colour = "split";
  $("colour").value = state.colour;
  for (const g of meta.generators) $("gen").append(new Option(g, g));
  $("gen").value = state.gen;
  $("gen-n").value = state.genN;
  for (const a of [...[...Array(Math.min(meta.dim, 10)).keys()].map((k) => `pc:${k}`), ...meta.attributes.map((a) => `attr:${a}`)]) {
    $("add-slider").append(new Option(axisLabel(a), a));
  }
  if (state.selected !== null) {
    const opt = $("base").querySelector('option[value="selected"]');
    opt.disabled = false;
    opt.textContent = `selected real point (#${state.selected})`;
  }
  $("base").value = state.base;
  if (state.sliceB !== null) $("slice-b").value = state.sliceB;
  buildSliders();
  wireControls();
  try {
    await loadPlane(true);
  } catch (e) {
    status(e.message);
    await loadPlaneFallback(e);
  }
  // The face panel is never empty: the view's point, else the base (the centroid at first).
  if (state.selected !== null) showSelected(state.selected);
  decodeCurrent();
  window.__explore.ready = true;
}

async function loadPlaneFallback() {
  // A URL with an axis this store does not have: back to the default plane.
  state.ax = "pc:0"; state.ay = "pc:1";
  axisOptions($("ax"), state.ax);
  axisOptions($("ay"), state.ay);
  writeHash();
  await loadPlane(true);
}

function wireControls() {
  const replot = async () => {
    writeHash();
    try { await loadPlane(false); if (state.at) decodeCurrent(); } catch (e) { status(e.message); }
  };
  $("ax").addEventListener("change", () => { state.ax = $("ax").value; state.at = null; replot(); });
  $("ay").addEventListener("change", () => { state.ay = $("ay").value; state.at = null; replot(); });
  $("colour").addEventListener("change", () => { state.colour = $("colour").value; replot(); });
  $("base").addEventListener("change", () => { state.base = $("base").value; writeHash(); decodeCurrent(); });
  $("add-slider").addEventListener("change", () => {
    const name = $("add-slider").value;
    if (name && !(name in state.moves)) state.moves[name] = 0;
    DEFAULT_SLIDERS.includes(name) || DEFAULT_SLIDERS.push(name);
    $("add-slider").value = "";
    buildSliders();
  });
  $("reset-sliders").addEventListener("click", () => { state.moves = {}; buildSliders(); writeHash(); decodeCurrent(); });
  $("set-a").addEventListener("click", () => setEnd("a"));
  $("set-b").addEventListener("click", () => setEnd("b"));
  $("make-path").addEventListener("click", makePath);
  $("gen").addEventListener("change", async () => {
    state.gen = $("gen").value; writeHash();
    try { await loadSamples(); } catch (e) { status(e.message); }
  });
  $("gen-n").addEventListener("change", async () => {
    state.genN = Math.max(1, Math.min(meta.limits.samples, parseInt($("gen-n").value, 10) || 2000));
    writeHash();
    try { await loadSamples(); } catch (e) { status(e.message); }
  });
  $("slice").addEventListener("click", () => { state.sliceB = $("slice-b").value; writeHash(); applySlice(); });
  $("slice-off").addEventListener("click", () => {
    state.sliceB = null; writeHash();
    Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.slice]);
    $("slice-count").textContent = "";
  });
  $("export-csv").addEventListener("click", () => exportSelection("csv"));
  $("export-npy").addEventListener("click", () => exportSelection("npy"));
}

start().catch((e) => status(e.message));
