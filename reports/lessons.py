"""The seed's deeper lessons as teaching pages (``DIR/teaching/*.html``), drawn as inline SVG by inline scripts.

* ``index.html`` -- the teaching pages in a suggested order, one paragraph each (:data:`ORDER`).
* ``em_bound.html`` -- EM as coordinate ascent on a lower bound, from ``DIR/teaching/em_bound.json``
  (:func:`comparisons.teach.em_bound_data`).
* ``reparam_demo.html`` -- the mode moves, the median does not: eight_schools' tau in tau and in
  log tau, from the saved NUTS draws (``DIR/eight_schools/results.nc``, written by ``modemean run``),
  numbers by :func:`reparam_numbers`.
* ``skew_demo.html`` -- how skew separates mode, median and mean: a slider over the log-normal
  (sigma) and Gamma (shape) families, the three estimators and gap_sd from :func:`skew_families`,
  and the catalog's parameters placed by their measured skewness and gap_sd (``DIR/*/results.json``).

Like :mod:`reports.teaching`, each page is self-contained (works from ``file://``, no network
resource) and only draws numbers computed by the engine.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
from scipy import special

from .figures import _kde
from .teaching import _embed, _nav, _write

__all__ = [
    "render_teaching_index",
    "ORDER",
    "render_em_bound",
    "render_reparam_demo",
    "reparam_numbers",
    "render_skew_demo",
    "skew_families",
    "catalog_skew",
    "SVG_JS",
    "LEVELS",
]

LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)  # the quantiles drawn on both axes
REPARAM_GRID = 301  # points of the log tau grid

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
        f'<label><input type="radio" name="slice" value="{key}"{" checked" if i == 0 else ""}> {escape(label)}</label>'
        for i, (key, label) in enumerate(data["slices"])
    )
    rows = "".join(
        f"<tr><td>{t}</td><td>{s['loglik']:.3f}</td><td>{s['loglik_new']:.3f}</td>"
        f"<td>{s['bound_new'] - s['bound_at_theta']:.4f}</td><td>{s['kl_new']:.4f}</td></tr>"
        for t, s in enumerate(steps)
    )
    legend = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{t}</span>'
        for c, t in (
            ("#000", "log likelihood ℓ(θ)"),
            ("#0072B2", "lower bound L(q_t, θ) = Q(θ | θ_t) + H(q_t)"),
            ("#D55E00", "the gap ℓ − L = KL(q_t ‖ p(z | x, θ))"),
            ("#009E73", "θ_t+1, where the M-step goes"),
        )
    )
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
{first["loglik_new"] - first["loglik"]:.1f} in log likelihood, of which the bound's rise is
{first["bound_new"] - first["bound_at_theta"]:.1f} and the KL gap at the new θ {first["kl_new"]:.3f}. As EM
converges both shrink.</p>
<table><thead><tr><th>t</th><th>ℓ(θ<sub>t</sub>)</th><th>ℓ(θ<sub>t+1</sub>)</th><th>bound's rise
L(q<sub>t</sub>, θ<sub>t+1</sub>) − L(q<sub>t</sub>, θ<sub>t</sub>)</th><th>KL gap at θ<sub>t+1</sub></th></tr></thead>
<tbody>{rows}</tbody></table>
<h2>How these numbers were computed</h2>
<p>By <code>modemean teach</code> with modemean's discrete-latent EM engine on the PyMC model of
<code>two_gaussians</code> ({data["n_points"]} points; maximum likelihood, no prior; the seed's start): the
E-step's responsibilities q<sub>t</sub> and the complete-data log joint log p(z<sub>i</sub> = k, x<sub>i</sub> | θ)
at every slice point both come from the model's own graph
(<code>DiscreteLatentEM.e_step</code>, <code>log_joint</code>); θ<sub>t+1</sub> is the model's closed-form M-step,
and the bound's maximum along each slice is found by a bounded scalar search. The page only draws them.</p>
{_embed("bound-data", _rounded({k: data[k] for k in ("slices", "steps")}))}
<script>{SVG_JS}{BOUND_SCRIPT}</script>
"""
    return _write(out, "em_bound.html", "EM climbs a lower bound", body)


# ---------------------------------------------------------------------------------------------- reparameterisation
def reparam_numbers(draws: np.ndarray, grid: int = REPARAM_GRID) -> dict:
    """One posterior in two coordinates, ``tau`` and ``eta = log tau``: densities, modes, quantiles, means.

    One density estimate serves both coordinates: ArviZ's KDE of ``tau`` (as on the model pages; it
    corrects for the boundary at 0), read in log coordinates by the change of variables
    ``p_eta(eta) = p_tau(e^eta) e^eta``, i.e. ``log p_eta(eta) = log p_tau(e^eta) + eta``: the Jacobian
    term ``eta`` is all that separates the two curves, and it moves the mode. The quantiles are order
    statistics of the same draws (``method="inverted_cdf"``), so ``quantile(log tau) = log
    quantile(tau)`` exactly.

    Parameters
    ----------
    draws : ndarray of shape (n,)
        Positive draws of ``tau``.
    grid : int
        Points of the ``eta`` grid (from the 0.5% to the 99.5% quantile of ``log tau``; beyond, the
        KDE's few draws make ``p_tau(e^eta) e^eta`` noisy).

    Returns
    -------
    dict
        ``tau`` and ``p_tau`` (the KDE's grid and density), ``eta`` (grid), ``log_p_eta`` and
        ``log_p_tau`` (``log p_tau(e^eta)``, both on the ``eta`` grid), ``mode_tau`` and ``mode_eta``
        (each density's maximiser on its own grid), ``levels``, ``q_tau``, ``q_eta`` (at
        :data:`LEVELS`), ``percentiles`` (``tau`` and ``eta`` at 1..99%), ``mean_tau``, ``mean_eta``,
        ``median_tau``, ``median_eta``, ``n``.
    """
    tau = np.asarray(draws, dtype=float)
    eta = np.log(tau)
    t, p_t = _kde(tau)
    x = np.linspace(np.quantile(eta, 0.005), np.quantile(eta, 0.995), grid)
    with np.errstate(divide="ignore"):
        log_p_tau = np.log(np.interp(np.exp(x), t, p_t))
    log_p_eta = log_p_tau + x  # + log |d tau / d eta|, the Jacobian
    quantile = lambda v, q: np.quantile(v, q, method="inverted_cdf")  # noqa: E731  order statistics
    percent = np.arange(1, 100) / 100
    return {
        "n": int(tau.size),
        "tau": t,
        "p_tau": p_t,
        "eta": x,
        "log_p_eta": log_p_eta,
        "log_p_tau": log_p_tau,
        "mode_tau": float(t[np.argmax(p_t)]),
        "mode_eta": float(x[np.argmax(log_p_eta)]),
        "levels": list(LEVELS),
        "q_tau": quantile(tau, LEVELS),
        "q_eta": quantile(eta, LEVELS),
        "percentiles": {"tau": quantile(tau, percent), "eta": quantile(eta, percent)},
        "median_tau": float(quantile(tau, 0.5)),
        "median_eta": float(quantile(eta, 0.5)),
        "mean_tau": float(tau.mean()),
        "mean_eta": float(eta.mean()),
    }


REPARAM_SCRIPT = r"""
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
"""


def render_reparam_demo(out: Path, draws: np.ndarray, row: dict, model: str, name: str) -> Path:
    """Write ``out/teaching/reparam_demo.html`` from the saved NUTS draws of ``model``'s ``name``.

    Parameters
    ----------
    draws : ndarray of shape (n,)
        Positive draws.
    row : dict
        The parameter's row of ``results.json`` (``map``, ``map_unconstrained``, ``mean``, ...).
    """
    d = reparam_numbers(draws)
    fmt = lambda v: f"{v:.3f}" if isinstance(v, (int, float)) else "—"  # noqa: E731
    q_rows = "".join(
        f"<tr><td>{lv:.0%}</td><td>{qt:.4f}</td><td>{qe:.4f}</td><td>{np.exp(qe):.4f}</td></tr>"
        for lv, qt, qe in zip(d["levels"], d["q_tau"], d["q_eta"], strict=True)
    )
    est = [
        ("mode (peak of the density)", d["mode_tau"], np.exp(d["mode_eta"]), "moves"),
        ("median", d["median_tau"], np.exp(d["median_eta"]), "stays"),
        ("mean (centre of mass)", d["mean_tau"], np.exp(d["mean_eta"]), "moves"),
    ]
    e_rows = "".join(f"<tr><td>{w}</td><td>{a:.3f}</td><td>{b:.3f}</td><td>{m}</td></tr>" for w, a, b, m in est)
    legend = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{t}</span>'
        for c, t in (
            ("#D55E00", "mode of this coordinate's density (solid); the other coordinate's mode mapped here (dashed)"),
            ("#009E73", "median (solid) and the 5, 25, 75, 95% quantiles (dotted)"),
            ("#0072B2", "the slider's quantile"),
        )
    )
    data = {k: (np.round(np.asarray(v), 6).tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}
    data["percentiles"] = {k: np.round(v, 6).tolist() for k, v in d["percentiles"].items()}
    body = f"""
{_nav(f'<a href="../{model}/index.html">the {model} report</a><a href="loss_demo.html">loss decides the estimator</a>')}
<h1>The mode moves, the median does not</h1>
<p class="lead">The same posterior can be written in different coordinates: the between-school spread τ of
<a href="../{model}/index.html">{model}</a>, or its logarithm log τ (the coordinate NUTS and find_MAP's
<code>map_unconstrained</code> work in). A quantile is a statement about probability — "τ is below
{d["median_tau"]:.2f} with probability 50%" — and probability does not care how the axis is drawn: the median of
log τ is the log of the
median of τ, and so is every other quantile. The <b>peak</b> is different. A density is probability <i>per unit
of the axis</i>, and a unit of log τ is a different stretch of τ at every τ: p(log τ) = p(τ) · τ. That extra
factor τ, the <b>Jacobian</b>, tilts the curve, and the peak slides. The mean moves too (the mean of log τ is the
log of the geometric mean, not of the mean).</p>
<div class="controls"><label for="level">quantile level</label><input type="range" id="level" min="1" max="99"
value="50" step="1" style="width:22rem"> <b id="p"></b>
<label><input type="checkbox" id="modes" checked> modes</label>
<label><input type="checkbox" id="quantiles" checked> quantiles</label></div>
<dl class="readout"><dt>quantile of τ</dt><dd id="q-tau"></dd><dt>quantile of log τ</dt><dd id="q-eta"></dd>
<dt>exp(quantile of log τ)</dt><dd id="exp-q-eta"></dd></dl>
<svg id="tau-plot" width="960" height="260" role="img" aria-label="density of tau"
style="max-width:100%;height:auto;display:block"></svg>
<svg id="eta-plot" width="960" height="260" role="img" aria-label="density of log tau"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{legend}</p>
<h2>The Jacobian term moves the mode</h2>
<p>On the log τ axis: the density of τ read at τ = e<sup>η</sup>, log p<sub>τ</sub>(e<sup>η</sup>) (dashed, its peak is
the τ mode), plus the Jacobian term log |dτ/dη| = η (orange, drawn shifted: only its slope matters), gives
log p<sub>η</sub>(η) (solid), whose peak is the log τ mode. The Jacobian's slope is 1 everywhere: it pushes the peak
towards larger τ.</p>
<svg id="jac-plot" width="960" height="260" role="img" aria-label="log densities with and without the Jacobian"
style="max-width:100%;height:auto;display:block"></svg>
<h2>In numbers</h2>
<table><thead><tr><th>estimator</th><th>in τ</th><th>from log τ, mapped back (exp)</th><th></th></tr></thead>
<tbody>{e_rows}</tbody></table>
<table><thead><tr><th>quantile</th><th>τ</th><th>log τ</th><th>exp(log τ quantile)</th></tr></thead>
<tbody>{q_rows}</tbody></table>
<p>The same happens to the optimiser's answer. modemean reports two posterior modes of the whole model (all
parameters at once, not the marginal density of τ drawn here): <code>map</code>, the peak in the model's own
coordinates (find_MAP: no Jacobian), τ = {fmt(row.get("map"))}, and <code>map_unconstrained</code>, the peak in the
sampler's coordinates (log τ, with its Jacobian), τ = {fmt(row.get("map_unconstrained"))}. Two honest answers to
"where is the peak?", because the peak depends on the coordinates; the median and the quantiles do not.</p>
<h2>How these numbers were computed</h2>
<p>From the {d["n"]} NUTS draws of τ saved by <code>modemean run {model}</code> (<code>{model}/results.nc</code>). One
density estimate serves both coordinates: ArviZ's KDE of τ (as on the model pages, corrected for the boundary at
0), turned into the density of log τ by the change of variables p(log τ) = p(τ) · τ, so the two curves differ only
by the Jacobian. The modes are the maximisers of the two curves; the quantiles are order statistics of the same draws
(the same draw in both coordinates, so they agree exactly).</p>
{_embed("reparam-data", data)}
<script>{SVG_JS}{REPARAM_SCRIPT}</script>
"""
    return _write(out, "reparam_demo.html", "The mode moves, the median does not", body)


# ---------------------------------------------------------------------------------------------- skew
FAMILY_POINTS = 61  # parameter values per family on the skew page's slider


def skew_families(points: int = FAMILY_POINTS) -> dict:
    """Mode, median, mean, sd, skewness and gap_sd of two right-skewed families, from their closed forms.

    * log-normal ``LogNormal(0, sigma)``, ``sigma`` from 0.05 to 1: mode ``e^(-s^2)``, median 1,
      mean ``e^(s^2/2)``, sd ``sqrt((e^(s^2) - 1) e^(s^2))``, skewness ``(e^(s^2) + 2) sqrt(e^(s^2) - 1)``.
    * ``Gamma(k, 1)``, shape ``k`` from 1 to 100 (geometric): mode ``k - 1``, median
      ``P^-1(k, 1/2)`` (the regularised incomplete gamma's inverse, scipy), mean ``k``, sd ``sqrt(k)``,
      skewness ``2 / sqrt(k)``, so gap_sd ``= 1 / sqrt(k)`` = skewness / 2 exactly.

    gap_sd is modemean's headline: ``(mean - mode) / sd``. Each row also has ``log_norm`` (the
    log of the density's normalising constant, ``log Gamma(k)`` or ``log(sigma sqrt(2 pi))``, so the
    page draws the density from its closed form) and ``hi`` (the 99% quantile, the plot's right edge).

    Returns
    -------
    dict
        ``lognormal`` and ``gamma``: each ``param`` (name), ``values`` and the columns above, lists
        of length ``points``.
    """
    s = np.linspace(0.05, 1.0, points)
    e = np.exp(s**2)
    lognormal = {
        "param": "σ",
        "values": s,
        "mode": 1 / e,
        "median": np.ones(points),
        "mean": np.sqrt(e),
        "sd": np.sqrt((e - 1) * e),
        "skewness": (e + 2) * np.sqrt(e - 1),
        "log_norm": np.log(s * np.sqrt(2 * np.pi)),
        "hi": np.exp(s * special.ndtri(0.99)),
    }
    k = np.geomspace(1.0, 100.0, points)
    gamma = {
        "param": "k",
        "values": k,
        "mode": k - 1,
        "median": special.gammaincinv(k, 0.5),
        "mean": k,
        "sd": np.sqrt(k),
        "skewness": 2 / np.sqrt(k),
        "log_norm": special.gammaln(k),
        "hi": special.gammaincinv(k, 0.99),
    }
    for family in (lognormal, gamma):
        family["gap_sd"] = (family["mean"] - family["mode"]) / family["sd"]
    return {"lognormal": lognormal, "gamma": gamma}


def catalog_skew(out: Path) -> list[dict]:
    """Every parameter in ``out``'s results with a measured skewness and gap_sd (both finite).

    Returns
    -------
    list of dict
        ``model``, ``parameter``, ``skewness`` (of the NUTS draws), ``gap_sd`` ((mean - map) / sd).
    """
    points = []
    for path in sorted(Path(out).glob("*/results.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for name, row in (data.get("parameters") or {}).items() if isinstance(data, dict) else ():
            skew, gap = row.get("skewness"), row.get("gap_sd")
            if isinstance(skew, (int, float)) and isinstance(gap, (int, float)) and np.isfinite([skew, gap]).all():
                points.append(
                    {"model": path.parent.name, "parameter": name, "skewness": float(skew), "gap_sd": float(gap)}
                )
    return points


SKEW_SCRIPT = r"""
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
"""


def render_skew_demo(out: Path) -> Path:
    """Write ``out/teaching/skew_demo.html``: :func:`skew_families` and the catalog's :func:`catalog_skew`."""
    families = skew_families()
    catalog = catalog_skew(out)
    embed = {
        name: {k: (np.round(v, 8).tolist() if isinstance(v, np.ndarray) else v) for k, v in fam.items()}
        for name, fam in families.items()
    }
    if catalog:
        near = sorted(catalog, key=lambda c: -abs(c["gap_sd"]))[:8]
        rows = "".join(
            f'<tr><td><a href="../{escape(c["model"])}/index.html">{escape(c["model"])}</a></td>'
            f"<td>{escape(c['parameter'])}</td><td>{c['skewness']:.2f}</td><td>{c['gap_sd']:.2f}</td>"
            f"<td>{c['gap_sd'] - c['skewness'] / 2:+.2f}</td></tr>"
            for c in near
        )
        placed = (
            f"<p>Grey dots: the {len(catalog)} parameters of the catalog with results here, each at its NUTS "
            "skewness and its gap_sd (hover for the name). Those with the largest gaps:</p>"
            "<table><thead><tr><th>model</th><th>parameter</th><th>skewness</th><th>gap_sd</th>"
            f"<th>gap_sd − skewness/2</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        placed = (
            "<p>No catalog results with both a skewness and a gap_sd in this folder yet: "
            "<code>modemean run all --out DIR</code> places the catalog's parameters on this plot.</p>"
        )
    legend = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{t}</span>'
        for c, t in (
            ("#D55E00", "mode"),
            ("#009E73", "median"),
            ("#0072B2", "mean"),
            ("#777", "one sd (left of the mean)"),
        )
    )
    legend2 = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{t}</span>'
        for c, t in (
            ("#CC79A7", "log-normal family"),
            ("#E69F00", "Gamma family (gap_sd = skewness / 2 exactly)"),
            ("#000", "the member on the slider"),
            ("#555", "the catalog's parameters"),
        )
    )
    body = f"""
{_nav('<a href="loss_demo.html">loss decides the estimator</a><a href="reparam_demo.html">the mode moves</a>')}
<h1>How skew separates mode, median and mean</h1>
<p class="lead">On a symmetric posterior the peak (mode), the middle (median) and the centre of mass (mean)
are one point. Give the posterior a long right tail and they come apart in a fixed order: the tail pulls the mean
furthest, the median less, and the mode stays at the peak. modemean's headline number,
<b>gap_sd</b> = (mean − mode) / sd, measures that separation in posterior standard deviations. For a mildly skewed
distribution it is about half the skewness (Pearson): move the slider and watch both grow together.</p>
<div class="controls"><b>Family:</b>
<label><input type="radio" name="family" value="lognormal" checked> log-normal(0, σ)</label>
<label><input type="radio" name="family" value="gamma"> Gamma(k, 1)</label>
<input type="range" id="param" min="0" max="{FAMILY_POINTS - 1}" value="0" step="1" style="width:22rem">
<b id="value"></b></div>
<dl class="readout"><dt>mode</dt><dd id="mode"></dd><dt>median</dt><dd id="median"></dd><dt>mean</dt>
<dd id="mean"></dd><dt>sd</dt><dd id="sd"></dd><dt>skewness</dt><dd id="skewness"></dd><dt>gap_sd</dt>
<dd id="gap_sd"></dd><dt>(median − mode) / sd</dt><dd id="mm"></dd><dt>(mean − median) / sd</dt><dd id="md"></dd></dl>
<svg id="pdf-plot" width="960" height="280" role="img" aria-label="the density with its mode, median and mean"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{legend}</p>
<h2>The catalog on the same axes</h2>
<svg id="map-plot" width="960" height="360" role="img" aria-label="gap_sd against skewness"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{legend2}</p>
{placed}
<p>A point far from the family curves is a posterior whose shape is not a simple one-tailed skew: a peak on a
boundary (the mode at τ = 0 of eight schools), several modes, or a spike-and-slab.</p>
<h2>How these numbers were computed</h2>
<p>The families' mode, median, mean, sd and skewness are closed forms (the Gamma median by scipy's inverse
incomplete gamma function), computed when the page was rendered; the page draws each density from its closed form.
The catalog's skewness and gap_sd are the <code>skewness</code> and <code>gap_sd</code> columns of each
<code>results.json</code>.</p>
{_embed("skew-data", {"families": embed, "catalog": catalog})}
<script>{SVG_JS}{SKEW_SCRIPT}</script>
"""
    return _write(out, "skew_demo.html", "How skew separates mode, median and mean", body)


# ---------------------------------------------------------------------------------------------- index
# The suggested order: (page, title, what it teaches, what makes its numbers)
ORDER = (
    (
        "em_demo",
        "EM step by step: two Gaussians",
        "Start with the algorithm the seed demonstrates. Three hundred points, two overlapping bell curves, no labels: "
        "step through modemean's own EM run (E-step: soft labels; M-step: re-fit each curve) and watch the log "
        "likelihood climb; different starts end at different (mirror-image) peaks.",
        "modemean teach",
    ),
    (
        "em_bound",
        "EM climbs a lower bound",
        "Why the climb never goes down: each E-step builds a lower bound that touches the log likelihood where EM "
        "stands, each M-step jumps to the bound's peak. Along slices of the parameters you see the bound, its touch "
        "point, its maximum at the M-step's value and the KL gap that opens at the new point.",
        "modemean teach",
    ),
    (
        "loss_demo",
        "Loss decides the estimator: mode, median, mean",
        "EM and find_MAP report a peak; NUTS reports a centre. Which one is 'the' estimate is a choice of loss: 0-1 "
        "loss gives the mode, absolute loss the median, squared loss the mean, here on eight schools' skewed τ.",
        "modemean run eight_schools",
    ),
    (
        "skew_demo",
        "How skew separates mode, median and mean",
        "How far apart those three are is a matter of skew: slide through the log-normal and Gamma families and watch "
        "gap_sd, modemean's headline, grow with the skewness (half of it, for a Gamma); then find the catalog's "
        "parameters on the same axes.",
        "modemean run all",
    ),
    (
        "reparam_demo",
        "The mode moves, the median does not: τ and log τ",
        "A peak belongs to a coordinate system. Drawn in log τ, the same posterior peaks somewhere else (the "
        "Jacobian tilts it), while the median and every quantile stay put: why modemean reports both map and "
        "map_unconstrained.",
        "modemean run eight_schools",
    ),
    (
        "prior_demo",
        "MAP = MLE + log prior: flattening the prior",
        "Finally the prior: the MAP is the MLE plus a penalty. Widen a Laplace or Gaussian prior and watch the mode "
        "slide to the MLE, exact zeros at the Laplace kink, and the posterior mean travelling beside it.",
        "modemean teach",
    ),
)


def render_teaching_index(out: Path, written: set[str]) -> Path:
    """Write ``out/teaching/index.html``: the pages of :data:`ORDER`, linked where written, else how to make them."""
    items = []
    for name, title, text, command in ORDER:
        head, missing = f'<a href="{name}.html">{escape(title)}</a>', ""
        if name not in written:
            head = escape(title)
            missing = (
                f"<p><i>Not built yet: run <code>{escape(command)} --out DIR</code>, then "
                "<code>modemean report --out DIR</code>.</i></p>"
            )
        items.append(f"<li><h2>{head}</h2><p>{escape(text)}</p>{missing}</li>")
    body = f"""
{_nav()}
<h1>Peak versus centre of mass: the teaching pages</h1>
<p class="lead">Six short pages, each computed by modemean's own engine and drawn in your browser (they work
offline, from the files). Read them in this order: the first two are about EM, the algorithm that finds a peak;
the next three about what separates a peak from a centre; the last about what the prior adds.</p>
<ol class="teaching-order">{"".join(items)}</ol>
"""
    return _write(out, "index.html", "The teaching pages", body)
