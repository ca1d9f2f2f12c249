"""The report's figures (matplotlib, PNG), drawn in one style with one legend for every page.

Each function returns a :class:`matplotlib.figure.Figure` (no pyplot state, so rendering many
pages never accumulates open figures); :func:`save` writes it as PNG.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter
from scipy import stats

from modemean.comparisons.results.schema import format_gap, is_number, wilson

from .load import draws_spread

__all__ = [
    "STYLES",
    "approximations_figure",
    "coverage_figure",
    "density_figure",
    "em_trace_figure",
    "estimators_figure",
    "reparameterisation_figure",
    "save",
    "sbc_figure",
    "vector_estimators_figure",
]

# One look for every page: estimator column -> (colour, line style); the legend labels come from the
# results' schema (each solver's column declarations). Okabe-Ito colours (distinguishable with
# colour-blindness); line styles keep them apart in black and white.
STYLES = {
    "map": ("#D55E00", "-"),
    "map_unconstrained": ("#CC79A7", (0, (6, 2))),
    "em": ("#0072B2", "-"),
    "mle": ("#56B4E9", (0, (6, 2))),
    "mean": ("#000000", "-"),
    "median": ("#009E73", (0, (8, 2, 2, 2))),
    "mode": ("#E69F00", (0, (2, 1.5))),
}
MORE_STYLES = [
    ("#882255", (0, (4, 1, 1, 1))),
    ("#117733", (0, (1, 1))),
    ("#999933", (0, (5, 1))),
    ("#332288", (0, (3, 1, 1, 1, 1, 1))),
]  # for a solver's column not in STYLES, in turn
DENSITY = "#4D4D4D"
HDI_FILL = "#C9D7E8"
LAPLACE = ("Laplace N(MAP, laplace_sd)", "#D55E00", (0, (1, 1.5)))
RC = {
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 13,
    "legend.fontsize": 11,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
DPI = 100


def save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` and return the path."""
    with _rc():
        fig.savefig(path, dpi=DPI, format="png")
    return path


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def _kde(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's KDE of ``values`` (n,): grid and density, each (m,)."""
    import arviz as az  # imported on first use: a second, which a report with nothing to redraw skips

    grid, pdf, _ = az.kde(np.asarray(values, dtype=float))
    return np.asarray(grid), np.asarray(pdf)


def density_figure(name: str, row: dict, draws: np.ndarray | None, markers: dict[str, str]) -> Figure:
    """The NUTS density of one parameter with every estimator marked.

    Parameters
    ----------
    name : str
        Flat parameter name, e.g. ``"tau"`` or ``"theta[0]"``.
    row : dict
        The parameter's row of ``results.json`` (``map``, ``em``, ``hdi_low``, ...; ``None``
        where missing).
    draws : ndarray of shape (n,) or None
        NUTS draws; without them only the Laplace curve and the point estimates are drawn.
    markers : dict of str to str
        The columns to draw as vertical lines and their legend labels (the schema's ``marker``).

    Returns
    -------
    Figure
        Density (grey), shaded 94% HDI, Laplace normal curve at the MAP (dotted), vertical lines
        for the estimators in ``markers`` (styles from :data:`STYLES`); an estimator outside the
        plotted range is shown as an arrow at the edge with its value. When every draw is positive and the Laplace curve
        has mass below 0, that mass is hatched and its share printed.
    """
    with _rc():
        fig, (ax,) = _figure(9.5, 4.8)
        handles = []
        lo, hi = _x_range(row, draws, markers)
        has_draws = draws_spread(draws)  # constant draws have no density (ArviZ's KDE would warn)
        if has_draws:
            grid, pdf = _kde(draws)
            ax.plot(grid, pdf, color=DENSITY, lw=2.2)
            handles.append(Line2D([], [], color=DENSITY, lw=2.2, label="NUTS density"))
            if is_number(row.get("hdi_low")) and is_number(row.get("hdi_high")):
                inside = (grid >= row["hdi_low"]) & (grid <= row["hdi_high"])
                ax.fill_between(grid, pdf, where=inside, color=HDI_FILL, lw=0)
                handles.append(Patch(color=HDI_FILL, label="94% HDI"))
        if is_number(row.get("map")) and is_number(row.get("laplace_sd")) and row["laplace_sd"] > 0:
            x = np.linspace(lo, hi, 400)
            normal = stats.norm(row["map"], row["laplace_sd"])
            label, colour, style = LAPLACE
            ax.plot(x, normal.pdf(x), color=colour, ls=style, lw=2.0)
            handles.append(Line2D([], [], color=colour, ls=style, lw=2.0, label=label))
            below = normal.cdf(0.0)
            if has_draws and np.min(draws) >= 0 and below >= 0.005 and lo < 0 < hi:
                neg = x[x <= 0]
                ax.fill_between(neg, normal.pdf(neg), facecolor="none", edgecolor=colour, hatch="///", lw=0)
                handles.append(
                    Patch(
                        facecolor="none",
                        edgecolor=colour,
                        hatch="///",
                        label=f"Laplace mass below 0: {below:.0%}\n(the posterior has none)",
                    )
                )
        ax.set_xlim(lo, hi)
        ax.set_ylim(bottom=0)
        top = ax.get_ylim()[1]
        extra = iter(MORE_STYLES * len(markers))
        for i, (key, label) in enumerate(markers.items()):
            colour, style = STYLES.get(key) or next(extra)
            value = row.get(key)
            if not is_number(value):
                continue
            # earlier markers are drawn wider, so estimators that coincide show as nested stripes
            width = max(7.0 - 1.0 * i, 2.4)
            handles.append(Line2D([], [], color=colour, ls=style, lw=width, label=label))
            if lo <= value <= hi:
                ax.axvline(value, color=colour, ls=style, lw=width, zorder=2 + i)
            else:  # off the plotted range: an arrow at the edge, labelled with the value
                edge, align = (hi, "right") if value > hi else (lo, "left")
                text = f"{key} = {value:.3g} →" if value > hi else f"← {key} = {value:.3g}"
                ax.annotate(
                    text,
                    xy=(edge, top * (0.9 - 0.09 * i)),
                    ha=align,
                    va="center",
                    fontsize=11,
                    color=colour,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85},
                )
        gap = row.get("gap_sd")
        ax.set_title(f"{name}" + (f"   (gap_sd = {format_gap(gap)})" if is_number(gap) else ""), loc="left")
        ax.set_xlabel(name)
        ax.set_ylabel("density")
        fig.legend(handles=handles, loc="outside right center", frameon=False)
    return fig


def _x_range(row: dict, draws: np.ndarray | None, markers: dict[str, str]) -> tuple[float, float]:
    """Plot range: the bulk of the draws, widened to show the Laplace curve's tails (within reason)."""
    if draws_spread(draws):
        lo, hi = np.quantile(draws, [0.002, 0.998])
        span = hi - lo if hi > lo else 1.0
    else:
        centre = next((row[k] for k in markers if is_number(row.get(k))), 0.0)
        span = 2 * row["laplace_sd"] if is_number(row.get("laplace_sd")) and row["laplace_sd"] > 0 else 1.0
        lo, hi = centre - span, centre + span
    if is_number(row.get("map")) and is_number(row.get("laplace_sd")) and lo <= row["map"] <= hi:
        lo = max(min(lo, row["map"] - 2.5 * row["laplace_sd"]), lo - 0.5 * span)
        hi = min(max(hi, row["map"] + 2.5 * row["laplace_sd"]), hi + 0.5 * span)
    pad = 0.03 * (hi - lo)
    return float(lo - pad), float(hi + pad)


def approximations_figure(name: str, draws: np.ndarray, approximations: dict[str, np.ndarray | None]) -> Figure:
    """The NUTS density of one parameter and each approximation's density (KDEs of their draws).

    Parameters
    ----------
    name : str
        Flat parameter name.
    draws : ndarray of shape (n,)
        NUTS draws (the reference, grey and filled).
    approximations : dict of str to ndarray or None
        Legend label (e.g. ``"ADVI (mean-field), k̂ 0.48"``) to that approximation's draws, every
        approximation in registry order so that each keeps its colour on every page; ``None`` for one
        without draws (failed): not drawn.

    Returns
    -------
    Figure
        The x range is NUTS's 0.5%-99.5% quantiles widened to hold most of each approximation's mass
        (an approximation far off is cut at the edge, and its legend label says it is outside).
    """
    with _rc():
        fig, (ax,) = _figure(8.0, 4.0)
        low, high = np.quantile(draws, [0.005, 0.995])
        span = high - low
        for values in filter(lambda v: v is not None, approximations.values()):
            q_low, q_high = np.quantile(values, [0.02, 0.98])
            low, high = min(low, max(q_low, low - span)), max(high, min(q_high, high + span))
        grid, pdf = _kde(draws)
        ax.fill_between(grid, pdf, color=HDI_FILL, lw=0)
        ax.plot(grid, pdf, color=DENSITY, lw=2.5, label="NUTS (reference)")
        for (label, values), (colour, style) in zip(approximations.items(), MORE_STYLES * 2, strict=False):
            if values is None:
                continue
            inside = values[(values >= low - span) & (values <= high + span)]
            if inside.size < 0.5 * values.size or np.ptp(inside) == 0:
                ax.plot([], [], color=colour, ls=style, lw=2, label=f"{label} (mostly outside this range)")
                continue
            grid, pdf = _kde(inside)
            ax.plot(grid, pdf * inside.size / values.size, color=colour, ls=style, lw=2, label=label)
        ax.set_xlim(low, high)
        ax.set_ylim(bottom=0)
        ax.set_xlabel(name)
        ax.set_yticks([])
        ax.set_title(f"{name}: NUTS and the approximations", loc="left")
        ax.legend(loc="upper right", frameon=False)
    return fig


def em_trace_figure(traces: dict[str, list[np.ndarray]]) -> Figure:
    """EM's climb: distance of each restart's objective to the best objective, by iteration.

    Parameters
    ----------
    traces : dict of str to list of ndarray
        Run (``"em"`` with the prior, ``"mle"`` without) to one objective trace per restart.

    Returns
    -------
    Figure
        One panel per run; y is ``best - objective`` on a log scale (a straight line is EM's
        linear rate); values within rounding of the best sit on a dotted floor; an iteration
        where the objective went *down* is marked with a red triangle.
    """
    runs = [run for run in ("em", "mle") if traces.get(run)] + [r for r in traces if r not in ("em", "mle")]
    with _rc():
        fig, axes = _figure(6.0 * len(runs) + 1.0, 4.6, len(runs))
        colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]
        for ax, run in zip(axes, runs, strict=True):
            finite = [t[np.isfinite(t)] for t in traces[run]]
            best = max((float(t.max()) for t in finite if t.size), default=0.0)
            floor = 1e-13 * max(1.0, abs(best))
            decreases = 0
            # restarts that end within rounding of the best are tied: one is labelled best, the rest "tied"
            ends = [float(t.max()) if t.size else -np.inf for t in finite]
            top = int(np.argmax(ends)) if ends else 0
            tied = [k for k, end in enumerate(ends) if best - end <= floor]
            for k, trace in enumerate(traces[run]):
                it = np.arange(trace.size)
                ok = np.isfinite(trace)
                gap = np.maximum(best - trace[ok], floor)
                mark = (
                    (f" (best; {len(tied)} restarts tied)" if len(tied) > 1 else " (best)")
                    if k == top
                    else " (tied)"
                    if k in tied
                    else ""
                )
                ax.plot(
                    it[ok], gap, color=colours[k % len(colours)], lw=1.8, marker="o", ms=3, label=f"restart {k}{mark}"
                )
                down = np.flatnonzero(np.diff(trace) < -floor) + 1
                decreases += down.size
                ax.plot(
                    down, np.maximum(best - trace[down], floor), ls="none", marker="v", ms=11, color="#C00000", zorder=5
                )
            ax.axhline(floor, color="#888888", ls=":", lw=1.2)
            ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            title = "MAP-EM (with prior)" if run == "em" else "ML-EM (no prior)" if run == "mle" else run
            n = len(traces[run])
            ax.set_title(f"{title}: {n} restart{'s' if n != 1 else ''}", loc="left")
            ax.set_xlabel("iteration")
            ax.set_ylabel("best objective − objective")
            handles, _ = ax.get_legend_handles_labels()
            handles.append(Line2D([], [], color="#888888", ls=":", label="rounding level"))
            if decreases:
                handles.append(
                    Line2D([], [], ls="none", marker="v", ms=11, color="#C00000", label=f"decrease ({decreases})")
                )
            ax.legend(handles=handles, loc="upper right", frameon=False, fontsize=10)
    return fig


def reparameterisation_figure(name: str, draws: np.ndarray) -> Figure:
    """One positive parameter on its own scale and on the log scale, with each scale's mode.

    Parameters
    ----------
    name : str
    draws : ndarray of shape (n,)
        Positive NUTS draws.

    Returns
    -------
    Figure
        Left: density of ``name`` with its mode and median. Right: density of ``log name`` with
        its mode, its median, and where the left panel's mode lands (``log`` of it). The medians
        correspond (``median(log x) = log median(x)``); the modes do not.
    """
    draws = np.asarray(draws, dtype=float)
    logs = np.log(draws)
    with _rc():
        fig, (left, right) = _figure(13.0, 4.8, 2)
        c_mode, s_mode = STYLES["mode"]
        c_med, s_med = STYLES["median"]
        for ax, values, xlabel in ((left, draws, name), (right, logs, f"log {name}")):
            grid, pdf = _kde(values)
            mode, median = grid[np.argmax(pdf)], np.median(values)
            ax.plot(grid, pdf, color=DENSITY, lw=2.2)
            ax.axvline(mode, color=c_mode, ls=s_mode, lw=2.4, label=f"mode of this density = {mode:.3g}")
            ax.axvline(median, color=c_med, ls=s_med, lw=2.4, label=f"median = {median:.3g}")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("density")
            ax.set_ylim(bottom=0)
            if ax is left:
                mode_x, median_x = mode, median
            else:
                ax.axvline(
                    np.log(mode_x),
                    color=c_mode,
                    ls=":",
                    lw=1.4,
                    alpha=0.8,
                    label=f"log(mode of {name}) = {np.log(mode_x):.3g}",
                )
                mode_log, median_log = mode, median
        left.set_title(f"{name} on its own scale", loc="left")
        right.set_title(f"log {name}: the mode moves, the median does not", loc="left")
        left.legend(frameon=False, loc="upper right")
        right.legend(frameon=False, loc="upper left")
        fig.suptitle(
            f"mode of {name}: {mode_x:.3g}; exp(mode of log {name}) = {np.exp(mode_log):.3g}.   "
            f"median of {name}: {median_x:.3g}; exp(median of log {name}) = {np.exp(median_log):.3g}",
            fontsize=12,
        )
    return fig


def _rc():
    return matplotlib.rc_context(RC)


# ------------------------------------------------------------------------------- a simulation study's figures

INTERVAL_STYLES = {"hdi94": ("#000000", "o"), "laplace94": ("#D55E00", "s")}  # NUTS black, find_MAP's orange


def _estimator_colour(key: str, index: int) -> str:
    return (STYLES.get(key) or MORE_STYLES[index % len(MORE_STYLES)])[0]


def estimators_figure(rows: dict[str, dict[str, dict]], labels: dict[str, str], best: dict[str, list[str]]) -> Figure:
    """Bias and RMSE of each estimator, one row of two panels per (scalar) parameter.

    Parameters
    ----------
    rows : dict of str to dict of str to dict
        Parameter to estimator to its study numbers (``n``, ``bias``, ``bias_mcse``, ``rmse``,
        ``rmse_mcse``; an estimator whose numbers are ``None`` is left out).
    labels : dict of str to str
        Estimator key (``"map"``, ``"mean"``, ...) to how the page names it.
    best : dict of str to list of str
        Parameter to the estimators with the smallest RMSE (several when they tie); their names
        are set in bold.

    Returns
    -------
    Figure
        Left: bias ± 2 MCSE with a line at 0; right: RMSE ± 2 MCSE with a dotted line at the smallest.
        Estimators in the page's order from top to bottom, in the density figures' colours.
    """
    params = list(rows)
    height = sum(0.42 * max(len(rows[p]), 1) + 1.1 for p in params)
    with _rc():
        fig = Figure(figsize=(11.0, max(height, 2.4)), layout="constrained")
        grid = fig.add_gridspec(len(params), 2, height_ratios=[max(len(rows[p]), 1) for p in params])
        for r, param in enumerate(params):
            estimators = [e for e, v in rows[param].items() if is_number(v.get("rmse"))]
            y = np.arange(len(estimators))[::-1]
            for c, (stat, title) in enumerate((("bias", "bias"), ("rmse", "RMSE"))):
                ax = fig.add_subplot(grid[r, c])
                for k, (est, yk) in enumerate(zip(estimators, y, strict=True)):
                    v = rows[param][est]
                    value, mcse = v.get(stat), v.get(f"{stat}_mcse")
                    if not is_number(value):
                        continue
                    err = 2 * mcse if is_number(mcse) else 0.0
                    colour = _estimator_colour(est, k)
                    ax.errorbar(value, yk, xerr=err, fmt="o", ms=8, color=colour, elinewidth=2.2, capsize=4)
                if stat == "bias":
                    ax.axvline(0.0, color="#888888", lw=1.2)
                else:
                    smallest = min(rows[param][e]["rmse"] for e in estimators) if estimators else 0.0
                    ax.axvline(smallest, color="#888888", lw=1.2, ls=":")
                    ax.set_xlim(left=0)
                ax.set_yticks(y, [labels.get(e, e) for e in estimators])
                for tick, est in zip(ax.get_yticklabels(), estimators, strict=True):
                    if est in best.get(param, []):
                        tick.set_fontweight("bold")
                if c == 1:
                    ax.tick_params(labelleft=False)
                ax.set_ylim(-0.7, len(estimators) - 0.3)
                ax.set_title(f"{param}: {title} ± 2 MCSE", loc="left")
                ax.grid(axis="x", color="#eeeeee")
    return fig


def vector_estimators_figure(
    name: str, rows: dict[str, dict[str, dict]], labels: dict[str, str], estimators: list[str]
) -> Figure:
    """Bias and RMSE of each estimator across the entries of one vector parameter.

    Parameters
    ----------
    name : str
        The vector's name (``"eta"``).
    rows : dict of str to dict of str to dict
        Entry (``"eta[0]"``, ...) to estimator to its study numbers, as :func:`estimators_figure`.
    labels : dict of str to str
        Estimator key to its name on the page.
    estimators : list of str
        The estimators to draw, in legend order.

    Returns
    -------
    Figure
        Two panels (bias, RMSE) with the entries along x and each estimator's ± 2 MCSE bar,
        estimators side by side within an entry.
    """
    entries = list(rows)
    x = np.arange(len(entries))
    with _rc():
        fig, axes = _figure(12.0, 4.2, 2)
        width = 0.8 / max(len(estimators), 1)
        for ax, stat, title in ((axes[0], "bias", "bias"), (axes[1], "rmse", "RMSE")):
            for k, est in enumerate(estimators):
                values = [rows[e].get(est, {}).get(stat) for e in entries]
                errs = [rows[e].get(est, {}).get(f"{stat}_mcse") for e in entries]
                keep = [i for i, v in enumerate(values) if is_number(v)]
                if not keep:
                    continue
                ax.errorbar(
                    x[keep] + (k - (len(estimators) - 1) / 2) * width,
                    [values[i] for i in keep],
                    yerr=[2 * errs[i] if is_number(errs[i]) else 0.0 for i in keep],
                    fmt="o",
                    ms=6,
                    color=_estimator_colour(est, k),
                    elinewidth=1.8,
                    capsize=3,
                    label=labels.get(est, est),
                )
            if stat == "bias":
                ax.axhline(0.0, color="#888888", lw=1.2)
            else:
                ax.set_ylim(bottom=0)
            ax.set_xticks(x, [e.removeprefix(name) for e in entries])
            ax.set_xlabel(f"entry of {name}")
            ax.set_title(f"{name}: {title} ± 2 MCSE", loc="left")
            ax.grid(axis="y", color="#eeeeee")
        handles, names = axes[1].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside right center", frameon=False)
    return fig


def coverage_figure(coverage: dict[str, dict[str, dict]], labels: dict[str, str], nominal: float = 0.94) -> Figure:
    """How often each interval covered the true value, per parameter, against the nominal level.

    Parameters
    ----------
    coverage : dict of str to dict of str to dict
        Parameter to interval (``"hdi94"``, ``"laplace94"``) to ``{"n", "covered", "rate", "se"}``.
    labels : dict of str to str
        Interval key to its legend label.
    nominal : float, default 0.94
        The level the intervals claim.

    Returns
    -------
    Figure
        One row per parameter (top to bottom in the given order); each interval's rate with its 95%
        Wilson interval (from ``covered`` and ``n``); a vertical line at ``nominal`` and, shaded, the
        range where 95% of the rates of an interval that is exactly calibrated would fall with the
        study's number of replicates.
    """
    params = list(coverage)
    kinds = [k for k in labels if any(k in coverage[p] for p in params)]
    ns = [c["n"] for p in params for c in coverage[p].values() if c.get("n")]
    with _rc():
        fig, (ax,) = _figure(9.0, 1.2 + 0.42 * len(params))
        y = np.arange(len(params))[::-1]
        low_edge = nominal - 0.1
        if ns:
            n = float(np.median(ns))
            half = 1.959964 * np.sqrt(nominal * (1 - nominal) / n)
            ax.axvspan(nominal - half, min(nominal + half, 1.0), color="#e4e4e4", lw=0)
            low_edge = min(low_edge, nominal - 1.5 * half)
        ax.axvline(nominal, color="#555555", lw=1.5, ls="--")
        offsets = np.linspace(-0.15, 0.15, len(kinds)) if len(kinds) > 1 else [0.0]
        handles = []
        for kind, offset in zip(kinds, offsets, strict=True):
            colour, marker = INTERVAL_STYLES.get(kind, ("#117733", "D"))
            for param, yk in zip(params, y, strict=True):
                c = coverage[param].get(kind)
                if not c or not c.get("n"):
                    continue
                lo, hi = wilson(c["covered"], c["n"])
                low_edge = min(low_edge, lo)
                ax.errorbar(
                    c["rate"],
                    yk + offset,
                    xerr=[[c["rate"] - lo], [hi - c["rate"]]],
                    fmt=marker,
                    ms=7,
                    color=colour,
                    elinewidth=2,
                    capsize=3,
                )
            handles.append(Line2D([], [], ls="none", marker=marker, color=colour, ms=7, label=labels[kind]))
        handles.append(Line2D([], [], ls="--", color="#555555", label=f"nominal {nominal:.0%}"))
        if ns:
            handles.append(Patch(color="#e4e4e4", label=f"where 95% of an exact interval's rates fall (n = {n:.0f})"))
        ax.set_yticks(y, params)
        ax.set_ylim(-0.7, len(params) - 0.3)
        ax.set_xlim(max(low_edge - 0.02, 0.0), 1.005)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("share of replicates whose interval covered the true value (95% Wilson interval)")
        ax.grid(axis="x", color="#eeeeee")
        fig.legend(handles=handles, loc="outside upper center", ncols=2, frameon=False)
    return fig


def sbc_figure(sbc: dict[str, dict], ncols: int = 3, alpha: float = 0.01) -> Figure:
    """Simulation-based calibration: the rank histogram of each parameter (Talts et al. 2018).

    Parameters
    ----------
    sbc : dict of str to dict
        Parameter to ``{"draws", "bins", "counts", "expected", "band", "p_value"}``: the rank of the
        true value among ``draws`` posterior draws, counted in ``bins`` bins; ``expected`` per bin
        and ``band`` (its 99% range) if the ranks are uniform.
    ncols : int, default 3
        Panels per row.
    alpha : float, default 0.01
        A panel whose chi-square ``p_value`` is below this has its title in red.

    Returns
    -------
    Figure
        One panel per parameter: bars of the counts, the expected count (line) and the band (shaded);
        a bar outside the band is drawn in red.
    """
    params = list(sbc)
    ncols = max(1, min(ncols, len(params)))
    nrows = int(np.ceil(len(params) / ncols)) if params else 1
    with _rc():
        fig = Figure(figsize=(4.2 * ncols + 0.4, 3.2 * nrows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
        for ax, param in zip(axes, params, strict=False):
            s = sbc[param]
            counts = np.asarray(s["counts"], dtype=float)
            edges = np.linspace(0, s["draws"] + 1, counts.size + 1)  # ranks 0..draws, in equal bins
            lo, hi = s["band"]
            outside = (counts < lo) | (counts > hi)
            ax.axhspan(lo, hi, color=HDI_FILL, lw=0)
            ax.bar(
                edges[:-1],
                counts,
                width=0.92 * np.diff(edges),
                align="edge",
                color=np.where(outside, "#C00000", "#7f7f7f"),
            )
            ax.set_xlim(0, s["draws"] + 1)
            ax.axhline(s["expected"], color="#000000", lw=1.4)
            p = s.get("p_value")
            title = f"{param}   χ² p = {p:.2g}" if is_number(p) else param
            ax.set_title(title, loc="left", color="#C00000" if is_number(p) and p < alpha else "#1a1a1a")
            ax.set_xlabel(f"rank of the true value among {s['draws']} draws")
            ax.set_ylim(0, max(float(counts.max(initial=0.0)), hi) * 1.12 + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in axes[len(params) :]:
            ax.set_visible(False)
        axes[0].set_ylabel("replicates")
    return fig
