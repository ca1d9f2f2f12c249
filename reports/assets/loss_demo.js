(() => {
const D = JSON.parse(document.getElementById("loss-data").textContent);
const slider = document.getElementById("candidate"), G = D.grid, lo = G[0], hi = G[G.length - 1];
const BOX = {l: 84, r: 14, t: 10, b: 40};
// the density with each loss's best estimate, then one panel per loss; the candidate's marker is redrawn on each
const top = Math.max(...D.density.pdf) * 1.08;
const density = plot(document.getElementById("loss-density"), BOX, lo, hi, 0, top, "", "density");
line(density, D.density.x, D.density.pdf, {stroke: "#4D4D4D", "stroke-width": 2.2, class: "density"});
for (const l of D.losses) vline(density, l.minimiser, {stroke: l.colour, "stroke-width": 3, "stroke-dasharray": "6 3"});
const panels = D.losses.map(l => {
  const ys = D[l.key], ymax = Math.max(...ys), ymin = Math.min(...ys), pad = (ymax - ymin) * 0.08 || 1;
  const p = plot(document.getElementById("plot-" + l.key), BOX, lo, hi, Math.max(0, ymin - pad), ymax + pad,
                 l.key === "squared" ? "candidate estimate a" : "", "expected loss");
  line(p, G, ys, {stroke: l.colour, "stroke-width": 2.2, class: "loss"});
  vline(p, l.minimiser, {stroke: l.colour, "stroke-width": 2, "stroke-dasharray": "6 3"});
  let best = 0; for (let i = 1; i < G.length; i++) if (Math.abs(G[i] - l.minimiser) < Math.abs(G[best] - l.minimiser)) best = i;
  dot(p, l.minimiser, ys[best], l.colour, 6);
  el("text", {x: p.W - BOX.r - 8, y: BOX.t + 14, "font-size": 13, fill: "#333", "text-anchor": "end"}, p.g)
    .textContent = l.label;
  return {p, ys, line: vline(p, lo, {stroke: "#888", "stroke-width": 2, class: "marker"}),
          dot: dot(p, lo, ys[0], "#888", 6)};
});
const marker = vline(density, lo, {stroke: "#888", "stroke-width": 2, class: "marker"});
function show() {
  const i = +slider.value, a = G[i];
  document.getElementById("a").textContent = a.toFixed(2);
  for (const l of D.losses) document.getElementById("loss-" + l.key).textContent = D[l.key][i].toFixed(3);
  for (const {p, ys, line: ln, dot: d} of [...panels, {p: density, ys: null, line: marker, dot: null}]) {
    ln.setAttribute("x1", p.sx(a)); ln.setAttribute("x2", p.sx(a));
    if (d) { d.setAttribute("cx", p.sx(a)); d.setAttribute("cy", p.sy(ys[i])); d.classList.add("marker"); }
  }
}
slider.addEventListener("input", show);
show();
})();
