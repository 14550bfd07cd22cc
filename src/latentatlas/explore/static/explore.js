// latentatlas explore: the page. Plotly (served by the explorer) draws the plane in WebGL; the
// server projects, decodes, encodes and answers everything else (see latentatlas/explore/app.py).
"use strict";

const $ = (id) => document.getElementById(id);
const T = { real: 0, gen: 1, slice: 2, found: 3 };
// The ellipses, origin, centroid, decoded point, path, A/B and pins live in an SVG over the plot,
// not in plotly: the WebGL canvas covers plotly's own SVG traces, and any plotly update redraws
// the WebGL points too (a second for 200,000 points in a software renderer), while a click must
// show its face within 150 ms.
const overlay = { current: null, path: null, plane: null };
const DEFAULT_SLIDERS = ["pc:0", "pc:1", "pc:2", "attr:Smiling", "attr:Eyeglasses", "attr:Male"];
const PINS_KEY = "latentatlas-pins";
// Timings the benchmark and the browser test read.
window.__explore = { firstPaint: null, latencies: [], decodes: 0, ready: false };

const DEFAULT_STATE = {
  ax: "pc:0", ay: "pc:1", colour: "split", base: "centroid", selected: null,
  at: null, moves: {}, gen: "", genN: 2000, sliceB: null, a: null, b: null, path: null,
};
let state = clone(DEFAULT_STATE);
let meta = null, plot = null, xy = null, selection = [], lastInfo = null;
let pins = [];  // {key, name, crop, face, coords, info}: pinned and uploaded points
let compared = [];  // keys of the pins ticked for comparison (at most two)
let found = [];  // indices of the real points the last search found

function clone(o) { return JSON.parse(JSON.stringify(o)); }

// --- the URL holds the view; each view is a history entry ------------------------------------

function readHash() {
  state = clone(DEFAULT_STATE);
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
  for (const k of ["a", "b", "path"]) {
    if (!p.has(k === "b" ? "pb" : `p${k}`)) continue;
    try { state[k] = JSON.parse(p.get(k === "b" ? "pb" : `p${k}`)); } catch (e) { /* ignored */ }
  }
}

function hashOf() {
  const p = new URLSearchParams();
  for (const k of ["ax", "ay", "colour", "base"]) p.set(k, state[k]);
  if (state.selected !== null) p.set("sel", state.selected);
  if (state.at) p.set("at", state.at.map((v) => +v.toPrecision(6)).join(","));
  const mv = Object.entries(state.moves).filter(([, v]) => v !== 0);
  if (mv.length) p.set("mv", mv.map(([k, v]) => `${k}=${v}`).join(";"));
  if (state.gen) { p.set("gen", state.gen); p.set("n", state.genN); }
  if (state.sliceB !== null) p.set("b", state.sliceB);
  if (state.a) p.set("pa", JSON.stringify(state.a));
  if (state.b) p.set("pb", JSON.stringify(state.b));
  if (state.path) p.set("ppath", JSON.stringify(state.path));
  return "#" + p.toString();
}

// push: a new view (a history entry back and forward step through); else this view, refined.
function writeHash(push) {
  const hash = hashOf();
  if (hash === location.hash) return;
  if (push && location.hash) history.pushState(null, "", hash);
  else history.replaceState(null, "", hash);
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
  if (state.base.startsWith("p")) return state.base;
  return state.base === "origin" ? "origin" : "centroid";
}

function currentSpec() {
  const spec = { base: baseSpec(), axes: [state.ax, state.ay] };
  if (state.at) spec.at = state.at;
  const mv = Object.entries(state.moves).filter(([, v]) => v !== 0);
  if (mv.length) spec.moves = mv;
  return spec;
}

function pinName(key) {
  const pin = pins.find((p) => p.key === key);
  return pin ? pin.name : "a kept point";
}

function describe(spec) {
  const where = spec.at ? `(${spec.at.map((v) => v.toFixed(1)).join(", ")})` : "";
  const base = typeof spec.base === "number" ? `#${spec.base}`
    : String(spec.base).startsWith("p") ? pinName(spec.base) : spec.base;
  return `${base}${where}${spec.moves ? " + sliders" : ""}`;
}

const fmt = (coords) => `(${coords.map((v) => v.toFixed(2)).join(", ")})`;

// How far out a point lies, in words (the bands come from the real points' distances).
function typicality(info) {
  return `Mahalanobis distance <b>${info.mahalanobis.toFixed(1)}</b>: <b>${esc(info.band)}</b>, `
    + `${esc(info.words)}; ‖z‖ = ${info.radius.toFixed(1)}`;
}

// --- decoding ----------------------------------------------------------------------------------

let inflight = false, pending = null, nearestTimer = null, faceUrl = null;

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
    };
    if (faceUrl) URL.revokeObjectURL(faceUrl);  // the face shown is kept until the next one
    img.src = faceUrl = url;
    lastInfo = { ...info, spec: job.spec };
    $("face-info").innerHTML = (info.coords ? `at ${fmt(info.coords)}, ` : "") + typicality(info);
    overlay.current = info.coords || null;
    drawOverlay();
    status("");
    clearTimeout(nearestTimer);
    nearestTimer = setTimeout(() => showNearest(job.spec), 250);
  } catch (e) {
    status(e.message);
  } finally {
    inflight = false;
    if (pending) nextDecode();
  }
}

// The real images nearest to the decoded point, once it stops moving.
async function showNearest(spec) {
  if (pending || inflight) return;
  try {
    const r = await (await call("/api/nearest", { point: spec, k: 6 })).json();
    if (JSON.stringify(spec) !== JSON.stringify(lastInfo?.spec)) return;
    await showStrip($("nearest"), r.neighbours.map((n) => ({ base: n.index })),
      r.neighbours.map((n) => ({ title: `${n.id} (${n.distance.toFixed(1)})`,
        text: `${n.id} (#${n.index}): distance ${n.distance.toFixed(1)} from the decoded point, Mahalanobis ${n.mahalanobis.toFixed(1)}`,
        pick: n.index })));
  } catch (e) { status(e.message); }
}

// --- frames: strips cut into labelled images that open large -------------------------------

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("an image did not load"));
    img.src = src;
  });
}

function frameCanvas(img, i) {
  // The server's strips: frames of S x S pixels, 2 pixels apart and from the edges.
  const s = img.naturalHeight - 4, c = document.createElement("canvas");
  c.width = c.height = s;
  c.getContext("2d").drawImage(img, 2 + i * (s + 2), 2, s, s, 0, 0, s, s);
  return c;
}

// Labelled frames of a strip (a PNG URL) in box; labels: {title, text, pick?} for each frame.
async function showFrames(box, src, labels) {
  const img = await loadImage(src);
  box.textContent = "";
  labels.forEach((label, i) => {
    const fig = document.createElement("figure");
    const c = frameCanvas(img, i);
    c.title = `${label.text} (click: larger)`;
    c.addEventListener("click", () => openLarge(c.toDataURL(), label.text));
    const cap = document.createElement("figcaption");
    cap.textContent = label.title;
    fig.append(c, cap);
    if (label.pick !== undefined) {
      const go = document.createElement("button");
      go.type = "button"; go.textContent = "pick"; go.title = "make this real point the base";
      go.addEventListener("click", () => pickReal(label.pick, performance.now()));
      fig.append(go);
    }
    box.append(fig);
  });
}

async function showStrip(box, points, labels) {
  if (!points.length) { box.textContent = ""; return; }
  const blob = await (await call("/api/strip", { points })).blob();
  await showFrames(box, URL.createObjectURL(blob), labels);
}

function openLarge(src, caption) {
  $("zoom-img").src = src;
  $("zoom-caption").textContent = caption;
  if (!$("zoom").open) $("zoom").showModal();
}

// A path strip with each frame's coordinates written under it, as the exported PNG.
function labelledStrip(img, coords, title) {
  const s = img.naturalHeight - 4, scale = 2, cell = s * scale, n = Math.round((img.naturalWidth - 2) / (s + 2));
  const c = document.createElement("canvas");
  c.width = n * (cell + 4) + 4; c.height = cell + 44;
  const g = c.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, c.width, c.height);
  g.imageSmoothingEnabled = false;
  g.fillStyle = "#222"; g.font = "11px sans-serif";
  g.fillText(title, 4, 12);
  for (let i = 0; i < n; i++) {
    g.drawImage(img, 2 + i * (s + 2), 2, s, s, 4 + i * (cell + 4), 18, cell, cell);
    if (coords) g.fillText(fmt(coords[i]), 4 + i * (cell + 4), cell + 34);
  }
  return c.toDataURL("image/png");
}

// --- real points -------------------------------------------------------------------------------

let hoverTimer = null, dwellTimer = null, hoverShown = null, realTicket = 0, realCaption = "";
let realShown = null;  // the real point in the panel (its readout follows the plane)

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
    if (trace === T.real || trace === T.found) {
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
      realCaption = `${state.gen} sample #${index} at ${fmt(info.coords)}, Mahalanobis ${info.mahalanobis.toFixed(1)}`;
      $("real-info").innerHTML = `${esc(state.gen)} sample #${index}: ${typicality(info)}`;
      $("neighbours").removeAttribute("src");
      $("neighbour-frames").textContent = "";
    }
  } catch (e) { status(e.message); }
}

async function showReal(index, k) {
  // Answers may arrive out of order (a hover, then a pick): only the latest call shows.
  const ticket = ++realTicket;
  const info = await (await call(`/api/real/${index}?k=${k}`)).json();
  const r = await call("/api/decode", { base: index, axes: [state.ax, state.ay] });
  if (ticket !== realTicket) return;
  realShown = index;
  const where = JSON.parse(r.headers.get("X-Point"));
  $("real-face").src = URL.createObjectURL(await r.blob());
  realCaption = `${info.id} (#${info.index}) at ${fmt(where.coords)}, Mahalanobis ${info.mahalanobis.toFixed(1)}`;
  const on = Object.entries(info.attributes).filter(([, v]) => v > 0).map(([k]) => k);
  // Ids and attribute names come from the store's files: escaped, never markup.
  $("real-info").innerHTML = `<b>${esc(info.id)}</b> (#${info.index}, ${esc(info.split)}) at ${fmt(where.coords)}; `
    + typicality(info)
    + (on.length ? `<br>${esc(on.join(", "))}` : "")
    + (info.neighbours.length ? `<br>nearest: ${esc(info.neighbours.map((n) => n.id).join(", "))}` : "");
  if (!info.neighbours.length) {
    $("neighbours").removeAttribute("src");
    $("neighbour-frames").textContent = "";
    return;
  }
  const strip = await call("/api/strip", { points: info.neighbours.map((n) => ({ base: n.index })) });
  const url = URL.createObjectURL(await strip.blob());
  if (ticket !== realTicket) return;
  $("neighbours").src = url;
  await showFrames($("neighbour-frames"), url, info.neighbours.map((n) => (
    { title: `${n.id} (${n.distance.toFixed(1)})`, text: `${n.id} (#${n.index}): distance ${n.distance.toFixed(1)} from ${info.id}, Mahalanobis ${n.mahalanobis.toFixed(1)}`, pick: n.index })));
}

async function pickReal(index, t0) {
  clearTimeout(hoverTimer);
  clearTimeout(dwellTimer);
  state.selected = index;
  state.base = "selected";
  state.at = null;
  baseOptions();
  writeHash(true);
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
  if (kind === "line") return `line ${arg.split("-").map((e) => (e.startsWith("p") ? pinName(e) : e)).join(" → ")}`;
  return name;
}

let sliderDrag = false;

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
      // One history entry per drag: the first move makes it, the rest refine it.
      writeHash(!sliderDrag);
      sliderDrag = true;
      decodeCurrent();
    });
    input.addEventListener("change", () => { sliderDrag = false; });
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
  if (compared.length === 2) groups.push(["the difference of two pins", [`line:${compared[0]}-${compared[1]}`]]);
  for (const [label, names] of groups) {
    if (!names.length) continue;
    const g = document.createElement("optgroup");
    g.label = label;
    for (const n of names) g.append(new Option(axisLabel(n), n));
    select.append(g);
  }
  if (![...select.options].some((o) => o.value === value)) select.append(new Option(axisLabel(value), value));
  select.value = value;
}

function baseOptions() {
  const select = $("base");
  select.textContent = "";
  select.append(new Option("centroid", "centroid"), new Option("origin", "origin"));
  const sel = new Option(state.selected !== null ? `selected real point (#${state.selected})` : "selected real point", "selected");
  sel.disabled = state.selected === null;
  select.append(sel);
  const keys = pins.map((p) => p.key);
  if (state.base.startsWith("p") && !keys.includes(state.base)) keys.push(state.base);
  for (const key of keys) select.append(new Option(`${pinName(key)} (${key.slice(0, 7)})`, key));
  select.value = state.base;
}

// Three categories, three flat bands (a colour bar with steps, not a gradient).
const SPLIT_COLOURS = ["#4c78a8", "#f58518", "#54a24b"];
const ATTR_COLOURS = ["#9ab0c8", "#dddddd", "#e4572e"];

function steps(colours) {
  const k = colours.length, out = [];
  colours.forEach((c, i) => { out.push([i / k, c], [(i + 1) / k, c]); });
  return out;
}

function marker(values, info) {
  const size = meta.n > 50000 ? 2 : 3;
  if (info.kind === "categorical") {
    // Only the categories some point has: an empty band in the colour bar reads as data.
    const counts = new Array(info.categories.length).fill(0);
    for (const v of values) counts[v] += 1;
    const present = info.categories.map((_, i) => i).filter((i) => counts[i] > 0);
    const code = new Map(present.map((c, i) => [c, i]));
    const palette = state.colour === "split" ? SPLIT_COLOURS : ATTR_COLOURS;
    const colours = present.map((c) => palette[c % palette.length]);
    const m = present.length, k = Math.max(m - 1, 1);
    // A typed array (plotly reads it far faster than a plain one); as it is when nothing moves.
    const color = present.every((c, i) => c === i) ? values : Float32Array.from(values, (v) => code.get(v));
    return {
      size, color, cmin: 0, cmax: k,
      colorscale: steps(colours), opacity: 0.7,
      // Band i spans [i / m, (i + 1) / m] of the scale: its tick sits at its middle.
      colorbar: { tickvals: present.map((_, i) => ((i + 0.5) / m) * k),
        ticktext: present.map((c) => info.categories[c]), thickness: 10, len: 0.5 },
      showscale: true,
    };
  }
  return { size, color: values, colorscale: "Viridis", opacity: 0.7, showscale: true,
    colorbar: { title: { text: info.label }, thickness: 10, len: 0.5 } };
}

// Plotly's options: nothing that reaches a network (no "Share chart…", no logo link).
const PLOT_CONFIG = {
  scrollZoom: true, displaylogo: false, responsive: true, doubleClick: false,
  showSendToCloud: false, showEditInChartStudio: false, showLink: false,
  modeBarButtonsToRemove: ["sendChartToCloud", "editInChartStudio"],
};

// A line axis named by the page (pins by their names, not their keys), others by the server.
function planeLabel(name, label) { return name.startsWith("line:") ? axisLabel(name) : label; }

let planeTicket = 0;

async function loadPlane(first) {
  // Planes asked for in quick succession (x, then y) may answer out of order: the last wins.
  const ticket = ++planeTicket;
  const q = planeQuery();
  // Beyond meta.limits.points_drawn real points, a density image (density.js) instead.
  const dense = typeof densityView !== "undefined" && densityView.active(meta);
  const [info, coords, colour, heatmap] = await Promise.all([
    call(`/api/plane?${q}`).then((r) => r.json()),
    dense ? new Float32Array(0) : floats(`/api/projection?${q}`),
    call(`/api/colour?by=${encodeURIComponent(state.colour)}`),
    dense ? densityView.trace(q) : null,
  ]);
  if (ticket !== planeTicket && !first) return;
  const colourInfo = JSON.parse(colour.headers.get("X-Colour"));
  const values = new Float32Array(await colour.arrayBuffer());
  const n = coords.length / 2;
  const x = new Float32Array(n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) { x[i] = coords[2 * i]; y[i] = coords[2 * i + 1]; }
  xy = { x, y };
  overlay.plane = info;
  const traces = [
    { type: "scattergl", mode: "markers", name: "real z-points", x, y,
      marker: marker(dense ? [] : values, colourInfo), hoverinfo: "none" },
    { type: "scattergl", mode: "markers", name: state.gen || "generator", x: [], y: [], hoverinfo: "none",
      marker: { size: 4, color: "#d62728", symbol: "x", opacity: 0.8 } },
    { type: "scattergl", mode: "markers", name: "in the slice", x: [], y: [], hoverinfo: "skip",
      marker: { size: 6, color: "rgba(0,0,0,0)", line: { width: 1.5, color: "#000" } } },
    { type: "scattergl", mode: "markers", name: "found", x: found.map((i) => x[i]), y: found.map((i) => y[i]), hoverinfo: "none",
      marker: { size: 7, color: "rgba(0,0,0,0)", line: { width: 1.5, color: "#e377c2" } } },
    ...(heatmap ? [heatmap] : []),
  ];
  const layout = {
    margin: { l: 50, r: 10, t: 10, b: 40 }, dragmode: "pan", hovermode: "closest", showlegend: true,
    legend: { orientation: "h", y: -0.08 }, uirevision: q,
    xaxis: { title: { text: planeLabel(state.ax, info.labels[0]) }, zeroline: false },
    // Equal scales: one σ is as long across as up, and the σ-ellipses keep their shape.
    yaxis: { title: { text: planeLabel(state.ay, info.labels[1]) }, zeroline: false, scaleanchor: "x", scaleratio: 1 },
  };
  if (first) {
    await Plotly.newPlot(plot, traces, layout, PLOT_CONFIG);
    window.__explore.firstPaint = performance.now();
    wirePlot();
  } else {
    await Plotly.react(plot, traces, layout, PLOT_CONFIG);
  }
  window.__explore.plane = { x, y, index: null, values, plane: q };
  document.dispatchEvent(new CustomEvent("explore:plane"));
  $("what").textContent = `${meta.model} · ${meta.n.toLocaleString("en")} z-points, N = ${meta.dim} · `
    + `${planeLabel(state.ax, info.labels[0])} × ${planeLabel(state.ay, info.labels[1])}`;
  sliceButton(info);
  await Promise.all([
    loadSamples().catch((e) => status(e.message)),
    state.sliceB !== null && !$("slice").disabled ? applySlice() : null,
    refreshPins(),
  ]);
  drawAB();
}

function sliceButton(info) {
  // The study's slice bounds every component but the plane's two: a plane of components only.
  const ok = info.components.every((c) => c !== null);
  $("slice").disabled = !ok;
  $("slice").title = ok ? "" : "the slice needs a plane of two components (z:J × z:K)";
  if (!ok) {
    Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.slice]);
    $("slice-count").textContent = "slice: choose two components (z:J and z:K) as x and y; "
      + "it bounds every other component, which a plane of principal or attribute axes has none of";
  } else if (state.sliceB === null) {
    $("slice-count").textContent = "";
  }
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

function maskPoints(mask, n) {
  const bits = Uint8Array.from(atob(mask), (c) => c.charCodeAt(0));
  const sx = [], sy = [];
  for (let i = 0; i < n; i++) if (bits[i >> 3] & (1 << (i & 7))) { sx.push(xy.x[i]); sy.push(xy.y[i]); }
  return [sx, sy];
}

async function applySlice() {
  const b = state.sliceB === "" || state.sliceB === null ? "" : state.sliceB;
  try {
    const r = await (await call(`/api/slice?${planeQuery()}&b=${encodeURIComponent(b)}`)).json();
    const [sx, sy] = maskPoints(r.mask, r.n);
    Plotly.restyle(plot, { x: [sx], y: [sy] }, [T.slice]);
    $("slice-count").textContent = `${r.count} of ${r.n} real points inside |z_j| ≤ ${r.b.toFixed(2)} `
      + `for every j but the plane's two`;
  } catch (e) {
    Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.slice]);
    $("slice-count").textContent = e.message;
  }
}

let downAt = null;

function inToolbar(e) { return !!e.target.closest(".modebar-container, .modebar, .legend"); }

function wirePlot() {
  // Click anywhere: plotly reports clicks on points only, so the plane's own mouse events are
  // turned into data coordinates here (a drag that pans is not a click, nor is a click on the
  // toolbar or the legend that lie over the plane).
  plot.addEventListener("mousedown", (e) => { downAt = inToolbar(e) ? null : [e.clientX, e.clientY]; }, true);
  plot.addEventListener("click", (e) => {
    const t0 = performance.now();
    if (inToolbar(e) || !downAt || Math.hypot(e.clientX - downAt[0], e.clientY - downAt[1]) > 4) return;
    const drag = plot.querySelector(".draglayer .nsewdrag");
    if (!drag || mode() !== "decode") return;
    const box = drag.getBoundingClientRect();
    const px = e.clientX - box.left, py = e.clientY - box.top;
    if (px < 0 || py < 0 || px > box.width || py > box.height) return;
    const fl = plot._fullLayout;
    state.at = [fl.xaxis.p2c(px), fl.yaxis.p2c(py)];
    writeHash(true);
    decodeCurrent(t0);
  });
  for (const ev of ["plotly_relayout", "plotly_relayouting", "plotly_afterplot"]) plot.on(ev, drawOverlay);
  plot.on("plotly_click", (ev) => {
    const p = ev.points && ev.points[0];
    if (mode() !== "pick" || !p) return;
    if (p.curveNumber === T.real) pickReal(realIndex(p.pointIndex), performance.now());
    if (p.curveNumber === T.found) pickReal(found[p.pointIndex], performance.now());
  });
  plot.on("plotly_hover", (ev) => {
    const p = ev.points && ev.points[0];
    if (!p) return;
    if (p.curveNumber === T.real) hoverPoint(T.real, realIndex(p.pointIndex));
    if (p.curveNumber === T.gen) hoverPoint(T.gen, p.pointIndex);
    if (p.curveNumber === T.found) hoverPoint(T.real, found[p.pointIndex]);
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

// --- the overlay -----------------------------------------------------------------------------------

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
  const at = (xy2) => p(...xy2).split(",").map(Number);
  let html = "";
  const info = overlay.plane;
  if (info) {
    info.ellipses.forEach(([xs, ys], k) => {
      html += `<path class="ellipse" d="M${xs.map((x, i) => p(x, ys[i])).join("L")}Z"/>`;
      const [tx, ty] = at([xs[0], ys[0]]);
      html += `<text class="sigma" x="${tx + 3}" y="${ty - 3}">${k + 1}σ</text>`;
    });
    // Origin labelled below left, centroid above right: the two often lie close together.
    for (const [label, xy2, dx, dy, anchor] of [["origin", info.origin, -7, 14, "end"], ["centroid", info.centroid, 7, -6, "start"]]) {
      const [cx, cy] = at(xy2);
      html += `<circle class="${label}" cx="${cx}" cy="${cy}" r="5"/>`
        + `<text class="mark" text-anchor="${anchor}" x="${cx + dx}" y="${cy + dy}">${label}</text>`;
    }
  }
  if (overlay.path && overlay.path.length) {
    html += `<polyline id="path-line" points="${overlay.path.map(([x, y]) => p(x, y)).join(" ")}"/>`;
  }
  for (const [label, spec] of [["A", state.a], ["B", state.b]]) {
    if (!spec || !spec.at || !spec.axes || spec.axes[0] !== state.ax || spec.axes[1] !== state.ay) continue;
    const [cx, cy] = at(spec.at);
    html += `<circle class="end" cx="${cx}" cy="${cy}" r="4"/><text x="${cx + 6}" y="${cy - 6}">${label}</text>`;
  }
  pins.forEach((pin, i) => {
    if (!pin.coords) return;
    const [cx, cy] = at(pin.coords);
    html += `<rect class="pin" x="${cx - 4}" y="${cy - 4}" width="8" height="8"/><text class="pin-label" x="${cx + 6}" y="${cy + 4}">${i + 1}</text>`;
  });
  if (overlay.current) {
    const [cx, cy] = at(overlay.current);
    html += `<circle id="current" cx="${cx}" cy="${cy}" r="7"/>`;
  }
  svg.innerHTML = html;
}

function drawAB() {
  drawOverlay();
  $("ab").textContent = `A: ${state.a ? describe(state.a) : "–"}, B: ${state.b ? describe(state.b) : "–"}`;
}

// --- paths ---------------------------------------------------------------------------------------

function setEnd(which, spec) {
  spec = spec || (state.at || state.base !== "selected" ? currentSpec() : { base: state.selected, axes: [state.ax, state.ay] });
  state[which] = clone(spec);
  writeHash(true);
  drawAB();
  axisOptions($("ax"), state.ax);
  axisOptions($("ay"), state.ay);
}

async function makePath() {
  if (!state.a || !state.b) { status("set A and B first"); return; }
  const raw = $("steps").value.trim(), steps = Number(raw), most = meta.limits.path_steps;
  if (!Number.isInteger(steps) || steps < 2 || steps > most) {
    status(`a path has 2 to ${most} steps: ${raw || "nothing"} refused (no path decoded)`);
    return;
  }
  state.path = { kind: $("path-kind").value, steps };
  writeHash(true);
  await drawPath();
}

async function drawPath() {
  if (!state.path || !state.a || !state.b) return;
  try {
    const body = { a: state.a, b: state.b, kind: state.path.kind, steps: state.path.steps, plane: [state.ax, state.ay] };
    const r = await (await call("/api/path", body)).json();
    $("strip").src = r.png;
    const img = await loadImage(r.png);
    const title = `${r.kind} from ${describe(state.a)} to ${describe(state.b)}, ${r.steps} steps; `
      + `coordinates on ${axisLabel(state.ax)} × ${axisLabel(state.ay)}`;
    $("strip-png").href = labelledStrip(img, r.coords, title);
    $("strip-png").hidden = false;
    await showFrames($("path-frames"), r.png, r.coords.map((c, i) => (
      { title: fmt(c), text: `frame ${i + 1} of ${r.steps} at ${fmt(c)} on ${axisLabel(state.ax)} × ${axisLabel(state.ay)}, `
        + `Mahalanobis ${r.mahalanobis[i].toFixed(1)}` })));
    $("path-cli").textContent = r.cli ? `same strip from the shell: ${r.cli}` : "";
    overlay.path = r.coords;
    drawOverlay();
    status("");
  } catch (e) { status(e.message); }
}

// --- pins, uploads, comparison ------------------------------------------------------------------

function savePins() {
  try {
    sessionStorage.setItem(PINS_KEY, JSON.stringify(pins.map(({ key, name, crop }) => ({ key, name, crop }))));
  } catch (e) { /* storage full or off: the pins stay for this page */ }
}

function loadPins() {
  try { pins = JSON.parse(sessionStorage.getItem(PINS_KEY) || "[]"); } catch (e) { pins = []; }
}

async function addPin(key, name, crop, info) {
  if (pins.length >= meta.limits.strip && !pins.some((p) => p.key === key)) {
    status(`at most ${meta.limits.strip} pins: remove one (×) first`);
    return;
  }
  if (!pins.some((p) => p.key === key)) pins.push({ key, name, crop: crop || null, info, coords: info.coords });
  savePins();
  await renderPins();
  baseOptions();
  drawOverlay();
}

async function pinCurrent() {
  try {
    const r = await (await call("/api/keep", { point: currentSpec() })).json();
    await addPin(r.key, `pin ${pins.length + 1}: ${describe(currentSpec())}`, null, r);
    status("");
  } catch (e) { status(e.message); }
}

// Each pin's coordinates on the plane shown (the server still keeps it, or it is dropped).
async function refreshPins() {
  const kept = [];
  for (const pin of pins) {
    try {
      const r = await (await call("/api/keep", { point: { base: pin.key, axes: [state.ax, state.ay] } })).json();
      Object.assign(pin, { info: r, coords: r.coords });
      kept.push(pin);
    } catch (e) { status(`${pin.name}: ${e.message}`); }
  }
  pins = kept;
  compared = compared.filter((k) => pins.some((p) => p.key === k));
  savePins();
  await renderPins();
}

async function renderPins() {
  const box = $("pins");
  box.textContent = "";
  $("pin-count").textContent = pins.length ? `${pins.length} pinned` : "none yet: pin the decoded point, or add images";
  if (!pins.length) { renderCompare(); return; }
  const blob = await (await call("/api/strip", { points: pins.map((p) => ({ base: p.key })) })).blob();
  const img = await loadImage(URL.createObjectURL(blob));
  pins.forEach((pin, i) => {
    pin.face = frameCanvas(img, i).toDataURL();
    const fig = document.createElement("figure");
    fig.className = "pin";
    fig.dataset.key = pin.key;
    const caption = `${i + 1}. ${pin.name}` + (pin.coords ? ` at ${fmt(pin.coords)}` : "")
      + (pin.info ? `, Mahalanobis ${pin.info.mahalanobis.toFixed(1)} (${pin.info.band})` : "");
    for (const [src, what] of [[pin.crop, "your image, cropped"], [pin.face, "decoded"]]) {
      if (!src) continue;
      const im = document.createElement("img");
      im.src = src; im.alt = what; im.title = `${what}: ${caption}`;
      im.addEventListener("click", () => openLarge(src, `${what}: ${caption}`));
      fig.append(im);
    }
    const cap = document.createElement("figcaption");
    cap.textContent = caption;
    const tick = document.createElement("input");
    tick.type = "checkbox"; tick.checked = compared.includes(pin.key); tick.title = "compare (tick two)";
    tick.addEventListener("change", () => {
      compared = compared.filter((k) => k !== pin.key);
      if (tick.checked) compared = [...compared, pin.key].slice(-2);
      renderPins();
    });
    fig.append(cap, tick);
    for (const [label, act] of [
      ["base", () => useAsBase(pin.key)],
      ["A", () => setEnd("a", { base: pin.key })],
      ["B", () => setEnd("b", { base: pin.key })],
      ["×", () => { pins = pins.filter((p) => p.key !== pin.key); savePins(); renderPins(); baseOptions(); drawOverlay(); }],
    ]) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = label; b.addEventListener("click", act);
      fig.append(b);
    }
    box.append(fig);
  });
  renderCompare();
}

function renderCompare() {
  const box = $("compare");
  box.textContent = "";
  $("diff-axis").disabled = compared.length !== 2;
  axisOptions($("ax"), state.ax);
  if (compared.length !== 2) return;
  for (const key of compared) {
    const pin = pins.find((p) => p.key === key);
    const fig = document.createElement("figure");
    const im = document.createElement("img");
    im.src = pin.face; im.alt = pin.name;
    const text = `${pin.name}` + (pin.coords ? ` at ${fmt(pin.coords)}` : "")
      + `, Mahalanobis ${pin.info.mahalanobis.toFixed(1)} (${pin.info.band})`;
    im.addEventListener("click", () => openLarge(pin.face, text));
    const cap = document.createElement("figcaption");
    cap.textContent = text;
    fig.append(im, cap);
    box.append(fig);
  }
}

function useAsBase(key) {
  state.base = key; state.at = null; state.moves = {};
  baseOptions(); buildSliders(); writeHash(true); decodeCurrent();
}

async function uploadFiles(files) {
  for (const file of files) {
    if (file.size > meta.limits.image_bytes) {
      status(`${file.name}: ${file.size} bytes, more than ${meta.limits.image_bytes}`);
      continue;
    }
    status(`encoding ${file.name}…`);
    try {
      const data = await new Promise((resolve, reject) => {
        const fr = new FileReader();
        fr.onload = () => resolve(fr.result);
        fr.onerror = () => reject(new Error(`${file.name}: could not be read`));
        fr.readAsDataURL(file);
      });
      const r = await (await call("/api/encode", { image: data, name: file.name.slice(0, 200), axes: [state.ax, state.ay] })).json();
      // Plotly reads markup (links included) in axis titles, where pin names appear: none here.
      await addPin(r.key, file.name.replace(/[<>&"]/g, "_"), r.crop, r);
      useAsBase(r.key);
      status("");
    } catch (e) { status(e.message); }
  }
}

// --- find ------------------------------------------------------------------------------------------

async function find() {
  const q = $("find").value.trim();
  if (!q) return;
  try {
    const r = await (await call(`/api/find?q=${encodeURIComponent(q)}`)).json();
    const bits = Uint8Array.from(atob(r.mask), (c) => c.charCodeAt(0));
    found = [];
    for (let i = 0; i < r.n; i++) if (bits[i >> 3] & (1 << (i & 7))) found.push(i);
    Plotly.restyle(plot, { x: [found.map((i) => xy.x[i])], y: [found.map((i) => xy.y[i])] }, [T.found]);
    const box = $("found");
    box.textContent = `${r.count} real points: ${r.what}${r.count > r.matches.length ? ` (first ${r.matches.length} listed)` : ""} `;
    for (const m of r.matches) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "link"; b.textContent = m.id;
      b.addEventListener("click", () => pickReal(m.index, performance.now()));
      box.append(b, " ");
    }
    status("");
  } catch (e) { status(e.message); }
}

// --- selection export ---------------------------------------------------------------------------

async function exportSelection(format) {
  try {
    const r = await call("/api/export", { indices: selection, format });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await r.blob());
    a.download = `selection.${format}`;
    a.click();
  } catch (e) { status(e.message); }
}

// --- views: controls from the state, the state from the controls ----------------------------------

function syncControls() {
  axisOptions($("ax"), state.ax);
  axisOptions($("ay"), state.ay);
  if (!meta.colours.includes(state.colour)) state.colour = "split";
  $("colour").value = state.colour;
  if (state.gen && !meta.generators.includes(state.gen)) {
    // Kept on screen (a later decode clears the status line, not this).
    $("notice").textContent = `unknown generator ${JSON.stringify(state.gen)} in the address: `
      + `use ${meta.generators.join(", ")}`;
    state.gen = "";
  }
  $("gen").value = state.gen;
  $("gen-n").value = state.genN;
  baseOptions();
  $("slice-b").value = state.sliceB ?? "";
  if (state.path) { $("path-kind").value = state.path.kind; $("steps").value = state.path.steps; }
  buildSliders();
  drawAB();
}

// Back or forward: the view of that history entry, redrawn where it differs.
async function restoreView() {
  const before = state;
  readHash();
  syncControls();
  try {
    if (before.ax !== state.ax || before.ay !== state.ay || before.colour !== state.colour) await loadPlane(false);
    else if (before.gen !== state.gen || before.genN !== state.genN) await loadSamples();
    if (state.sliceB !== null && !$("slice").disabled) await applySlice();
    else if (before.sliceB !== null) Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.slice]);
  } catch (e) { status(e.message); }
  if (state.selected !== null && state.selected !== before.selected) showSelected(state.selected);
  decodeCurrent();
  if (state.path) { if (JSON.stringify([before.path, before.a, before.b, before.ax, before.ay]) !== JSON.stringify([state.path, state.a, state.b, state.ax, state.ay])) drawPath(); } else {
    overlay.path = null; drawOverlay();
  }
}

// A new plane keeps the point shown: it is kept by the server and becomes the base.
async function changePlane(apply) {
  if (state.at || Object.values(state.moves).some((v) => v !== 0)) {
    try {
      const r = await (await call("/api/keep", { point: currentSpec() })).json();
      state.base = r.key; state.at = null; state.moves = {};
      baseOptions(); buildSliders();
    } catch (e) { status(e.message); }
  }
  apply();
  writeHash(true);
  try {
    await loadPlane(false);
    decodeCurrent();
    if (realShown !== null) showSelected(realShown);
    if (state.path) await drawPath();
  } catch (e) { status(e.message); }
}

// --- start -----------------------------------------------------------------------------------------

async function start() {
  readHash();
  loadPins();
  plot = $("plot-area");
  meta = await (await call("/api/meta")).json();
  for (const c of meta.colours) $("colour").append(new Option(c.replace("attr:", ""), c));
  for (const g of meta.generators) $("gen").append(new Option(g, g));
  for (const a of [...[...Array(Math.min(meta.dim, 10)).keys()].map((k) => `pc:${k}`), ...meta.attributes.map((a) => `attr:${a}`)]) {
    $("add-slider").append(new Option(axisLabel(a), a));
  }
  $("steps").max = meta.limits.path_steps;
  syncControls();
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
  if (state.path) drawPath();
  writeHash(false);
  window.__explore.ready = true;
}

async function loadPlaneFallback() {
  // A URL with an axis this store does not have: back to the default plane.
  state.ax = "pc:0"; state.ay = "pc:1";
  axisOptions($("ax"), state.ax);
  axisOptions($("ay"), state.ay);
  writeHash(false);
  await loadPlane(true);
}

function wireControls() {
  $("ax").addEventListener("change", () => changePlane(() => { state.ax = $("ax").value; }));
  $("ay").addEventListener("change", () => changePlane(() => { state.ay = $("ay").value; }));
  $("colour").addEventListener("change", async () => {
    state.colour = $("colour").value; writeHash(true);
    try { await loadPlane(false); } catch (e) { status(e.message); }
  });
  $("base").addEventListener("change", () => {
    state.base = $("base").value; state.at = state.base === "selected" ? null : state.at;
    writeHash(true); decodeCurrent();
  });
  $("add-slider").addEventListener("change", () => {
    const name = $("add-slider").value;
    if (name && !(name in state.moves)) state.moves[name] = 0;
    DEFAULT_SLIDERS.includes(name) || DEFAULT_SLIDERS.push(name);
    $("add-slider").value = "";
    buildSliders();
  });
  $("reset-sliders").addEventListener("click", resetSliders);
  $("set-a").addEventListener("click", () => setEnd("a"));
  $("set-b").addEventListener("click", () => setEnd("b"));
  $("make-path").addEventListener("click", makePath);
  $("gen").addEventListener("change", async () => {
    state.gen = $("gen").value; writeHash(true);
    $("notice").textContent = "";
    try { await loadSamples(); } catch (e) { status(e.message); }
  });
  $("gen-n").addEventListener("change", async () => {
    state.genN = Math.max(1, Math.min(meta.limits.samples, parseInt($("gen-n").value, 10) || 2000));
    writeHash(true);
    try { await loadSamples(); } catch (e) { status(e.message); }
  });
  $("slice").addEventListener("click", () => { state.sliceB = $("slice-b").value; writeHash(true); applySlice(); });
  $("slice-off").addEventListener("click", () => {
    state.sliceB = null; writeHash(true);
    Plotly.restyle(plot, { x: [[]], y: [[]] }, [T.slice]);
    $("slice-count").textContent = "";
  });
  $("export-csv").addEventListener("click", () => exportSelection("csv"));
  $("export-npy").addEventListener("click", () => exportSelection("npy"));
  $("pin").addEventListener("click", pinCurrent);
  $("diff-axis").addEventListener("click", () => changePlane(() => { state.ax = `line:${compared[0]}-${compared[1]}`; }));
  $("upload").addEventListener("change", () => { uploadFiles([...$("upload").files]); $("upload").value = ""; });
  $("find-go").addEventListener("click", find);
  $("find").addEventListener("keydown", (e) => { if (e.key === "Enter") find(); });
  $("face").addEventListener("click", () => {
    if (!lastInfo) return;
    const where = lastInfo.coords ? ` at ${fmt(lastInfo.coords)} on ${axisLabel(state.ax)} × ${axisLabel(state.ay)}` : "";
    openLarge($("face").src, `decoded: ${describe(lastInfo.spec)}${where}, Mahalanobis ${lastInfo.mahalanobis.toFixed(1)} (${lastInfo.band})`);
  });
  $("real-face").addEventListener("click", () => openLarge($("real-face").src, realCaption));
  for (const d of ["zoom", "help"]) $(d).addEventListener("click", (e) => { if (e.target === $(d)) $(d).close(); });
  $("help-open").addEventListener("click", () => $("help").showModal());
  window.addEventListener("popstate", restoreView);
  window.addEventListener("keydown", shortcut);
  // Image files dropped anywhere on the page are encoded.
  window.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dropping"); });
  window.addEventListener("dragleave", () => document.body.classList.remove("dropping"));
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    document.body.classList.remove("dropping");
    const files = [...(e.dataTransfer?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (files.length) uploadFiles(files);
  });
}

function resetSliders() { state.moves = {}; buildSliders(); writeHash(true); decodeCurrent(); }

const SHORTCUTS = {
  "?": () => ($("help").open ? $("help").close() : $("help").showModal()),
  p: pinCurrent,
  a: () => setEnd("a"),
  b: () => setEnd("b"),
  g: makePath,
  m: () => { const other = mode() === "decode" ? "pick" : "decode"; document.querySelector(`input[name="mode"][value="${other}"]`).checked = true; },
  r: resetSliders,
  u: () => $("upload").click(),
  f: () => $("find").focus(),
};

function shortcut(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest("input, select, textarea")) return;
  const act = SHORTCUTS[e.key];
  if (act) { e.preventDefault(); act(); }
}

start().catch((e) => { status(e.message); window.__explore.ready = true; });
