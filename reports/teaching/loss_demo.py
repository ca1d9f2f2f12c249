"""The loss page: which point estimate minimises which expected loss, from the saved NUTS draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import optimize

from ..html import asset, embed, legend
from ..plots.style import DENSITY, STYLES, kde
from .common import LOSS_MODEL, LOSS_PARAMETER, SVG_JS, nav, write

LOSS_SCRIPT = asset("loss_demo.js")
LOSS_CURVES = ("grid", "zero_one", "absolute", "squared")  # the arrays the page's script draws


WINDOW_SDS = 0.1  # half-width of the 0-1 loss's window, in posterior sds ("narrow")


LOSS_GRID = 401  # candidate estimates on the loss page


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


def render(out: Path, draws: np.ndarray, row: dict) -> Path:
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
{nav(f'<a href="../{LOSS_MODEL}/index.html">the {LOSS_MODEL} report</a>')}
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
<div class="controls"><label for="candidate">Try a candidate a =</label>
<input type="range" id="candidate" min="0" max="{LOSS_GRID - 1}" value="{mid}" step="1" style="width:24rem">
<b id="a"></b></div>
<dl class="readout"><dt>expected 0-1 loss</dt><dd id="loss-zero_one"></dd><dt>expected absolute loss</dt>
<dd id="loss-absolute"></dd><dt>expected squared loss</dt><dd id="loss-squared"></dd></dl>
<svg id="loss-density" width="960" height="240" role="img" aria-label="posterior density of {name}"></svg>
<p class="legend">{_legend(mins)}</p>
<svg id="plot-zero_one" class="loss-plot" width="960" height="150" role="img" aria-label="expected 0-1 loss"></svg>
<svg id="plot-absolute" class="loss-plot" width="960" height="150" role="img"
aria-label="expected absolute loss"></svg>
<svg id="plot-squared" class="loss-plot" width="960" height="150" role="img" aria-label="expected squared loss"></svg>
<p>Each curve is a candidate's expected loss; its lowest point (the dot on its dashed line) is that loss's best
estimate. The grey line is the candidate a of the slider: move it and watch the three losses change, and where each
one bottoms out.</p>
<h2>The minimisers</h2>
<table><thead><tr><th>loss</th><th>its minimiser is</th><th>minimiser of the expected loss</th>
<th>from the same draws in results.json</th></tr></thead><tbody>{rows}</tbody></table>
<p>The last column is what <code>modemean run</code> reported: the mean and median of the draws, and the
sample mode (the half-sample mode, <code>az.mode</code>), a different estimator of the peak than the densest
±h window, so those two agree only roughly. The posterior mode found by optimisation (find_MAP) is on the
boundary τ = 0 for this model (see its report).</p>
{embed("loss-data", _page_data(draws, losses))}
<script>{SVG_JS}{LOSS_SCRIPT}</script>
"""
    return write(out, "loss_demo.html", "Loss decides the estimator", body)


def _legend(mins: dict) -> str:
    """The swatches: the density, each loss's best estimate with its value, the slider's candidate."""
    items = [(DENSITY, "NUTS density (KDE)")]
    items += [
        (STYLES[marker][0], f"{words}: {mins[key]:.2f} (minimises {label})") for key, label, marker, words in LOSSES
    ]
    return legend([*items, ("#888", "the candidate a")])


def _page_data(draws: np.ndarray, losses: dict) -> dict:
    """What the page's script draws: the curves on the grid, the density up to the grid's end, the minimisers."""
    grid = losses["grid"]
    x, pdf = kde(draws)
    keep = x <= grid[-1]
    data = {k: np.round(np.asarray(losses[k]), 6).tolist() for k in LOSS_CURVES}
    data["density"] = {"x": np.round(x[keep], 6).tolist(), "pdf": np.round(pdf[keep], 6).tolist()}
    data["losses"] = [
        {"key": key, "label": label, "colour": STYLES[marker][0], "minimiser": losses["minimiser"][key]}
        for key, label, marker, _ in LOSSES
    ]
    return data


def _loss_row_value(row: dict, column: str) -> str:
    value = row.get(column)
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"
