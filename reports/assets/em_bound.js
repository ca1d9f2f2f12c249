
(() => {
const D = JSON.parse(document.getElementById("bound-data").textContent);
const $ = id => document.getElementById(id);
const f = (v, d) => minus(v.toFixed(d === undefined ? 3 : d));
let t = 0, key = D.slices[0][0];
function draw() {
  const s = D.steps[t], c = s.slice[key], label = D.slices.find(k => k[0] === key)[1];
  const xs = c.x, hi = Math.max(...c.loglik, ...c.bound), lo = Math.min(...c.loglik);
  const pad = (hi - lo) * 0.06 || 1;
  const p = plot($("bound-plot"), {l: 78, r: 14, t: 12, b: 44}, xs[0], xs[xs.length - 1], lo - pad, hi + pad,
                 label, "log likelihood and bound");
  el("path", {d: xs.map((x, i) => `${i ? "L" : "M"}${p.sx(x)},${p.sy(c.loglik[i])}`).join("") +
    xs.slice().reverse().map((x, j) => `L${p.sx(x)},${p.sy(c.bound[xs.length - 1 - j])}`).join("") + "Z",
    fill: "#D55E00", "fill-opacity": 0.12, stroke: "none"}, p.g);
  line(p, xs, c.loglik, {stroke: "#000", "stroke-width": 2.6, class: "loglik"});
  line(p, xs, c.bound, {stroke: "#0072B2", "stroke-width": 2.4, class: "bound"});
  vline(p, c.at, {stroke: "#555", "stroke-dasharray": "2 3"});
  vline(p, c.new, {stroke: "#009E73", "stroke-width": 2, "stroke-dasharray": "7 4"});
  const at = xs.indexOf(c.at), best = xs.indexOf(c.argmax);
  dot(p, c.at, c.loglik[at], "#000", 6);
  dot(p, c.argmax, c.bound[best], "#0072B2", 6);
  dot(p, c.argmax, c.loglik[best], "#009E73", 5);
  // the KL gap along the slice
  const kmax = Math.max(...c.kl) || 1;
  const q = plot($("kl-plot"), {l: 78, r: 14, t: 10, b: 44}, xs[0], xs[xs.length - 1], 0, kmax * 1.08, label,
                 "KL gap");
  line(q, xs, c.kl, {stroke: "#D55E00", "stroke-width": 2.4, class: "kl"});
  vline(q, c.at, {stroke: "#555", "stroke-dasharray": "2 3"});
  vline(q, c.new, {stroke: "#009E73", "stroke-width": 2, "stroke-dasharray": "7 4"});
  dot(q, c.argmax, c.kl[best], "#D55E00", 5);
  $("t").textContent = String(t); $("t1").textContent = String(t + 1);
  $("slider").value = String(t);
  $("loglik").textContent = f(s.loglik);
  $("bound-at").textContent = f(s.bound_at_theta);
  $("entropy").textContent = f(s.entropy);
  $("loglik-new").textContent = f(s.loglik_new);
  $("bound-new").textContent = f(s.bound_new);
  $("kl-new").textContent = f(s.kl_new, 4);
  $("gain").textContent = `${f(s.loglik_new - s.loglik)} = ${f(s.bound_new - s.bound_at_theta)} (bound) + ` +
    `${f(s.kl_new, 4)} (KL gap)`;
  $("slice-at").textContent = f(c.at, 4);
  $("slice-argmax").textContent = f(c.argmax, 6);
  $("slice-new").textContent = f(c.new, 6);
  $("theta").textContent = `w ${s.theta.w.map(v => f(v)).join(", ")}; ` +
    `\u03bc ${s.theta.mu.map(v => f(v)).join(", ")}; ` +
    `\u03c3 ${s.theta.sigma.map(v => f(v)).join(", ")}`;
  $("back").disabled = t === 0; $("next").disabled = t === D.steps.length - 1;
}
$("next").addEventListener("click", () => { if (t < D.steps.length - 1) { t++; draw(); } });
$("back").addEventListener("click", () => { if (t > 0) { t--; draw(); } });
$("slider").addEventListener("input", e => { t = +e.target.value; draw(); });
for (const r of document.querySelectorAll("input[name=slice]"))
  r.addEventListener("change", e => { key = e.target.value; draw(); });
draw();
})();
