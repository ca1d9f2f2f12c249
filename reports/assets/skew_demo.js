
(() => {
const D = JSON.parse(document.getElementById("skew-data").textContent);
const $ = id => document.getElementById(id);
const f = (v, d) => minus(v.toFixed(d === undefined ? 3 : d));
const COL = {mode: "#D55E00", median: "#009E73", mean: "#0072B2"};
let fam = "lognormal";
// the densities' closed forms (normalising constants from the table)
const pdf = {
  lognormal: (x, s, c) => x > 0 ? Math.exp(-(Math.log(x) ** 2) / (2 * s * s) - Math.log(x) - c) : 0,
  gamma: (x, k, c) => x > 0 ? Math.exp((k - 1) * Math.log(x) - x - c) : (k === 1 ? 1 : 0),
};
function draw() {
  const F = D.families[fam], i = +$("param").value, v = F.values[i];
  const hi = F.hi[i], lo = fam === "gamma" ? Math.max(0, F.mode[i] - 3.2 * F.sd[i]) : 0;
  const xs = Array.from({length: 300}, (_, j) => lo + (hi - lo) * j / 299);
  const ys = xs.map(x => pdf[fam](x, v, F.log_norm[i]));
  const p = plot($("pdf-plot"), {l: 70, r: 14, t: 10, b: 44}, lo, hi, 0, Math.max(...ys) * 1.12, "x", "density");
  line(p, xs, ys, {stroke: "#000", "stroke-width": 2.4, class: "density"});
  for (const k of ["mode", "median", "mean"]) vline(p, F[k][i], {stroke: COL[k], "stroke-width": 3, class: k});
  el("line", {x1: p.sx(F.mean[i] - F.sd[i]), x2: p.sx(F.mean[i]), y1: p.m.t + 8, y2: p.m.t + 8, stroke: "#777",
              "stroke-width": 2}, p.g);
  // skewness vs gap_sd: both families, the catalog, this member
  const C = D.catalog, xmax = Math.max(6, ...C.map(c => c.skewness)) * 1.05;
  const xmin = Math.min(-0.5, ...C.map(c => c.skewness)) * 1.05;
  const ymax = Math.max(2.2, ...C.map(c => c.gap_sd)) * 1.05, ymin = Math.min(-0.3, ...C.map(c => c.gap_sd)) * 1.05;
  const q = plot($("map-plot"), {l: 70, r: 14, t: 10, b: 44}, xmin, xmax, ymin, ymax, "skewness",
                 "gap_sd = (mean \u2212 mode) / sd");
  for (const [name, colour] of [["lognormal", "#CC79A7"], ["gamma", "#E69F00"]])
    line(q, D.families[name].skewness, D.families[name].gap_sd, {stroke: colour, "stroke-width": 2.4, class: "family"});
  for (const c of C) {
    const m = el("circle", {cx: q.sx(c.skewness), cy: q.sy(c.gap_sd), r: 5, fill: "#555", "fill-opacity": 0.6,
                            class: "catalog"}, q.g);
    el("title", {}, m).textContent = `${c.model}: ${c.parameter} ` +
      `(skewness ${f(c.skewness, 2)}, gap_sd ${f(c.gap_sd, 2)})`;
  }
  dot(q, F.skewness[i], F.gap_sd[i], "#000", 7).setAttribute("class", "member");
  $("value").textContent = `${F.param} = ${f(v, 3)}`;
  for (const k of ["mode", "median", "mean", "sd", "skewness", "gap_sd"]) $(k).textContent = f(F[k][i]);
  $("mm").textContent = f((F.median[i] - F.mode[i]) / F.sd[i]);
  $("md").textContent = f((F.mean[i] - F.median[i]) / F.sd[i]);
}
$("param").addEventListener("input", draw);
for (const r of document.querySelectorAll("input[name=family]"))
  r.addEventListener("change", e => { fam = e.target.value; $("param").value = "0"; draw(); });
draw();
})();
