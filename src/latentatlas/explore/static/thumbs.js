// latentatlas explore: thumbnails instead of dots. With the option on, the reconstructions of up
// to meta.limits.thumbnails real points spread over the view box are drawn at their points (the
// server picks and decodes them, priced like any decoding), again after each zoom or pan.
"use strict";

const thumbs = { on: false, items: [], ticket: 0, wired: false };
window.__thumbs = { shown: 0 };

function thumbsLayer() {
  let svg = document.getElementById("thumbs-layer");
  if (!svg) {
    svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.id = "thumbs-layer";
    Object.assign(svg.style, { position: "absolute", pointerEvents: "none" });
    document.getElementById("plot").append(svg);
  }
  return svg;
}

function drawThumbs() {
  const fl = document.getElementById("plot-area")._fullLayout;
  if (!fl || !fl.xaxis || !fl.xaxis.c2p) return;
  const xa = fl.xaxis, ya = fl.yaxis, svg = thumbsLayer(), size = 40;
  Object.assign(svg.style, { left: `${xa._offset}px`, top: `${ya._offset}px` });
  svg.setAttribute("width", xa._length);
  svg.setAttribute("height", ya._length);
  svg.textContent = "";
  for (const t of thumbs.on ? thumbs.items : []) {
    const img = document.createElementNS("http://www.w3.org/2000/svg", "image");
    img.setAttribute("href", t.src);
    img.setAttribute("x", xa.c2p(t.x) - size / 2);
    img.setAttribute("y", ya.c2p(t.y) - size / 2);
    img.setAttribute("width", size);
    img.setAttribute("height", size);
    img.dataset.index = t.index;
    svg.append(img);
  }
  window.__thumbs.shown = thumbs.on ? thumbs.items.length : 0;
}

async function loadThumbs() {
  const plot = document.getElementById("plot-area"), fl = plot._fullLayout, plane = window.__explore.plane;
  if (!thumbs.on || !fl || !fl.xaxis || !plane) { drawThumbs(); return; }
  const ticket = ++thumbs.ticket;
  window.__thumbs.box = viewBox();
  await new Promise((done) => requestAnimationFrame(done)); // as density.js: the applied ranges
  const [x0, x1, y0, y1] = viewBox();
  window.__thumbs.box = [x0, x1, y0, y1];
  const r = await fetch(`/api/thumbnails?${plane.plane}&x0=${x0}&x1=${x1}&y0=${y0}&y1=${y1}`);
  const body = await r.json();
  if (ticket !== thumbs.ticket) return;
  if (!r.ok) { document.getElementById("status").textContent = body.error; return; }
  thumbs.items = body.indices.map((index, i) => ({ index, x: body.xy[i][0], y: body.xy[i][1], src: body.images[i] }));
  drawThumbs();
}

document.addEventListener("explore:plane", () => {
  const plot = document.getElementById("plot-area");
  if (!thumbs.wired) {
    thumbs.wired = true;
    const label = document.createElement("label");
    label.id = "thumbs-toggle";
    const box = Object.assign(document.createElement("input"), { type: "checkbox", id: "thumbs-on" });
    box.addEventListener("change", () => { thumbs.on = box.checked; thumbs.items = []; loadThumbs(); });
    label.append(box, " thumbnails instead of dots");
    document.getElementById("plot").append(label);
    for (const ev of ["plotly_relayouting", "plotly_afterplot"]) plot.on(ev, drawThumbs);
    plot.on("plotly_relayout", () => { if (viewMoved(window.__thumbs.box)) loadThumbs(); else drawThumbs(); });
  }
  if (thumbs.on) loadThumbs();
});
