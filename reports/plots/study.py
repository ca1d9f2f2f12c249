"""The study page's figures: bias and RMSE of each estimator, interval coverage, SBC ranks."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from modemean.comparisons.results.schema import is_number, wilson

from .style import HDI_FILL, MORE_STYLES, STYLES, figure, rc

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
    with rc():
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
    with rc():
        fig, axes = figure(12.0, 4.2, 2)
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
    with rc():
        fig, (ax,) = figure(9.0, 1.2 + 0.42 * len(params))
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
            cells = [coverage[param].get(kind) for param in params]
            low_edge = min(low_edge, _coverage_points(ax, cells, y + offset, (colour, marker)))
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


def _coverage_points(ax, cells: list, y: np.ndarray, style: tuple[str, str]) -> float:
    """One interval's coverage rate per parameter (row ``y``) with its Wilson interval; the lowest bound drawn."""
    colour, marker = style
    low = 1.0
    for c, yk in zip(cells, y, strict=True):
        if not c or not c.get("n"):
            continue
        lo, hi = wilson(c["covered"], c["n"])
        low = min(low, lo)
        ax.errorbar(
            c["rate"],
            yk,
            xerr=[[c["rate"] - lo], [hi - c["rate"]]],
            fmt=marker,
            ms=7,
            color=colour,
            elinewidth=2,
            capsize=3,
        )
    return low


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
    with rc():
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
