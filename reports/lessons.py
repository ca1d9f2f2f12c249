"""The seed's deeper lessons as teaching pages (``DIR/teaching/*.html``), drawn as inline SVG by inline scripts.

* ``em_bound.html`` -- EM as coordinate ascent on a lower bound, from ``DIR/teaching/em_bound.json``
  (:func:`comparisons.teach.em_bound_data`).

Like :mod:`reports.teaching`, each page is self-contained (works from ``file://``, no network
resource) and only draws numbers computed by the engine.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from .teaching import _embed, _nav, _write

__all__ = ["render_em_bound", "SVG_JS"]

# A small SVG plotting helper shared by the lesson pages: axes with ticks, polylines, dots, vertical lines.
SVG_JS = r"""
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v); if (parent) parent.appendChild(e); return e; }
function niceTicks(lo, hi, n) {
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
  const s = [1, 2, 5, 10].map(k => k * step).find(k => (hi - lo) / k <= n);
  const out = []; for (let t = Math.ceil(lo / s) * s; t <= hi + 1e-9 * s; t += s) out.push(+t.toFixed(10));
  return out;
}
const minus = s => String(s).replace(/-/g, "\u2212");
// a plot in svg: returns {sx, sy, g} where g is the clipped group for curves
function plot(svg, box, xlo, xhi, ylo, yhi, xlabel, ylabel) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = +svg.getAttribute("width"), H = +svg.getAttribute("height"), m = box;
  const sx = v => m.l + (v - xlo) / (xhi - xlo) * (W - m.l - m.r);
  const sy = v => H - m.b - (v - ylo) / (yhi - ylo) * (H - m.t - m.b);
  const id = "clip-" + svg.id;
  const clip = el("clipPath", {id}, el("defs", {}, svg));
  el("rect", {x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b}, clip);
  const axis = el("g", {stroke: "#444", "font-size": 13, fill: "#333"}, svg);
  el("path", {d: `M${m.l},${m.t}V${H - m.b}H${W - m.r}`, fill: "none"}, axis);
  for (const t of niceTicks(xlo, xhi, 10)) {
    el("line", {x1: sx(t), x2: sx(t), y1: H - m.b, y2: H - m.b + 4}, axis);
    el("text", {x: sx(t), y: H - m.b + 18, "text-anchor": "middle", stroke: "none"}, axis).textContent = minus(t);
  }
  for (const t of niceTicks(ylo, yhi, 7)) {
    el("line", {x1: m.l - 4, x2: m.l, y1: sy(t), y2: sy(t)}, axis);
    el("text", {x: m.l - 7, y: sy(t) + 4, "text-anchor": "end", stroke: "none"}, axis).textContent = minus(t);
  }
  el("text", {x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle", stroke: "none"}, axis).textContent = xlabel;
  const yl = el("text", {x: 0, y: 0, "text-anchor": "middle", stroke: "none",
                         transform: `translate(14,${(m.t + H - m.b) / 2}) rotate(-90)`}, axis);
  yl.textContent = ylabel;
  const g = el("g", {"clip-path": `url(#${id})`}, svg);
  return {sx, sy, g, W, H, m};
}
function line(p, xs, ys, attrs) {
  const d = xs.map((x, i) => `${i ? "L" : "M"}${p.sx(x).toFixed(2)},${p.sy(ys[i]).toFixed(2)}`).join("");
  return el("path", {d, fill: "none", ...attrs}, p.g);
}
function vline(p, x, attrs) {
  return el("line", {x1: p.sx(x), x2: p.sx(x), y1: p.m.t, y2: p.H - p.m.b, ...attrs}, p.g);
}
function dot(p, x, y, colour, r) { return el("circle", {cx: p.sx(x), cy: p.sy(y), r: r || 5, fill: colour}, p.g); }
"""

BOUND_SCRIPT = r"""
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
"""


def _rounded(value, digits: int = 6):
    """``value`` with every float rounded to ``digits`` decimals (the page's size; the JSON file keeps them all)."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    return value


def render_em_bound(out: Path, data: dict) -> Path:
    """Write ``out/teaching/em_bound.html`` from :func:`comparisons.teach.em_bound_data`'s numbers."""
    steps = data["steps"]
    first = steps[0]
    radios = "".join(
        f'<label><input type="radio" name="slice" value="{key}"{" checked" if i == 0 else ""}> {escape(label)}'
        f"</label>" for i, (key, label) in enumerate(data["slices"]))
    rows = "".join(
        f"<tr><td>{t}</td><td>{s['loglik']:.3f}</td><td>{s['loglik_new']:.3f}</td>"
        f"<td>{s['bound_new'] - s['bound_at_theta']:.4f}</td><td>{s['kl_new']:.4f}</td></tr>"
        for t, s in enumerate(steps))
    legend = "".join(f'<span><i class="swatch" style="background:{c}"></i>{t}</span>' for c, t in (
        ("#000", "log likelihood ℓ(θ)"), ("#0072B2", "lower bound L(q_t, θ) = Q(θ | θ_t) + H(q_t)"),
        ("#D55E00", "the gap ℓ − L = KL(q_t ‖ p(z | x, θ))"), ("#009E73", "θ_t+1, where the M-step goes")))
    body = f"""
{_nav('<a href="em_demo.html">EM step by step</a><a href="../two_gaussians/index.html">the two_gaussians report</a>')}
<h1>EM climbs a lower bound</h1>
<p class="lead">Why can EM's log likelihood never go down? Because each iteration maximises a <b>lower bound</b>
that touches the log likelihood where it stands. For any guess q of the labels,
ℓ(θ) = log p(x | θ) = L(q, θ) + KL(q ‖ p(z | x, θ)), with
L(q, θ) = Σ<sub>i,k</sub> q<sub>ik</sub> log p(z<sub>i</sub> = k, x<sub>i</sub> | θ) + H(q)
= Q(θ | θ<sub>t</sub>) + H(q)
and the KL divergence never negative: L is a bound below ℓ. The <b>E-step</b> sets q<sub>t</sub> to the labels'
posterior at θ<sub>t</sub>, which makes the KL zero there: the bound <i>touches</i> ℓ at θ<sub>t</sub>. The
<b>M-step</b> moves θ to the bound's maximum. There ℓ is at least the bound, which is at least its value at
θ<sub>t</sub>, which is ℓ(θ<sub>t</sub>): the climb is guaranteed, and the KL gap that opens at the new θ is
extra gain. Coordinate ascent: the E-step maximises L over q, the M-step over θ.</p>
<p>The parameters of <code>two_gaussians</code> are five numbers, so the picture is a slice: one coordinate
moves, the others stay at the EM iterate θ<sub>t</sub> (or, last choice, the straight line from θ<sub>t</sub>
through θ<sub>t+1</sub>). Along a mean or the weight the bound's maximum is exactly the M-step's value of that
coordinate (the closed-form M-step updates each one from its own weighted moments); along the line it is
θ<sub>t+1</sub> itself (s = 1).</p>
<div class="controls"><b>Slice:</b> {radios}</div>
<div class="controls"><button id="back">◀ Back</button><button id="next">Step ▶</button>
<label for="slider">iteration</label><input type="range" id="slider" min="0" max="{len(steps) - 1}" value="0"
step="1" style="width:18rem"> t = <b id="t"></b></div>
<dl class="readout"><dt>θ<sub>t</sub></dt><dd id="theta"></dd><dt>ℓ(θ<sub>t</sub>)</dt><dd id="loglik"></dd>
<dt>L(q<sub>t</sub>, θ<sub>t</sub>)</dt><dd id="bound-at"></dd><dt>H(q<sub>t</sub>)</dt><dd id="entropy"></dd>
<dt>ℓ(θ<sub><span id="t1"></span></sub>)</dt><dd id="loglik-new"></dd><dt>L(q<sub>t</sub>, θ<sub>t+1</sub>)</dt>
<dd id="bound-new"></dd><dt>KL gap at θ<sub>t+1</sub></dt><dd id="kl-new"></dd><dt>gain in ℓ</dt><dd id="gain"></dd>
<dt>slice: θ<sub>t</sub>'s value</dt><dd id="slice-at"></dd><dt>bound's argmax</dt><dd id="slice-argmax"></dd>
<dt>M-step's value</dt><dd id="slice-new"></dd></dl>
<svg id="bound-plot" width="960" height="380" role="img"
aria-label="log likelihood and the EM lower bound along a slice"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{legend}</p>
<svg id="kl-plot" width="960" height="170" role="img" aria-label="the KL gap along the slice"
style="max-width:100%;height:auto;display:block"></svg>
<p>Black dot: ℓ(θ<sub>t</sub>), where the bound touches (gap 0). Blue dot: the bound's maximum along the slice;
green dot and dashed line: ℓ there, above the bound by the KL gap. The shaded band is that gap everywhere on
the slice; the lower panel draws it alone.</p>
<h2>The climb, step by step</h2>
<p>At step 0 the seed's start is far from the peak: the M-step's move gains
{first['loglik_new'] - first['loglik']:.1f} in log likelihood, of which the bound's rise is
{first['bound_new'] - first['bound_at_theta']:.1f} and the KL gap at the new θ {first['kl_new']:.3f}. As EM
converges both shrink.</p>
<table><thead><tr><th>t</th><th>ℓ(θ<sub>t</sub>)</th><th>ℓ(θ<sub>t+1</sub>)</th><th>bound's rise
L(q<sub>t</sub>, θ<sub>t+1</sub>) − L(q<sub>t</sub>, θ<sub>t</sub>)</th><th>KL gap at θ<sub>t+1</sub></th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>How these numbers were computed</h2>
<p>By <code>modemean teach</code> with modemean's discrete-latent EM engine on the PyMC model of
<code>two_gaussians</code> ({data['n_points']} points; maximum likelihood, no prior; the seed's start): the
E-step's responsibilities q<sub>t</sub> and the complete-data log joint log p(z<sub>i</sub> = k, x<sub>i</sub> | θ)
at every slice point both come from the model's own graph
(<code>DiscreteLatentEM.e_step</code>, <code>log_joint</code>); θ<sub>t+1</sub> is the model's closed-form M-step,
and the bound's maximum along each slice is found by a bounded scalar search. The page only draws them.</p>
{_embed("bound-data", _rounded({k: data[k] for k in ("slices", "steps")}))}
<script>{SVG_JS}{BOUND_SCRIPT}</script>
"""
    return _write(out, "em_bound.html", "EM climbs a lower bound", body)
