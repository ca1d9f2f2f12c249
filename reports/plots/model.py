"""The model page's figures (the densities are in :mod:`.density`): approximations, the EM trace, reparameterisation."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .style import DENSITY, HDI_FILL, MORE_STYLES, STYLES, figure, kde, rc


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
