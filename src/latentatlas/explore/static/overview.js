// latentatlas explore: the overview map (a 2-D UMAP of the real points, computed by the server in
// the background once the panel is first opened) linked to the plane. Selecting (lasso/box) or hovering in either view marks the
// same real points in the other; an attribute filter (with counts) narrows the map.
// The plane's marks are drawn on a canvas of their own over the plot, in plotly's data-to-pixel
// mapping, so that no plotly redraw of the (up to 250,000) WebGL points is needed.
"use strict";

const linked = {
  map: null, // { index: Int32Array (row -> real point), x, y, row: Map(real point -> row) }
  marked: [], // real points marked in both views
  hover: null, // a real point under the pointer in the other view
  filter: [], // attribute terms: NAME or !NAME
  mask: null, // Uint8Array bits of the filter's real points (null: no filter)
};
window.__overview = { state: "idle", marked: 0, polls: 0 };

function ovEl(tag, props, ...children) {
  const e = Object.assign(document.createElement(tag), props || {});
  e.append(...children);
  return e;
}

function b64(text, Type) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Type(bytes.buffer);
}

// --- the panel -------------------------------------------------------------------------------

function buildOverviewPanel() {
  const box = document.getElementById("overview-box");
  if (!box) return false;
  box.append(
    ovEl("div", { id: "overview-state", className: "small", textContent: "computing the overview…" }),
    ovEl("div", { id: "overview-plot" }),
    ovEl("div", { className: "row" },
      ovEl("select", { id: "overview-filter" }, ovEl("option", { value: "", textContent: "filter by attribute…" })),
      ovEl("button", { id: "overview-clear", type: "button", textContent: "clear" })),
    ovEl("div", { id: "overview-count", className: "small" }),
    ovEl("div", { id: "overview-marked", className: "small" }),
  );
  document.getElementById("overview-filter").addEventListener("change", (e) => {
    if (e.target.value) linked.filter.push(e.target.value);
    e.target.value = "";
    applyFilter();
  });
  document.getElementById("overview-clear").addEventListener("click", () => {
    linked.filter = [];
    mark([]);
    applyFilter();
  });
  return true;
}

async function pollOverview() {
  // The server starts the computation on the first request and answers 202 until it is ready.
  for (;;) {
    window.__overview.polls += 1;
    const r = await fetch("/api/overview");
    const body = await r.json();
    if (r.status === 200) return body;
    window.__overview.state = body.state || "failed";
    if (r.status !== 202) throw new Error(body.error || r.statusText);
    await new Promise((done) => setTimeout(done, 250));
  }
}

async function loadOverview() {
  let body;
  try {
    body = await pollOverview();
  } catch (e) {
    document.getElementById("overview-state").textContent = `no overview: ${e.message}`;
    return;
  }
  const index = b64(body.indices, Int32Array), xy = b64(body.xy, Float32Array);
  const m = index.length, x = new Float32Array(m), y = new Float32Array(m), row = new Map();
  for (let i = 0; i < m; i++) { x[i] = xy[2 * i]; y[i] = xy[2 * i + 1]; row.set(index[i], i); }
  linked.map = { index, x, y, row };
  document.getElementById("overview-state").textContent = `${body.method.toUpperCase()} of `
    + (body.count < body.n ? `a seeded ${body.count.toLocaleString("en")} of ` : "")
    + `${body.n.toLocaleString("en")} real points (fitted on ${body.fitted.toLocaleString("en")})`;
  const div = document.getElementById("overview-plot");
  const traces = [
    { type: "scattergl", mode: "markers", name: "real points", x, y, hoverinfo: "none",
      marker: { size: 3, color: "#9ab0c8", opacity: 0.7 } },
    { type: "scattergl", mode: "markers", name: "marked", x: [], y: [], hoverinfo: "skip",
      marker: { size: 5, color: "#e4572e" } },
    { type: "scattergl", mode: "markers", name: "under the pointer", x: [], y: [], hoverinfo: "skip",
      marker: { size: 12, color: "rgba(0,0,0,0)", line: { width: 2, color: "#000" } } },
  ];
  const layout = { margin: { l: 4, r: 4, t: 4, b: 4 }, showlegend: false, dragmode: "lasso",
    hovermode: "closest", xaxis: { visible: false }, yaxis: { visible: false } };
  // No toolbar button reaches a network; lasso and box select are what the map is for.
  const config = { displaylogo: false, responsive: true, doubleClick: false,
    modeBarButtons: [["lasso2d", "select2d", "pan2d", "resetScale2d"]] };
  await Plotly.newPlot(div, traces, layout, config);
  div.on("plotly_selected", (ev) => {
    const rows = ev && ev.points ? ev.points.filter((p) => p.curveNumber === 0).map((p) => p.pointIndex) : [];
    mark(rows.map((i) => index[i]));
  });
  div.on("plotly_hover", (ev) => {
    const p = ev.points && ev.points[0];
    if (p && p.curveNumber === 0) { linked.hover = index[p.pointIndex]; drawPlaneMarks(); }
  });
  div.on("plotly_unhover", () => { linked.hover = null; drawPlaneMarks(); });
  window.__overview.state = "ready";
  redrawMap();
  applyFilter();
}

// --- marking -----------------------------------------------------------------------------------

function mark(points) {
  linked.marked = points;
  window.__overview.marked = points.length;
  document.getElementById("overview-marked").textContent = points.length
    ? `${points.length.toLocaleString("en")} real points marked in both views` : "";
  redrawMap(false);
  drawPlaneMarks();
}

function redrawMap(colours = true) {
  const map = linked.map, div = document.getElementById("overview-plot");
  if (!map || !div.data) return;
  const mx = [], my = [];
  for (const p of linked.marked) {
    const i = map.row.get(p);
    if (i !== undefined) { mx.push(map.x[i]); my.push(map.y[i]); }
  }
  const hx = [], hy = [], h = linked.hover === null ? undefined : map.row.get(linked.hover);
  if (h !== undefined) { hx.push(map.x[h]); hy.push(map.y[h]); }
  Plotly.restyle(div, { x: [mx, hx], y: [my, hy] }, [1, 2]);
  if (!colours) return;
  // The filter's points in blue, the others faded.
  const colour = linked.mask
    ? Array.from(map.index, (p) => (linked.mask[p >> 3] & (1 << (p & 7)) ? "#4c78a8" : "#e8e8e8")) : "#9ab0c8";
  Plotly.restyle(div, { "marker.color": [colour] }, [0]);
}

function planeLayer() {
  let canvas = document.getElementById("linked-layer");
  if (!canvas) {
    canvas = ovEl("canvas", { id: "linked-layer" });
    Object.assign(canvas.style, { position: "absolute", pointerEvents: "none" });
    document.getElementById("plot").append(canvas);
  }
  return canvas;
}

function drawPlaneMarks() {
  // The marked real points (and the one under the pointer in the map) on the plane.
  const plot = document.getElementById("plot-area"), plane = window.__explore.plane;
  const fl = plot._fullLayout;
  if (!fl || !fl.xaxis || !fl.xaxis.c2p || !plane) return;
  const xa = fl.xaxis, ya = fl.yaxis, canvas = planeLayer();
  Object.assign(canvas.style, { left: `${xa._offset}px`, top: `${ya._offset}px` });
  canvas.width = xa._length;
  canvas.height = ya._length;
  const g = canvas.getContext("2d");
  const where = planePositions(plane);
  g.fillStyle = "rgba(228, 87, 46, 0.9)";
  let drawn = 0;
  for (const p of linked.marked) {
    const at = where(p);
    if (!at) continue;
    g.fillRect(xa.c2p(at[0]) - 2, ya.c2p(at[1]) - 2, 4, 4);
    drawn += 1;
  }
  window.__overview.drawn = drawn;
  const h = linked.hover === null ? null : where(linked.hover);
  if (h) {
    g.strokeStyle = "#000"; g.lineWidth = 2;
    g.beginPath(); g.arc(xa.c2p(h[0]), ya.c2p(h[1]), 8, 0, 2 * Math.PI); g.stroke();
  }
}

function planePositions(plane) {
  // Real point -> its (x, y) on the plane, where the plane draws it (null elsewhere).
  if (!plane.index) return (p) => (p < plane.x.length ? [plane.x[p], plane.y[p]] : null);
  if (!plane.row) { plane.row = new Map(); plane.index.forEach((p, i) => plane.row.set(p, i)); }
  return (p) => { const i = plane.row.get(p); return i === undefined ? null : [plane.x[i], plane.y[i]]; };
}

// --- filters -----------------------------------------------------------------------------------

async function applyFilter() {
  const where = linked.filter.join(",");
  const r = await fetch(`/api/filter?where=${encodeURIComponent(where)}`);
  const body = await r.json();
  if (!r.ok) { document.getElementById("overview-count").textContent = body.error; return; }
  linked.mask = where ? b64(body.mask, Uint8Array) : null;
  const select = document.getElementById("overview-filter");
  select.length = 1;
  for (const [name, count] of Object.entries(body.counts)) {
    if (linked.filter.includes(name) || linked.filter.includes(`!${name}`)) continue;
    select.append(new Option(`${name} (${count.toLocaleString("en")})`, name));
    select.append(new Option(`not ${name} (${(body.count - count).toLocaleString("en")} or unknown)`, `!${name}`));
  }
  const terms = linked.filter.map((t) => (t.startsWith("!") ? `not ${t.slice(1)}` : t));
  document.getElementById("overview-count").textContent = where
    ? `${terms.join(" and ")}: ${body.count.toLocaleString("en")} of ${body.n.toLocaleString("en")} real points`
    : `${body.n.toLocaleString("en")} real points, no filter`;
  if (where) mark(realPoints(linked.mask, body.n));
  redrawMap();
}

function realPoints(bits, n) {
  const out = [];
  for (let i = 0; i < n; i++) if (bits[i >> 3] & (1 << (i & 7))) out.push(i);
  return out;
}

// --- wiring to the plane -----------------------------------------------------------------------

let planeWired = false;

document.addEventListener("explore:plane", () => {
  const plot = document.getElementById("plot-area");
  if (!planeWired) {
    planeWired = true;
    for (const ev of ["plotly_relayout", "plotly_relayouting", "plotly_afterplot"]) plot.on(ev, drawPlaneMarks);
    plot.on("plotly_selected", (ev) => {
      const plane = window.__explore.plane;
      const at = (i) => (plane.index ? plane.index[i] : i);
      mark(ev && ev.points ? ev.points.filter((p) => p.curveNumber === 0).map((p) => at(p.pointIndex)) : []);
    });
    plot.on("plotly_hover", (ev) => {
      const p = ev.points && ev.points[0], plane = window.__explore.plane;
      if (!p || p.curveNumber !== 0) return;
      linked.hover = plane.index ? plane.index[p.pointIndex] : p.pointIndex;
      redrawMap(false);
    });
  }
  drawPlaneMarks();
});

// Computed when first opened: the page's first paint and clicks never wait behind it.
if (buildOverviewPanel()) {
  document.getElementById("overview-box").addEventListener("toggle", (e) => {
    if (e.target.open && window.__overview.state === "idle") {
      window.__overview.state = "computing";
      loadOverview();
    }
  });
}
