(() => {
// the Laplace prior's path: slide its scale b and the MAP (solid dots) and the posterior mean (open) move
const D = JSON.parse(document.getElementById("prior-data").textContent);
const $ = id => document.getElementById(id), L = D.laplace, X = L.scales.map(Math.log10);
const all = [...L.map.flat(), ...L.mean.flat(), ...D.mle], lo = Math.min(...all), hi = Math.max(...all);
const pad = (hi - lo) * 0.06, k = D.mle.length;
const p = plot($("prior-plot"), {l: 70, r: 14, t: 12, b: 44}, X[0], X[X.length - 1], lo - pad, hi + pad,
               "log\u2081\u2080 of the Laplace scale b  (\u2192 flatter prior)", "coefficient");
line(p, [X[0], X[X.length - 1]], [0, 0], {stroke: "#888", "stroke-width": 1});
const C = D.colours, col = j => C[j % C.length];
for (let j = 0; j < k; j++) {
  line(p, X, L.map.map(r => r[j]), {stroke: col(j), "stroke-width": 2.2, class: "map-path"});
  line(p, X, L.mean.map(r => r[j]), {stroke: col(j), "stroke-width": 1.5, "stroke-dasharray": "6 3"});
}
const marker = vline(p, X[0], {stroke: "#555", "stroke-width": 2, class: "marker"});
const modes = [], means = [];
for (let j = 0; j < k; j++) {
  means.push(el("circle", {r: 5, fill: "#fff", stroke: col(j), "stroke-width": 2, class: "mean"}, p.g));
  modes.push(el("circle", {r: 6, fill: col(j), class: "mode"}, p.g));
}
function show() {
  const i = +$("scale").value, b = L.scales[i], x = p.sx(X[i]);
  marker.setAttribute("x1", x); marker.setAttribute("x2", x);
  for (let j = 0; j < k; j++) {
    modes[j].setAttribute("cx", x); modes[j].setAttribute("cy", p.sy(L.map[i][j]));
    means[j].setAttribute("cx", x); means[j].setAttribute("cy", p.sy(L.mean[i][j]));
  }
  const zero = L.map[i].filter(v => Math.abs(v) < L.zero_atol).length;
  $("b").textContent = String(+b.toPrecision(3)) + (b === L.scale ? " (the catalog's)" : "");
  $("map").textContent = L.map[i].map(v => minus(v.toFixed(3))).join(", ");
  $("mean").textContent = L.mean[i].map(v => minus(v.toFixed(3))).join(", ");
  $("zeros").textContent = `${zero} of ${k}`;
}
$("scale").addEventListener("input", show);
show();
})();
