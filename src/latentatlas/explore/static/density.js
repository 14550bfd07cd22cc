// latentatlas explore: a plane of more real points than the page draws (meta.limits.points_drawn)
// is a density image (a 2-D histogram made by the server, drawn as a heatmap under the points),
// and the real points themselves are drawn once the view box holds at most that many.
"use strict";

const densityView = {
  bins: 256,
  ticket: 0,
  wired: false,

  active(meta) { return meta.n > meta.limits.points_drawn; },

  async fetch(q, box) {
    const range = box ? `&x0=${box[0]}&x1=${box[1]}&y0=${box[2]}&y1=${box[3]}` : "";
    const r = await fetch(`/api/density?${q}&bins=${this.bins}${range}`);
    const body = await r.json();
    if (!r.ok) throw new Error(body.error);
    return body;
  },

  heatmap(body) {
    const [x0, x1, y0, y1] = body.box, k = body.bins;
    const counts = new Float32Array(Uint8Array.from(atob(body.counts), (c) => c.charCodeAt(0)).buffer);
    const z = [];
    for (let r = 0; r < k; r++) z.push(Array.from(counts.subarray(r * k, (r + 1) * k), Math.log1p));
    return { z, x0: x0 + (x1 - x0) / (2 * k), dx: (x1 - x0) / k, y0: y0 + (y1 - y0) / (2 * k), dy: (y1 - y0) / k };
  },

  // The heatmap trace of the whole plane (loadPlane appends it after the five traces of explore.js).
  async trace(q) {
    const body = await this.fetch(q, null);
    return { type: "heatmap", name: `density of ${body.count.toLocaleString("en")} points`, ...this.heatmap(body),
      colorscale: "Greys", reversescale: true, showscale: false, hoverinfo: "skip", zsmooth: false,
      showlegend: true };
  },

  // After a zoom or pan: the image of the view box, and its points when few enough.
  async update() {
    window.__explore.densityBox = viewBox(); // asked for (a later relayout compares with it)
    const plot = document.getElementById("plot-area"), plane = window.__explore.plane;
    const fl = plot._fullLayout;
    if (!plane || !fl || !fl.xaxis) return;
    const ticket = ++this.ticket;
    // The ranges once plotly has applied equal scales (the event may carry the asked-for ones).
    await new Promise((done) => requestAnimationFrame(done));
    if (ticket !== this.ticket) return;
    const box = viewBox();
    window.__explore.densityBox = box;
    let body;
    try { body = await this.fetch(plane.plane, box); } catch (e) { return; }
    if (ticket !== this.ticket) return;
    const heat = this.heatmap(body), last = plot.data.length - 1;
    Plotly.restyle(plot, { z: [heat.z], x0: [heat.x0], dx: [heat.dx], y0: [heat.y0], dy: [heat.dy] }, [last]);
    let index = new Int32Array(0), x = new Float32Array(0), y = new Float32Array(0);
    if (body.points) {
      const bytes = (t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0)).buffer;
      index = new Int32Array(bytes(body.points.indices));
      const xy = new Float32Array(bytes(body.points.xy));
      x = new Float32Array(index.length); y = new Float32Array(index.length);
      for (let i = 0; i < index.length; i++) { x[i] = xy[2 * i]; y[i] = xy[2 * i + 1]; }
    }
    const colours = Float32Array.from(index, (p) => plane.values[p]);
    await Plotly.restyle(plot, { x: [x], y: [y], "marker.color": [colours] }, [0]);
    window.__explore.plane = { ...plane, x, y, index, row: null };
    window.__explore.densityPoints = index.length;
    window.__explore.densityDrawn = performance.now(); // the benchmark's zoom timing
    document.dispatchEvent(new CustomEvent("explore:plane"));
  },
};

function viewBox() {
  const fl = document.getElementById("plot-area")._fullLayout;
  return [...fl.xaxis.range, ...fl.yaxis.range];
}

function viewMoved(last) { return !last || viewBox().some((v, i) => v !== last[i]); }

document.addEventListener("explore:plane", () => {
  const plot = document.getElementById("plot-area");
  if (!plot.data || plot.data[plot.data.length - 1].type !== "heatmap") return;
  if (!window.__explore.densityBox) window.__explore.densityBox = viewBox(); // the whole plane, drawn
  if (densityView.wired) return;
  densityView.wired = true;
  // Axis ranges changed: a zoom, a pan, the home button, or a resize under equal scales.
  plot.on("plotly_relayout", () => { if (viewMoved(window.__explore.densityBox)) densityView.update(); });
});
