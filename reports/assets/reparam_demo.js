
(() => {
const D = JSON.parse(document.getElementById("reparam-data").textContent);
const $ = id => document.getElementById(id);
const f = (v, d) => minus(v.toFixed(d === undefined ? 3 : d));
const E = D.eta, pe = D.log_p_eta.map(Math.exp), T = D.tau, pt = D.p_tau;
const RED = "#D55E00", GREEN = "#009E73", BLUE = "#0072B2", GREY = "#777";
let show = {mode: true, quantiles: true};
function marks(p, y, xs, colour, dash, width) {
  for (const x of xs) vline(p, x, {stroke: colour, "stroke-dasharray": dash, "stroke-width": width || 2});
}
function draw() {
  const k = +$("level").value, qt = D.percentiles.tau[k - 1], qe = D.percentiles.eta[k - 1];
  const tmax = D.q_tau[D.q_tau.length - 1] * 1.6;
  // tau: p_tau on the tau axis
  const ptop = Math.max(...pt.filter((v, i) => T[i] <= tmax)) * 1.08;
  let a = plot($("tau-plot"), {l: 70, r: 14, t: 10, b: 44}, 0, tmax, 0, ptop,
               "τ", "density of τ");
  line(a, T, pt, {stroke: "#000", "stroke-width": 2.4, class: "density"});
  if (show.quantiles) marks(a, 0, D.q_tau, GREEN, "3 3", 1.4);
  marks(a, 0, [D.median_tau], GREEN, "", 2.4);
  if (show.mode) { marks(a, 0, [D.mode_tau], RED, "", 2.6); marks(a, 0, [Math.exp(D.mode_eta)], RED, "7 4", 2); }
  vline(a, qt, {stroke: BLUE, "stroke-width": 2, class: "level"});
  // eta = log tau: p_eta on the eta axis
  let b = plot($("eta-plot"), {l: 70, r: 14, t: 10, b: 44}, E[0], E[E.length - 1], 0, Math.max(...pe) * 1.08,
               "log τ", "density of log τ");
  line(b, E, pe, {stroke: "#000", "stroke-width": 2.4, class: "density"});
  if (show.quantiles) marks(b, 0, D.q_eta, GREEN, "3 3", 1.4);
  marks(b, 0, [D.median_eta], GREEN, "", 2.4);
  if (show.mode) { marks(b, 0, [D.mode_eta], RED, "", 2.6); marks(b, 0, [Math.log(D.mode_tau)], RED, "7 4", 2); }
  vline(b, qe, {stroke: BLUE, "stroke-width": 2, class: "level"});
  // log densities on the eta axis: without the Jacobian, the Jacobian term, with it
  const top = Math.max(...D.log_p_eta, ...D.log_p_tau), lo = top - 7;
  let c = plot($("jac-plot"), {l: 70, r: 14, t: 10, b: 44}, E[0], E[E.length - 1], lo, top + 0.6, "log τ",
               "log density");
  line(c, E, D.log_p_tau.map(v => Math.max(v, lo - 1)), {stroke: "#000", "stroke-width": 2, "stroke-dasharray": "6 4"});
  line(c, E, E.map(e => e + lo + 3), {stroke: "#E69F00", "stroke-width": 2.4, class: "jacobian"});
  line(c, E, D.log_p_eta, {stroke: "#000", "stroke-width": 2.6});
  marks(c, 0, [Math.log(D.mode_tau)], RED, "7 4", 2); marks(c, 0, [D.mode_eta], RED, "", 2.6);
  $("p").textContent = `${k}%`;
  $("q-tau").textContent = f(qt, 4); $("q-eta").textContent = f(qe, 4);
  $("exp-q-eta").textContent = f(Math.exp(qe), 4);
}
$("level").addEventListener("input", draw);
$("modes").addEventListener("change", e => { show.mode = e.target.checked; draw(); });
$("quantiles").addEventListener("change", e => { show.quantiles = e.target.checked; draw(); });
draw();
})();
