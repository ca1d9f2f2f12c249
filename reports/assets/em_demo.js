
(() => {
const D = JSON.parse(document.getElementById("em-data").textContent);
const unit = D.curve_unit, X = D.x;
const $ = id => document.getElementById(id);
const fmt = v => v.toFixed(2).replace("-", "\u2212");
const COLOURS = ["#0072B2", "#D55E00"];
// phase "M": the curves of iteration it (after its M-step); "E": the same curves, the points labelled by them
let r = 0, it = 0, phase = "M", timer = null, top = 0;
// one vertical scale for every iteration of a run, so the curves' motion is what you see
function scale() {
  top = Math.max(...D.hist.density);
  for (const c of D.restarts[r].curves) for (let i = 0; i < X.length; i++) top = Math.max(top, (c[0][i] + c[1][i]) * unit);
  top *= 1.08;
}

function setup(canvas) {
  const ratio = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = w * ratio; canvas.height = h * ratio;
  const ctx = canvas.getContext("2d"); ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h); ctx.font = "13px system-ui, sans-serif";
  return [ctx, w, h];
}
function axes(ctx, m, w, h, xlo, xhi, ylo, yhi, xticks, yticks, xlabel, ylabel, yfmt) {
  ctx.strokeStyle = "#444"; ctx.fillStyle = "#333"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, h - m.b); ctx.lineTo(w - m.r, h - m.b); ctx.stroke();
  const sx = v => m.l + (v - xlo) / (xhi - xlo) * (w - m.l - m.r);
  const sy = v => h - m.b - (v - ylo) / (yhi - ylo) * (h - m.t - m.b);
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const t of xticks) { ctx.beginPath(); ctx.moveTo(sx(t), h - m.b); ctx.lineTo(sx(t), h - m.b + 4); ctx.stroke();
    ctx.fillText(String(t).replace("-", "\u2212"), sx(t), h - m.b + 6); }
  ctx.fillText(xlabel, (m.l + w - m.r) / 2, h - m.b + 22);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of yticks) { ctx.beginPath(); ctx.moveTo(m.l - 4, sy(t)); ctx.lineTo(m.l, sy(t)); ctx.stroke();
    ctx.fillText(yfmt(t), m.l - 6, sy(t)); }
  ctx.save(); ctx.translate(14, (m.t + h - m.b) / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
  ctx.fillText(ylabel, 0, 0); ctx.restore();
  return [sx, sy];
}
function ticks(lo, hi, n) {
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  const s = [1, 2, 5, 10].map(k => k * step).find(k => (hi - lo) / k <= n);
  const out = []; for (let t = Math.ceil(lo / s) * s; t <= hi + 1e-9; t += s) out.push(+t.toFixed(10));
  return out;
}
// responsibility of component 1 for a point at x under iteration k's parameters: the E-step's soft label
function resp(k, x) {
  const rs = D.restarts[r], d = [0, 1].map(j => rs.w[k][j] / rs.sigma[k][j] *
    Math.exp(-0.5 * ((x - rs.mu[k][j]) / rs.sigma[k][j]) ** 2));
  return d[0] / (d[0] + d[1]);
}
// the histogram coloured by the labels of the last E-step (grey before the first), the curves at iteration it
function drawDensity() {
  const svg = $("density"), xlo = X[0], xhi = X[X.length - 1];
  const p = plot(svg, {l: 60, r: 12, t: 12, b: 44}, xlo, xhi, 0, top, "x", "density");
  const e = D.hist.edges, labels = phase === "E" ? it : it - 1;
  for (let i = 0; i < D.hist.density.length; i++) {
    const x0 = p.sx(e[i]), x1 = p.sx(e[i + 1]), h = D.hist.density[i];
    const q = labels < 0 ? null : resp(labels, (e[i] + e[i + 1]) / 2);
    const parts = q === null ? [[h, "#d9d9d9", 0]] : [[h * q, "#8fbfe0", 1], [h * (1 - q), "#f0b08a", 2]];
    let base = 0;
    for (const [height, fill, k] of parts) {
      el("rect", {x: x0, y: p.sy(base + height), width: Math.max(x1 - x0, 0), height: p.sy(base) - p.sy(base + height),
                  fill, stroke: "#fff", class: `bar bar-${k}`, "data-q": q === null ? "" : q.toFixed(4)}, p.g);
      base += height;
    }
  }
  const c = D.restarts[r].curves[it];
  line(p, X, c[0].map(v => v * unit), {stroke: COLOURS[0], "stroke-width": 2.2, "stroke-dasharray": "7 3",
                                      class: "curve"});
  line(p, X, c[1].map(v => v * unit), {stroke: COLOURS[1], "stroke-width": 2.2, "stroke-dasharray": "7 3",
                                      class: "curve"});
  line(p, X, c[0].map((v, i) => (v + c[1][i]) * unit), {stroke: "#000", "stroke-width": 2.6, class: "curve"});
}
function drawTrace() {
  const [ctx, w, h] = setup($("trace"));
  const tr = D.restarts[r].trace, n = tr.length - 1;
  // the first step gains far more than all later ones: the axis starts after it, so the slow climb shows;
  // the start, below the axis, is drawn at the bottom edge with its value
  const hi = Math.max(...tr), lo = Math.min(...tr.slice(Math.min(1, n))), pad = (hi - lo) * 0.08 || 1;
  // a start below the axis gets a label in a free band at the bottom right, which the curve never enters
  const below = tr[0] < lo - pad, m = {l: 70, r: 12, t: 10, b: 42}, ylo = lo - (below ? 3 : 1) * pad;
  const [sx, sy0] = axes(ctx, m, w, h, 0, Math.max(n, 1), ylo, hi + pad, ticks(0, Math.max(n, 1), 10),
                         ticks(ylo, hi + pad, 4), "iteration", "log-likelihood", t => fmt(t).replace(/\.00$/, ""));
  const sy = v => sy0(Math.max(v, ylo));
  delete $("trace").dataset.label;
  if (tr[0] < ylo) {
    const text = `\u2193 start: ${fmt(tr[0])} (below the axis)`, x = w - m.r - 8, y = sy(ylo) - 3;
    ctx.textAlign = "right"; ctx.textBaseline = "bottom"; ctx.fillStyle = "#555"; ctx.fillText(text, x, y);
    const width = ctx.measureText(text).width;
    $("trace").dataset.label = JSON.stringify([x - width, y - 15, width, 15]);  // its box, in CSS pixels
  }
  ctx.strokeStyle = "#999"; ctx.setLineDash([2, 3]); ctx.beginPath();
  ctx.moveTo(sx(0), sy(hi)); ctx.lineTo(sx(Math.max(n, 1)), sy(hi)); ctx.stroke(); ctx.setLineDash([]);
  ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath();
  for (let i = 0; i <= it; i++) i ? ctx.lineTo(sx(i), sy(tr[i])) : ctx.moveTo(sx(i), sy(tr[i]));
  ctx.stroke();
  ctx.fillStyle = "#D55E00"; ctx.beginPath(); ctx.arc(sx(it), sy(tr[it]), 4, 0, 2 * Math.PI); ctx.fill();
}
function show() {
  const rs = D.restarts[r], n = rs.trace.length - 1;
  $("iteration").textContent = String(it);
  $("loglik").textContent = fmt(rs.trace[it]);
  $("means").textContent = rs.mu[it].map(fmt).join(", ");
  $("weights").textContent = rs.w[it].map(fmt).join(", ");
  $("sds").textContent = rs.sigma[it].map(fmt).join(", ");
  $("phase").textContent = phase === "E"
    ? "E-step done: each bar coloured by its points' soft labels under these curves (blue: curve 1, orange: curve 2)"
    : (it ? "M-step done: the curves re-fitted to the coloured points" : "the start: no labels yet (press E)");
  $("status").textContent = it < n ? `${n - it} more iteration(s) to the end of this run` :
    (rs.error ? `stopped: ${rs.error}` : (rs.converged ? `converged after ${n} iterations: the parameters stopped moving`
                                                      : `stopped after ${n} iterations without converging`));
  $("step").disabled = it >= n; $("e").disabled = phase === "E"; $("m").disabled = phase === "M" || it >= n;
  $("back").disabled = it === 0 && phase === "M";
  drawDensity(); drawTrace();
}
function stop() { if (timer) { clearInterval(timer); timer = null; } $("run").textContent = "Run"; }
function step() { if (it < D.restarts[r].trace.length - 1) { it++; phase = "M"; show(); } else stop(); }
$("step").addEventListener("click", () => { stop(); step(); });
$("e").addEventListener("click", () => { stop(); phase = "E"; show(); });
$("m").addEventListener("click", () => { stop(); if (phase === "E") { it++; phase = "M"; show(); } });
$("back").addEventListener("click", () => {
  stop();
  if (phase === "E") phase = "M"; else if (it > 0) { it--; phase = "E"; }
  show();
});
$("run").addEventListener("click", () => {
  if (timer) { stop(); return; }
  if (it >= D.restarts[r].trace.length - 1) { it = 0; phase = "M"; }
  $("run").textContent = "Pause"; timer = setInterval(step, 40);
});
$("reset").addEventListener("click", () => { stop(); it = 0; phase = "M"; show(); });
$("start").addEventListener("change", e => { stop(); r = +e.target.value; it = 0; phase = "M"; scale(); show(); });
window.addEventListener("resize", show);
scale(); show();
})();
