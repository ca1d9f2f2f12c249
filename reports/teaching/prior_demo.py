"""The prior page: how the prior's scale moves the MAP from the MLE."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..html import asset, embed
from ..plots.style import RC
from .common import SVG_JS, nav, png, write

PRIOR_SCRIPT = asset("prior_demo.js")


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


def _page_data(data: dict) -> dict:
    """What the page's script draws: the Laplace path (scales, MAP, mean, zero tolerance), the MLE, the colours."""
    lap = data["laplace"]
    keys = ("scales", "scale", "map", "mean", "zero_atol")
    colours = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["tab10"].colors]
    return {"laplace": {k: lap[k] for k in keys}, "mle": list(data["mle"]), "colours": colours}


def render(out: Path, data: dict) -> Path:
    """Write ``out/teaching/prior_demo.html`` from :func:`comparisons.teaching.prior_demo.prior_demo_data`'s numbers."""
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
        nav(
            '<a href="../sparse_regression/index.html">the sparse_regression report</a>'
            '<a href="../ridge_regression/index.html">the ridge_regression report</a>'
        )
    }
<h1>MAP = MLE + log prior: flattening the prior</h1>
<p class="lead">The posterior mode maximises log p(β | y) = log p(y | β) + log p(β) + constant: the
log-likelihood, which the MLE maximises alone, plus the log prior. With a Laplace prior of scale b the log prior
is −Σ|β<sub>j</sub>|/b, an L1 penalty (the lasso); with a Gaussian prior of sd τ it is −Σβ<sub>j</sub>²/(2τ²), an
L2 penalty (ridge). A tight prior (small b or τ) pulls every coefficient towards 0; as the prior widens its
penalty fades and the MAP slides to the MLE (◄ on the right edge of the figure below).</p>
<p class="lead">The posterior mean (dashed, □) travels beside the mode but is a different point: the Laplace
prior's kink at 0 makes the mode set weak coefficients <b>exactly to zero</b>, the lasso's variable selection,
while the mean, an average over both signs, is not (it is small only where the posterior is nearly symmetric
about 0). Under the Gaussian prior the posterior is Gaussian,
so mode and mean are one and the same curve, shrunk towards 0 but never exactly 0.</p>
<div class="controls"><label for="scale">Laplace scale b =</label>
<input type="range" id="scale" min="0" max="{len(lap["scales"]) - 1}" value="0" step="1" style="width:20rem">
<b id="b"></b></div>
<dl class="readout"><dt>MAP (find_MAP)</dt><dd id="map"></dd><dt>posterior mean (NUTS)</dt><dd id="mean"></dd>
<dt>coefficients exactly 0 at the MAP</dt><dd id="zeros"></dd></dl>
<svg id="prior-plot" width="960" height="380" role="img"
aria-label="the MAP and the posterior mean of each coefficient as the Laplace prior widens"></svg>
<p>Slide the scale: the filled dots are the MAP of each coefficient (solid paths), the open dots the posterior mean
(dashed paths). Both paths of both priors, with the MLE on the right edge:</p>
{png(_prior_figure(data), "coefficient paths of the MAP and the posterior mean as the prior widens")}
<h2>Exact zeros at the mode (Laplace prior)</h2>
<table><thead><tr><th>scale b</th><th>L1 penalty σ²/b</th><th>coefficients zero at the MAP
(|β| &lt; {atol:g})</th><th>which</th><th>largest |posterior mean| among them</th><th>max |MAP − MLE|</th>
<th>max |mean − MLE|</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
<h2>How these numbers were computed</h2>
<ul><li>MAP: modemean's find_MAP solver (pm.find_MAP, L-BFGS-B polished by Powell where it stalls at the L1
kink) on the catalog's <code>sparse_regression</code> file at each scale b; the last point (b =
{lap["scales"][-1]:g}) is practically flat.</li>
<li>Posterior mean: modemean's NUTS solver with modest settings ({nuts["chains"]} chains ×
{nuts["draws"]} draws after {nuts["tune"]} tuning steps): a Monte Carlo estimate, standard error up to
{np.max(lap["mean_se"]):.3f}.</li>
<li>MLE: modemean's EM without the prior (least squares), the <code>mle</code> column of the reports.</li>
<li>Gaussian prior: the <code>ridge_regression</code> model file's closed form, the exact conjugate posterior mean
(= mode) at each τ.</li></ul>
<p>Computed by <code>modemean teach</code> (seed {data["seed"]}); this page only draws the saved numbers.</p>
{embed("prior-data", _page_data(data))}
<script>{SVG_JS}{PRIOR_SCRIPT}</script>
"""
    return write(out, "prior_demo.html", "MAP = MLE + log prior", body)
