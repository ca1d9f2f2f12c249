"""The model page's figures: posterior densities, approximations, the EM trace, reparameterisation."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from scipy import stats

from modemean.comparisons.results.schema import format_gap, is_number

from ..load import draws_spread
from .style import DENSITY, HDI_FILL, LAPLACE, MORE_STYLES, STYLES, figure, kde, rc


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
    with rc():
        fig, (ax,) = figure(9.5, 4.8)
        handles = []
        lo, hi = _x_range(row, draws, markers)
        has_draws = draws_spread(draws)  # constant draws have no density (ArviZ's KDE would warn)
        if has_draws:
            grid, pdf = kde(draws)
            ax.plot(grid, pdf, color=DENSITY, lw=2.2)
            handles.append(Line2D([], [], color=DENSITY, lw=2.2, label="NUTS density"))
            if is_number(row.get("hdi_low")) and is_number(row.get("hdi_high")):
                inside = (grid >= row["hdi_low"]) & (grid <= row["hdi_high"])
                ax.fill_between(grid, pdf, where=inside, color=HDI_FILL, lw=0)
                handles.append(Patch(color=HDI_FILL, label="94% HDI"))
        _laplace_curve(ax, row, draws if has_draws else None, lo, hi, handles)
        ax.set_xlim(lo, hi)
        ax.set_ylim(bottom=0)
        top = ax.get_ylim()[1]
        _markers(ax, row, markers, (lo, hi, top), handles)
        gap = row.get("gap_sd")
        ax.set_title(f"{name}" + (f"   (gap_sd = {format_gap(gap)})" if is_number(gap) else ""), loc="left")
        ax.set_xlabel(name)
        ax.set_ylabel("density")
        fig.legend(handles=handles, loc="outside right center", frameon=False)
    return fig


def _laplace_curve(ax, row: dict, draws: np.ndarray | None, lo: float, hi: float, handles: list) -> None:
    """The Laplace normal at the MAP; with positive ``draws``, its mass below 0 hatched and its share labelled."""
    if is_number(row.get("map")) and is_number(row.get("laplace_sd")) and row["laplace_sd"] > 0:
        x = np.linspace(lo, hi, 400)
        normal = stats.norm(row["map"], row["laplace_sd"])
        label, colour, style = LAPLACE
        ax.plot(x, normal.pdf(x), color=colour, ls=style, lw=2.0)
        handles.append(Line2D([], [], color=colour, ls=style, lw=2.0, label=label))
        below = normal.cdf(0.0)
        if draws is not None and np.min(draws) >= 0 and below >= 0.005 and lo < 0 < hi:
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


def _markers(ax, row: dict, markers: dict[str, str], frame: tuple[float, float, float], handles: list) -> None:
    """A vertical line per estimator (earlier ones wider); one outside ``lo..hi`` is an arrow at the edge."""
    lo, hi, top = frame
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
    with rc():
        fig, (ax,) = figure(8.0, 4.0)
        low, high = np.quantile(draws, [0.005, 0.995])
        span = high - low
        for values in filter(lambda v: v is not None, approximations.values()):
            q_low, q_high = np.quantile(values, [0.02, 0.98])
            low, high = min(low, max(q_low, low - span)), max(high, min(q_high, high + span))
        grid, pdf = kde(draws)
        ax.fill_between(grid, pdf, color=HDI_FILL, lw=0)
        ax.plot(grid, pdf, color=DENSITY, lw=2.5, label="NUTS (reference)")
        for (label, values), (colour, style) in zip(approximations.items(), MORE_STYLES * 2, strict=False):
            if values is None:
                continue
            inside = values[(values >= low - span) & (values <= high + span)]
            if inside.size < 0.5 * values.size or np.ptp(inside) == 0:
                ax.plot([], [], color=colour, ls=style, lw=2, label=f"{label} (mostly outside this range)")
                continue
            grid, pdf = kde(inside)
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
    with rc():
        fig, axes = figure(6.0 * len(runs) + 1.0, 4.6, len(runs))
        colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]
        for ax, run in zip(axes, runs, strict=True):
            _em_trace_panel(ax, run, traces[run], colours)
    return fig


def _em_trace_panel(ax, run: str, restarts: list[np.ndarray], colours: list[str]) -> None:
    """One run's panel: each restart's distance to the best objective, decreases marked, the rounding floor."""
    finite = [t[np.isfinite(t)] for t in restarts]
    best = max((float(t.max()) for t in finite if t.size), default=0.0)
    floor = 1e-13 * max(1.0, abs(best))
    decreases = 0
    # restarts that end within rounding of the best are tied: one is labelled best, the rest "tied"
    ends = [float(t.max()) if t.size else -np.inf for t in finite]
    top = int(np.argmax(ends)) if ends else 0
    tied = [k for k, end in enumerate(ends) if best - end <= floor]
    for k, trace in enumerate(restarts):
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
        ax.plot(it[ok], gap, color=colours[k % len(colours)], lw=1.8, marker="o", ms=3, label=f"restart {k}{mark}")
        down = np.flatnonzero(np.diff(trace) < -floor) + 1
        decreases += down.size
        ax.plot(down, np.maximum(best - trace[down], floor), ls="none", marker="v", ms=11, color="#C00000", zorder=5)
    ax.axhline(floor, color="#888888", ls=":", lw=1.2)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    title = "MAP-EM (with prior)" if run == "em" else "ML-EM (no prior)" if run == "mle" else run
    n = len(restarts)
    ax.set_title(f"{title}: {n} restart{'s' if n != 1 else ''}", loc="left")
    ax.set_xlabel("iteration")
    ax.set_ylabel("best objective − objective")
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="#888888", ls=":", label="rounding level"))
    if decreases:
        handles.append(Line2D([], [], ls="none", marker="v", ms=11, color="#C00000", label=f"decrease ({decreases})"))
    ax.legend(handles=handles, loc="upper right", frameon=False, fontsize=10)


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
    with rc():
        fig, (left, right) = figure(13.0, 4.8, 2)
        c_mode, s_mode = STYLES["mode"]
        c_med, s_med = STYLES["median"]
        for ax, values, xlabel in ((left, draws, name), (right, logs, f"log {name}")):
            grid, pdf = kde(values)
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
