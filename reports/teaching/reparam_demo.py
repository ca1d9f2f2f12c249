"""The reparameterisation page: the mode moves, the median does not (eight schools' tau and log tau)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..html import asset, embed, legend
from ..plots.style import kde
from .common import SVG_JS, nav, write

REPARAM_SCRIPT = asset("reparam_demo.js")


LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)  # the quantiles drawn on both axes


REPARAM_GRID = 301  # points of the log tau grid


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
    t, p_t = kde(tau)
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


LEGEND = legend(
    (
        ("#D55E00", "mode of this coordinate's density (solid); the other coordinate's mode mapped here (dashed)"),
        ("#009E73", "median (solid) and the 5, 25, 75, 95% quantiles (dotted)"),
        ("#0072B2", "the slider's quantile"),
    )
)


def _lead(d: dict, model: str) -> str:
    """The page's title and its lead paragraph: why a quantile survives a change of coordinates and a peak does not."""
    return f"""
{nav(f'<a href="../{model}/index.html">the {model} report</a><a href="loss_demo.html">loss decides the estimator</a>')}
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
"""


def _rows(d: dict) -> tuple[str, str]:
    """The quantile table's rows (each level in tau, log tau and mapped back) and the estimators' rows."""
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
    return q_rows, e_rows


def render(out: Path, draws: np.ndarray, row: dict, model: str, name: str, note: str = "") -> Path:
    """Write ``out/teaching/reparam_demo.html`` from the saved NUTS draws of ``model``'s ``name``.

    Parameters
    ----------
    draws : ndarray of shape (n,)
        Positive draws.
    row : dict
        The parameter's row of ``results.json`` (``map``, ``map_unconstrained``, ``mean``, ...).
    note : str
        HTML put under its own heading at the end (the note on the different modes of τ).
    """
    d = reparam_numbers(draws)
    fmt = lambda v: f"{v:.3f}" if isinstance(v, (int, float)) else "—"  # noqa: E731
    q_rows, e_rows = _rows(d)
    data = {k: (np.round(np.asarray(v), 6).tolist() if isinstance(v, np.ndarray) else v) for k, v in d.items()}
    data["percentiles"] = {k: np.round(v, 6).tolist() for k, v in d["percentiles"].items()}
    body = (
        _lead(d, model)
        + f"""<div class="controls"><label for="level">quantile level</label>\
<input type="range" id="level" min="1" max="99"
value="50" step="1" style="width:22rem"> <b id="p"></b>
<label><input type="checkbox" id="modes" checked> modes</label>
<label><input type="checkbox" id="quantiles" checked> quantiles</label></div>
<dl class="readout"><dt>quantile of τ</dt><dd id="q-tau"></dd><dt>quantile of log τ</dt><dd id="q-eta"></dd>
<dt>exp(quantile of log τ)</dt><dd id="exp-q-eta"></dd></dl>
<svg id="tau-plot" width="960" height="260" role="img" aria-label="density of tau"
style="max-width:100%;height:auto;display:block"></svg>
<svg id="eta-plot" width="960" height="260" role="img" aria-label="density of log tau"
style="max-width:100%;height:auto;display:block"></svg>
<p class="legend">{LEGEND}</p>
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
{embed("reparam-data", data)}
<script>{SVG_JS}{REPARAM_SCRIPT}</script>
"""
    )
    if note:
        body += f'<h2 id="modes">Which mode of τ? The peaks on these pages, side by side</h2>{note}'
    return write(out, "reparam_demo.html", "The mode moves, the median does not", body)
