"""Teaching pages: EM step by step, loss -> estimator, prior flattening -> MLE (``DIR/teaching/*.html``).

Each page is one self-contained HTML file (inline CSS, inline script, figures as inline PNG or
drawn on a canvas from embedded numbers), so it works from ``file://``. Rendering never runs a
solver: the EM and prior pages read ``DIR/teaching/em_demo.json`` and ``prior_demo.json``
(written by ``modemean teach``, :mod:`comparisons.teach`), the loss page reads the eight schools
NUTS draws from ``DIR/eight_schools/results.nc`` (written by ``modemean run``). The scripts only
index and draw those numbers: no EM and no density is computed in the browser.
"""

from __future__ import annotations

import base64
import io
import json
from html import escape
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import optimize

from modemean.comparisons.errors import ModemeanError

from .figures import DENSITY, RC, STYLES, _kde
from .load import load_model
from .pages import _page, stale

__all__ = ["render_teaching", "expected_losses", "LOSS_MODEL", "LOSS_PARAMETER", "WINDOW_SDS"]

LOSS_MODEL, LOSS_PARAMETER = "eight_schools", "tau"
WINDOW_SDS = 0.1  # half-width of the 0-1 loss's window, in posterior sds ("narrow")
LOSS_GRID = 401  # candidate estimates on the loss page
TEACH_CSS = """
.controls{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap;margin:.8rem 0}
.controls button{font:inherit;padding:.3rem 1.1rem;cursor:pointer}
.controls select{font:inherit;max-width:100%}
.readout{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;font-variant-numeric:tabular-nums;
 background:#f6f8fa;border:1px solid #ddd;padding:.5rem 1rem;max-width:34rem}
.readout dt{font-weight:bold}.readout dd{margin:0}
canvas{border:1px solid #eee;max-width:100%;display:block;margin:.4rem 0}
.legend span{margin-right:1.2rem;white-space:nowrap}.swatch{display:inline-block;width:1.6rem;height:.25rem;
 vertical-align:middle;margin-right:.3rem}
.lead{font-size:1.05rem}
"""


# ---------------------------------------------------------------------------------------------- helpers
def _png(fig: Figure, alt: str) -> str:
    """An inline ``<img>`` (base64 PNG) of ``fig``."""
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _embed(element_id: str, data) -> str:
    """A JSON data block the page's script reads (``</`` escaped so it cannot close the script)."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _write(out: Path, filename: str, title: str, body: str) -> Path:
    page = Path(out) / "teaching" / filename
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(_page(f"{title} — modemean", f"<style>{TEACH_CSS}</style>{body}"))
    return page


def _nav(extra: str = "") -> str:
    return f'<nav><a href="../index.html">← all models</a>{extra}</nav>'


def render_teaching(out: Path, force: bool = False) -> list[tuple[str, str]]:
    """Write every teaching page whose numbers exist in ``out``, and their index; return ``(title, href)``.

    ``em_demo.html``, ``em_bound.html`` and ``prior_demo.html`` need ``out/teaching/em_demo.json``,
    ``em_bound.json`` and ``prior_demo.json`` (``modemean teach --out DIR``); ``loss_demo.html`` and
    ``reparam_demo.html`` need the eight schools results with NUTS draws (``modemean run eight_schools
    --out DIR``); ``skew_demo.html`` needs nothing (it places whatever catalog results exist). A page
    whose numbers are missing is skipped; one newer than its numbers and the rendering code is kept
    (the skew page and the index, which read every model's results, are always rewritten: they draw
    no figure). ``teaching/index.html`` lists them in the suggested order, one paragraph each, and
    says how to make the missing ones. A folder with no results and no teaching numbers gets nothing.

    Parameters
    ----------
    out : path
        The results folder.
    force : bool, default False
        Render every page even when it is up to date.

    Returns
    -------
    list of (str, str)
        Title and href relative to ``out``: the teaching index first, then each page written or kept,
        in the suggested order.
    """
    from . import lessons
    from .load import find_models

    out = Path(out)
    if not find_models(out) and not list((out / "teaching").glob("*.json")):
        return []  # nothing to teach from (and no folder to write into)
    written = set()
    for name, render in (
        ("em_demo", render_em_demo),
        ("em_bound", lessons.render_em_bound),
        ("prior_demo", render_prior_demo),
    ):
        numbers = out / "teaching" / f"{name}.json"
        if numbers.is_file():
            if stale(out / "teaching" / f"{name}.html", [numbers], force):
                render(out, json.loads(numbers.read_text()))
            written.add(name)
    loss = [out / LOSS_MODEL / "results.json", out / LOSS_MODEL / "results.nc"]
    pages = ("loss_demo", "reparam_demo")
    if loss[0].is_file() and any(stale(out / "teaching" / f"{n}.html", loss, force) for n in pages):
        try:
            results = load_model(out, LOSS_MODEL)
        except ModemeanError:
            results = None
        if results is not None and LOSS_PARAMETER in results.draws:
            render_loss_demo(out, results.draws[LOSS_PARAMETER], results.parameters[LOSS_PARAMETER])
            lessons.render_reparam_demo(
                out, results.draws[LOSS_PARAMETER], results.parameters[LOSS_PARAMETER], LOSS_MODEL, LOSS_PARAMETER
            )
            written.update(pages)
    elif loss[0].is_file():
        written.update(pages)  # kept: made from these results, so they had the draws
    lessons.render_skew_demo(out)
    written.add("skew_demo")
    index = lessons.render_teaching_index(out, written)
    return [("The teaching pages, in a suggested order", f"teaching/{index.name}")] + [
        (title, f"teaching/{name}.html") for name, title, _, _ in lessons.ORDER if name in written
    ]


# ---------------------------------------------------------------------------------------------- EM demo
EM_SCRIPT = r"""
(() => {
const D = JSON.parse(document.getElementById("em-data").textContent);
const unit = D.curve_unit, X = D.x;
const $ = id => document.getElementById(id);
const fmt = v => v.toFixed(2).replace("-", "\u2212");
const COLOURS = ["#0072B2", "#D55E00"];
let r = 0, it = 0, timer = null, top = 0;
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
function drawDensity() {
  const [ctx, w, h] = setup($("density"));
  const m = {l: 60, r: 12, t: 12, b: 42}, xlo = X[0], xhi = X[X.length - 1];
  const [sx, sy] = axes(ctx, m, w, h, xlo, xhi, 0, top, ticks(xlo, xhi, 12), ticks(0, top, 5), "x", "density",
                        t => t.toFixed(2));
  const e = D.hist.edges; ctx.fillStyle = "#d9d9d9"; ctx.strokeStyle = "#fff";
  for (let i = 0; i < D.hist.density.length; i++) {
    const x0 = sx(e[i]), x1 = sx(e[i + 1]), y = sy(D.hist.density[i]);
    ctx.fillRect(x0, y, x1 - x0, sy(0) - y); ctx.strokeRect(x0, y, x1 - x0, sy(0) - y);
  }
  const c = D.restarts[r].curves[it];
  const line = (ys, colour, width, dash) => {
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dash); ctx.beginPath();
    ys.forEach((v, i) => i ? ctx.lineTo(sx(X[i]), sy(v)) : ctx.moveTo(sx(X[i]), sy(v))); ctx.stroke();
    ctx.setLineDash([]);
  };
  line(c[0].map(v => v * unit), COLOURS[0], 2.2, [7, 3]);
  line(c[1].map(v => v * unit), COLOURS[1], 2.2, [7, 3]);
  line(c[0].map((v, i) => (v + c[1][i]) * unit), "#000", 2.6, []);
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
  $("status").textContent = it < n ? `${n - it} more iteration(s) to the end of this run` :
    (rs.error ? `stopped: ${rs.error}` : (rs.converged ? `converged after ${n} iterations: the parameters stopped moving`
                                                      : `stopped after ${n} iterations without converging`));
  $("step").disabled = it >= n;
  drawDensity(); drawTrace();
}
function stop() { if (timer) { clearInterval(timer); timer = null; } $("run").textContent = "Run"; }
function step() { if (it < D.restarts[r].trace.length - 1) { it++; show(); } else stop(); }
$("step").addEventListener("click", () => { stop(); step(); });
$("run").addEventListener("click", () => {
  if (timer) { stop(); return; }
  if (it >= D.restarts[r].trace.length - 1) { it = 0; }
  $("run").textContent = "Pause"; timer = setInterval(step, 40);
});
$("reset").addEventListener("click", () => { stop(); it = 0; show(); });
$("start").addEventListener("change", e => { stop(); r = +e.target.value; it = 0; scale(); show(); });
window.addEventListener("resize", show);
scale(); show();
})();
"""


def _fmt(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def render_em_demo(out: Path, data: dict) -> Path:
    """Write ``out/teaching/em_demo.html`` from :func:`comparisons.teach.em_demo_data`'s numbers."""
    restarts = data["restarts"]
    peaks: dict[tuple, str] = {}
    options, rows = [], []
    for k, rs in enumerate(restarts):
        mu, w = rs["mu"], rs["w"]
        end = (tuple(np.round(mu[-1], 1)), tuple(np.round(w[-1], 2))) if not rs["error"] else None
        peak = peaks.setdefault(end, chr(ord("A") + len(peaks))) if end else "—"
        label = "the seed's start" if k == 0 else "random start"
        options.append(
            f'<option value="{k}">start {k} ({label}): means {", ".join(map(_fmt, mu[0]))}; '
            f"weights {', '.join(map(_fmt, w[0]))}</option>"
        )
        final = _fmt(rs["trace"][-1]) if rs["objective"] is not None else "broke down"
        rows.append(
            f"<tr><td>{k}</td><td>{', '.join(map(_fmt, mu[0]))}</td><td>{len(rs['trace']) - 1}</td>"
            f"<td>{final}</td><td>{', '.join(map(_fmt, mu[-1]))}</td><td>{', '.join(map(_fmt, w[-1]))}</td>"
            f"<td>{peak}</td></tr>"
        )
    heights = {}
    for rs in restarts:
        if rs["objective"] is not None:
            heights.setdefault(round(rs["objective"], 2), []).append(rs)
    if len(peaks) > 1 and len(heights) == 1:
        lesson = (
            f"The {len(restarts)} starts end at {len(peaks)} different peaks of the same height: the "
            "likelihood does not care which component is called 1 and which 2, so every peak has a "
            "mirror image with the labels swapped (means and weights in the other order). Which one a run "
            "climbs depends only on where it starts. The PyMC model orders the means to rule the mirror "
            "out; maximum-likelihood EM does not know about that constraint."
        )
    elif len(peaks) > 1:
        lesson = (
            f"The {len(restarts)} starts end at {len(peaks)} different peaks of different heights: EM only "
            "climbs, so a start on the slope of a lower peak stays there. That is why the engine restarts "
            "EM and keeps the best run."
        )
    else:
        lesson = (
            f"Here all {len(restarts)} starts climb to the same peak, some after long plateaus (watch the "
            "log-likelihood curve): EM only climbs, so in general a start on the slope of a lower peak would "
            "stay there, and the engine restarts EM and keeps the best run."
        )
    slowest = max(range(len(restarts)), key=lambda k: len(restarts[k]["trace"]))
    lesson += (
        f" The slowest, start {slowest}, takes {len(restarts[slowest]['trace']) - 1} iterations: it first sits "
        "on a plateau of the log-likelihood, near a saddle where the curves overlap, before EM finds the "
        "direction that splits them (select it and press Run)."
    )
    legend = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{t}</span>'
        for c, t in (
            ("#d9d9d9", "data (histogram)"),
            ("#0072B2", "component 1: w₁ N(x | μ₁, σ₁)"),
            ("#D55E00", "component 2: w₂ N(x | μ₂, σ₂)"),
            ("#000", "mixture (their sum)"),
        )
    )
    body = f"""
{_nav('<a href="../two_gaussians/index.html">the two_gaussians report</a>')}
<h1>EM step by step: two Gaussians</h1>
<p class="lead">{data["n_points"]} points (grey histogram) come from two overlapping bell curves, but nobody wrote
down which curve produced which point. EM alternates two steps. The <b>E-step</b> guesses the labels softly:
for every point, the probability that it came from curve 1 or curve 2 under the current curves (its
<i>responsibilities</i>). The <b>M-step</b> re-estimates each curve's weight, mean and spread from the
points, each point counted with its responsibility. Each press of <b>Step</b> does one E-step and one M-step
and redraws the curves. The log-likelihood can only go up from one step to the next (EM's guarantee), as the
small curve below shows; the run stops when the parameters stop moving.</p>
<p>Every number on this page comes from modemean's own EM engine (<code>comparisons.solvers.em.run_em</code> with the
E-step read off the PyMC model of <code>two_gaussians</code>), run by <code>modemean teach</code> without the
prior (maximum likelihood, as in the original demo), from the same starts as <code>modemean run</code> (seed
{data["seed"]}); the curves are the model's own log density evaluated on a grid. The page only replays the
recorded iterations.</p>
<div class="controls"><label for="start">Start:</label><select id="start">{"".join(options)}</select></div>
<div class="controls"><button id="step">Step</button><button id="run">Run</button><button id="reset">Reset</button>
<span id="status"></span></div>
<dl class="readout"><dt>Iteration</dt><dd id="iteration"></dd><dt>Log-likelihood</dt><dd id="loglik"></dd>
<dt>Means</dt><dd id="means"></dd><dt>Weights</dt><dd id="weights"></dd><dt>Sds</dt><dd id="sds"></dd></dl>
<canvas id="density" style="width:100%;height:340px" aria-label="data histogram, component and mixture densities"></canvas>
<p class="legend">{legend}</p>
<canvas id="trace" style="width:100%;height:190px" aria-label="log-likelihood by iteration"></canvas>
<p class="legend"><span>black: log-likelihood after each iteration (never goes down);
dotted: the value this run ends at</span></p>
<h2>Different starts, different peaks</h2>
<p>{escape(lesson)}</p>
<table><thead><tr><th>start</th><th>means at the start</th><th>iterations</th><th>final log-likelihood</th>
<th>final means</th><th>final weights</th><th>peak</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
{_embed("em-data", {k: data[k] for k in ("x", "hist", "curve_unit", "restarts")})}
<script>{EM_SCRIPT}</script>
"""
    return _write(out, "em_demo.html", "EM step by step", body)


# ---------------------------------------------------------------------------------------------- loss demo
def expected_losses(draws: np.ndarray, grid: np.ndarray | None = None, window: float | None = None) -> dict:
    """Expected posterior loss of every candidate estimate, and each loss's minimiser, from draws.

    For a candidate ``a``: 0-1 loss ``P(|theta - a| > h)`` (wrong unless within a narrow window
    ``h``), absolute loss ``E|theta - a|`` and squared loss ``E(theta - a)^2``, each the average
    over the draws.

    Parameters
    ----------
    draws : ndarray of shape (n,)
    grid : ndarray, optional
        Candidates for the curves (default: :data:`LOSS_GRID` points from the smallest draw to the
        99.5% quantile).
    window : float, optional
        ``h`` (default :data:`WINDOW_SDS` posterior sds).

    Returns
    -------
    dict
        ``grid``, ``window``, ``zero_one``, ``absolute``, ``squared`` (curves on ``grid``) and
        ``minimiser`` with keys ``zero_one``, ``absolute``, ``squared``. The 0-1 minimiser is found
        exactly: the best window can be slid until its left edge is a draw, so it is the centre of
        the window ``[theta_i, theta_i + 2h]`` holding the most draws (the first such, in order).
        The absolute loss is piecewise linear with kinks at the draws, so it is evaluated at every
        draw and its minimiser is the midpoint of the draws where it is smallest (its flat bottom).
        The squared minimiser minimises its curve on ``grid`` and is then refined by a bounded
        scalar minimisation between the neighbouring grid points (the loss is convex in ``a``).
    """
    draws = np.sort(np.asarray(draws, dtype=float))
    window = WINDOW_SDS * float(np.std(draws)) if window is None else float(window)
    if grid is None:
        grid = np.linspace(draws[0], np.quantile(draws, 0.995), LOSS_GRID)
    grid = np.asarray(grid, dtype=float)
    inside = np.searchsorted(draws, grid + window, "right") - np.searchsorted(draws, grid - window, "left")
    curves = {
        "zero_one": 1.0 - inside / draws.size,
        "absolute": np.abs(draws[None, :] - grid[:, None]).mean(axis=1),
        "squared": ((draws[None, :] - grid[:, None]) ** 2).mean(axis=1),
    }
    counts = np.searchsorted(draws, draws + 2 * window, "right") - np.arange(draws.size)
    minimiser = {"zero_one": float(draws[int(np.argmax(counts))] + window)}
    below, n = np.cumsum(draws), draws.size
    k = np.arange(1, n + 1)  # draws at or below draws[k - 1]
    at_draws = (draws * k - below) + (below[-1] - below - draws * (n - k))
    bottom = np.flatnonzero(at_draws <= at_draws.min() * (1 + 1e-12))
    minimiser["absolute"] = float((draws[bottom[0]] + draws[bottom[-1]]) / 2)
    i = int(np.argmin(curves["squared"]))
    res = optimize.minimize_scalar(
        lambda a: ((draws - a) ** 2).mean(),
        method="bounded",
        bounds=(grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]),
        options={"xatol": 1e-10},
    )
    minimiser["squared"] = float(res.x)
    return {"grid": grid, "window": window, **curves, "minimiser": minimiser}


LOSSES = (
    ("zero_one", "0-1 loss (window ±h)", "mode", "the mode"),
    ("absolute", "absolute loss |θ − a|", "median", "the median"),
    ("squared", "squared loss (θ − a)²", "mean", "the mean"),
)

LOSS_SCRIPT = r"""
(() => {
const D = JSON.parse(document.getElementById("loss-data").textContent);
const slider = document.getElementById("candidate");
function show() {
  const i = +slider.value;
  document.getElementById("a").textContent = D.grid[i].toFixed(2);
  for (const k of ["zero_one", "absolute", "squared"])
    document.getElementById("loss-" + k).textContent = D[k][i].toFixed(3);
}
slider.addEventListener("input", show);
show();
})();
"""


def _loss_figure(draws: np.ndarray, losses: dict, name: str) -> Figure:
    grid, mins = losses["grid"], losses["minimiser"]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11, 9.5), layout="constrained")
        axes = fig.subplots(4, 1, sharex=True, height_ratios=[1.6, 1, 1, 1])
        x, pdf = _kde(draws)
        keep = x <= grid[-1]
        axes[0].plot(x[keep], pdf[keep], color=DENSITY, lw=2.2, label="NUTS density (KDE)")
        axes[0].set_ylim(bottom=0)
        axes[0].set_ylabel("density")
        axes[0].set_title(f"{name}: posterior density with each loss's best estimate", loc="left")
        for ax, (key, label, marker, words) in zip(axes[1:], LOSSES, strict=True):
            colour, style = STYLES[marker]
            value = mins[key]
            axes[0].axvline(value, color=colour, ls=style, lw=3, label=f"{words}: {value:.2f} (minimises {label})")
            ax.plot(grid, losses[key], color=colour, lw=2.2)
            ax.axvline(value, color=colour, ls=style, lw=2)
            ax.plot([value], [np.interp(value, grid, losses[key])], "o", color=colour, ms=8)
            ax.set_ylabel(f"expected\n{label}", fontsize=11)
        axes[0].legend(loc="upper right", frameon=False)
        axes[-1].set_xlabel(f"candidate estimate a of {name}")
        axes[-1].set_xlim(grid[0], grid[-1])
    return fig


def render_loss_demo(out: Path, draws: np.ndarray, row: dict) -> Path:
    """Write ``out/teaching/loss_demo.html`` from the saved NUTS draws of :data:`LOSS_PARAMETER`."""
    draws = np.asarray(draws, dtype=float)
    losses = expected_losses(draws)
    mins, name = losses["minimiser"], LOSS_PARAMETER
    mid = LOSS_GRID // 2
    rows = "".join(
        f"<tr><td>{label}</td><td>{words}</td><td>{mins[key]:.3f}</td><td>{_loss_row_value(row, marker)}</td></tr>"
        for key, label, marker, words in LOSSES
    )
    body = f"""
{_nav(f'<a href="../{LOSS_MODEL}/index.html">the {LOSS_MODEL} report</a>')}
<h1>Loss decides the estimator: mode, median, mean</h1>
<p class="lead">A point estimate is a bet: you name one number a for the unknown θ and pay a loss when θ turns
out different. Averaged over the posterior, each candidate a has an <b>expected loss</b>, and the best
estimate is the a with the smallest one. Which a wins depends on how you are made to pay:</p>
<ul class="lead"><li><b>0-1 loss</b> — you lose 1 unless a is within a narrow window ±h of θ: the best a is the
centre of the densest window, the <b>mode</b> (the peak; as h shrinks, exactly the mode).</li>
<li><b>Absolute loss</b> |θ − a| — the best a has half the mass on each side: the <b>median</b>.</li>
<li><b>Squared loss</b> (θ − a)² — the best a is the <b>mean</b>, the centre of mass.</li></ul>
<p>On a symmetric posterior the three coincide. Here they do not: this is the between-school spread τ of
<a href="../{LOSS_MODEL}/index.html">eight schools</a>, whose posterior piles up near 0 with a long right tail.
The peak sits near 0, the median further right and the mean further still, pulled by the tail, which squared
loss punishes hardest. Every curve is an average over the {draws.size} saved NUTS draws of τ
(<code>{LOSS_MODEL}/results.nc</code>); h = {losses["window"]:.3f} ({WINDOW_SDS} posterior sd).</p>
{_png(_loss_figure(draws, losses, name), f"posterior density of {name} and the three expected-loss curves")}
<div class="controls"><label for="candidate">Try a candidate a =</label>
<input type="range" id="candidate" min="0" max="{LOSS_GRID - 1}" value="{mid}" step="1" style="width:24rem">
<b id="a"></b></div>
<dl class="readout"><dt>expected 0-1 loss</dt><dd id="loss-zero_one"></dd><dt>expected absolute loss</dt>
<dd id="loss-absolute"></dd><dt>expected squared loss</dt><dd id="loss-squared"></dd></dl>
<h2>The minimisers</h2>
<table><thead><tr><th>loss</th><th>its minimiser is</th><th>minimiser of the expected loss</th>
<th>from the same draws in results.json</th></tr></thead><tbody>{rows}</tbody></table>
<p>The last column is what <code>modemean run</code> reported: the mean and median of the draws, and the
sample mode (the half-sample mode, <code>az.mode</code>), a different estimator of the peak than the densest
±h window, so those two agree only roughly. The posterior mode found by optimisation (find_MAP) is on the
boundary τ = 0 for this model (see its report).</p>
{_embed("loss-data", {k: np.round(np.asarray(losses[k]), 6).tolist() for k in ("grid", "zero_one", "absolute", "squared")})}
<script>{LOSS_SCRIPT}</script>
"""
    return _write(out, "loss_demo.html", "Loss decides the estimator", body)


def _loss_row_value(row: dict, column: str) -> str:
    value = row.get(column)
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"


# ---------------------------------------------------------------------------------------------- prior demo
def _prior_figure(data: dict) -> Figure:
    lap, gauss, mle = data["laplace"], data["gaussian"], np.asarray(data["mle"])
    scales, maps, means = np.asarray(lap["scales"]), np.asarray(lap["map"]), np.asarray(lap["mean"])
    taus, modes = np.asarray(gauss["taus"]), np.asarray(gauss["mode"])
    colours = matplotlib.colormaps["tab10"].colors
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(12, 6.4), layout="constrained")
        left, right = fig.subplots(1, 2, sharey=True)
        edge = scales[-1] * 3
        for j in range(maps.shape[1]):
            c = colours[j % 10]
            left.plot(scales, maps[:, j], "-o", color=c, lw=2, ms=4)
            left.plot(scales, means[:, j], "--", color=c, lw=1.5, marker="s", mfc="white", ms=4)
            right.plot(taus, modes[:, j], "-", color=c, lw=2)
            for ax in (left, right):
                ax.plot([edge], [mle[j]], "<", color=c, ms=9, clip_on=False)
        for ax in (left, right):
            ax.set_xscale("log")
            ax.axhline(0, color="#888", lw=0.8)
            ax.set_xlim(scales[0] / 2, edge * 1.6)
        left.axvline(lap["scale"], color="#888", ls=":", lw=1.5)
        right.axvline(gauss["tau"], color="#888", ls=":", lw=1.5)
        left.set_title("Laplace prior (sparse_regression)\nMAP ● and posterior mean □", loc="left")
        right.set_title("Gaussian prior (ridge_regression)\nmode = mean (exact, closed form)", loc="left")
        left.set_xlabel("Laplace scale b (L1 penalty σ²/b)   →  flat")
        right.set_xlabel("prior sd τ (L2 penalty σ²/τ²)   →  flat")
        left.set_ylabel("coefficient")
        handles = [
            Line2D([], [], color="k", marker="o", ms=4, label="MAP (find_MAP)"),
            Line2D([], [], color="k", ls="--", marker="s", mfc="white", ms=4, label="posterior mean (NUTS)"),
            Line2D([], [], color="k", marker="<", ms=8, ls="none", label="MLE"),
            Line2D([], [], color="#888", ls=":", label="the catalog's prior scale"),
        ]
        handles += [Line2D([], [], color=colours[j % 10], lw=3, label=f"β{j}") for j in range(maps.shape[1])]
        fig.legend(handles=handles, loc="outside lower center", ncols=7, frameon=False, fontsize=11)
    return fig


def render_prior_demo(out: Path, data: dict) -> Path:
    """Write ``out/teaching/prior_demo.html`` from :func:`comparisons.teach.prior_demo_data`'s numbers."""
    lap, mle = data["laplace"], np.asarray(data["mle"])
    maps, means = np.asarray(lap["map"]), np.asarray(lap["mean"])
    atol = lap["zero_atol"]
    rows = []
    for b, m, mu in zip(lap["scales"], maps, means, strict=True):
        zero = np.flatnonzero(np.abs(m) < atol)
        largest = f"{np.max(np.abs(mu[zero])):.3f}" if zero.size else "—"
        rows.append(
            f"<tr><td>{b:g}{' (catalog)' if b == lap['scale'] else ''}{' (flat)' if b == lap['scales'][-1] else ''}"
            f"</td><td>{1 / b * lap['sigma'] ** 2:.4g}</td><td>{zero.size}</td>"
            f"<td>{', '.join(f'β{j}' for j in zero) or '—'}</td><td>{largest}</td>"
            f"<td>{np.max(np.abs(m - mle)):.2e}</td><td>{np.max(np.abs(mu - mle)):.3f}</td></tr>"
        )
    nuts = data["nuts"]
    body = f"""
{
        _nav(
            '<a href="../sparse_regression/index.html">the sparse_regression report</a>'
            '<a href="../ridge_regression/index.html">the ridge_regression report</a>'
        )
    }
<h1>MAP = MLE + log prior: flattening the prior</h1>
<p class="lead">The posterior mode maximises log p(β | y) = log p(y | β) + log p(β) + constant: the
log-likelihood, which the MLE maximises alone, plus the log prior. With a Laplace prior of scale b the log prior
is −Σ|β<sub>j</sub>|/b, an L1 penalty (the lasso); with a Gaussian prior of sd τ it is −Σβ<sub>j</sub>²/(2τ²), an
L2 penalty (ridge). A tight prior (small b or τ) pulls every coefficient towards 0; as the prior widens its
penalty fades and the MAP slides to the MLE (◄ on the right edge).</p>
<p class="lead">The posterior mean (dashed, □) travels beside the mode but is a different point: the Laplace
prior's kink at 0 makes the mode set weak coefficients <b>exactly to zero</b>, the lasso's variable selection,
while the mean, an average over both signs, is not (it is small only where the posterior is nearly symmetric
about 0). Under the Gaussian prior the posterior is Gaussian,
so mode and mean are one and the same curve, shrunk towards 0 but never exactly 0.</p>
{_png(_prior_figure(data), "coefficient paths of the MAP and the posterior mean as the prior widens")}
<h2>Exact zeros at the mode (Laplace prior)</h2>
<table><thead><tr><th>scale b</th><th>L1 penalty σ²/b</th><th>coefficients zero at the MAP
(|β| &lt; {atol:g})</th><th>which</th><th>largest |posterior mean| among them</th><th>max |MAP − MLE|</th>
<th>max |mean − MLE|</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>How these numbers were computed</h2>
<ul><li>MAP: modemean's <code>fit_map</code> (pm.find_MAP, L-BFGS-B polished by Powell where it stalls at the L1
kink) on the catalog's <code>sparse_regression</code> file at each scale b; the last point (b =
{lap["scales"][-1]:g}) is practically flat.</li>
<li>Posterior mean: modemean's <code>fit_nuts</code> with modest settings ({nuts["chains"]} chains ×
{nuts["draws"]} draws after {nuts["tune"]} tuning steps): a Monte Carlo estimate, standard error up to
{np.max(lap["mean_se"]):.3f}.</li>
<li>MLE: modemean's EM without the prior (least squares), the <code>mle</code> column of the reports.</li>
<li>Gaussian prior: <code>ridge_regression.closed_form</code>, the exact conjugate posterior mean (= mode) at each
τ.</li></ul>
<p>Computed by <code>modemean teach</code> (seed {data["seed"]}); this page only draws the saved numbers.</p>
"""
    return _write(out, "prior_demo.html", "MAP = MLE + log prior", body)
