"""A parameter's posterior density with every estimator marked; estimators that coincide drawn once.

The figures carry no legend of their own: the page shows one legend (:func:`legend_html`) for all of
them; each estimator line is labelled on the plot, and estimators at the same value share one line
and one label (``map = em``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from modemean.comparisons.results.schema import format_gap, is_number

from ..load import draws_spread
from .style import DENSITY, HDI_FILL, LAPLACE, MORE_STYLES, STYLES, figure, kde, rc

__all__ = ["COINCIDE", "coinciding", "density_figure", "legend_items", "style_of"]

COINCIDE = 0.01  # estimators closer than this many posterior sds (or plot widths) are drawn as one line


def coinciding(row: dict, keys: list[str], scale: float) -> list[list[str]]:
    """The estimators ``keys`` with a number in ``row``, grouped where their values lie within
    ``COINCIDE * scale`` of the group's first, in the order of ``keys``: ``[["map", "em"], ["mean"]]``."""
    groups: list[list[str]] = []
    for key in keys:
        value = row.get(key)
        if not is_number(value):
            continue
        group = next((g for g in groups if abs(row[g[0]] - value) <= COINCIDE * scale), None)
        if group is None:
            groups.append([key])
        else:
            group.append(key)
    return groups


def style_of(key: str, keys: list[str]) -> tuple[str, object]:
    """An estimator's colour and line style: :data:`STYLES`, else the next of :data:`MORE_STYLES`."""
    others = [k for k in keys if k not in STYLES]
    return STYLES.get(key) or MORE_STYLES[others.index(key) % len(MORE_STYLES)]


def density_figure(name: str, row: dict, draws: np.ndarray | None, markers: dict[str, str]) -> Figure:
    """The NUTS density of one parameter with every estimator marked.

    Parameters
    ----------
    name : str
        Flat parameter name, e.g. ``"tau"`` or ``"theta[0]"``.
    row : dict
        The parameter's row of ``results.json`` (``map``, ``em``, ``hdi_low``, ...; ``None`` where missing).
    draws : ndarray of shape (n,) or None
        NUTS draws; without them only the Laplace curve and the point estimates are drawn.
    markers : dict of str to str
        The columns to draw as vertical lines (their legend labels are the page's, not the figure's).

    Returns
    -------
    Figure
        Density (grey), shaded 94% HDI, Laplace normal curve at the MAP (dotted), one vertical line per
        group of coinciding estimators (:func:`coinciding`), in the first one's style and labelled on the
        plot (``map = em``); an estimator outside the plotted range is an arrow at the edge with its value.
        When every draw is positive and the Laplace curve has mass below 0, that mass is hatched and its
        share printed. No legend: the page has one.
    """
    with rc():
        fig, (ax,) = figure(9.0, 3.6)
        lo, hi = _x_range(row, draws, markers)
        has_draws = draws_spread(draws)  # constant draws have no density (ArviZ's KDE would warn)
        if has_draws:
            grid, pdf = kde(draws)
            ax.plot(grid, pdf, color=DENSITY, lw=2.2)
            if is_number(row.get("hdi_low")) and is_number(row.get("hdi_high")):
                inside = (grid >= row["hdi_low"]) & (grid <= row["hdi_high"])
                ax.fill_between(grid, pdf, where=inside, color=HDI_FILL, lw=0)
        _laplace_curve(ax, row, draws if has_draws else None, lo, hi)
        ax.set_xlim(lo, hi)
        ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.25)  # room for the labels at the top
        scale = row["sd"] if is_number(row.get("sd")) and row["sd"] > 0 else hi - lo
        _markers(ax, row, list(markers), coinciding(row, list(markers), scale), (lo, hi, ax.get_ylim()[1]))
        gap = row.get("gap_sd")
        ax.set_title(f"{name}" + (f"   (gap_sd = {format_gap(gap)})" if is_number(gap) else ""), loc="left")
        ax.set_xlabel(name)
        ax.set_yticks([])
    return fig


def _laplace_curve(ax, row: dict, draws: np.ndarray | None, lo: float, hi: float) -> None:
    """The Laplace normal at the MAP; with positive ``draws``, its mass below 0 hatched and its share labelled."""
    if is_number(row.get("map")) and is_number(row.get("laplace_sd")) and row["laplace_sd"] > 0:
        x = np.linspace(lo, hi, 400)
        normal = stats.norm(row["map"], row["laplace_sd"])
        _, colour, style = LAPLACE
        ax.plot(x, normal.pdf(x), color=colour, ls=style, lw=2.0)
        below = normal.cdf(0.0)
        if draws is not None and np.min(draws) >= 0 and below >= 0.005 and lo < 0 < hi:
            neg = x[x <= 0]
            ax.fill_between(neg, normal.pdf(neg), facecolor="none", edgecolor=colour, hatch="///", lw=0)
            ax.annotate(
                f"Laplace mass below 0: {below:.0%}\n(the posterior has none)",
                xy=(lo, 0.55 * ax.get_ylim()[1]),
                fontsize=10,
                color=colour,
            )


def _markers(ax, row: dict, keys: list[str], groups: list[list[str]], frame: tuple[float, float, float]) -> None:
    """One vertical line per group of coinciding estimators, labelled ``map = em`` at its top; a group
    outside ``lo..hi`` is an arrow at the edge with its value."""
    lo, hi, top = frame
    for i, group in enumerate(groups):
        colour, style = style_of(group[0], keys)
        value, label = row[group[0]], " = ".join(group)
        y = top * (0.95 - 0.09 * (i % 6))
        box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1}
        if lo <= value <= hi:
            ax.axvline(value, color=colour, ls=style, lw=2.6, zorder=3 + i)
            right = value < lo + 0.6 * (hi - lo)
            ax.annotate(
                label,
                xy=(value, y),
                xytext=(4 if right else -4, 0),
                textcoords="offset points",
                ha="left" if right else "right",
                va="center",
                fontsize=10,
                color=colour,
                bbox=box,
            )
        else:  # off the plotted range: an arrow at the edge, labelled with the value
            edge, align = (hi, "right") if value > hi else (lo, "left")
            text = f"{label} = {value:.3g} →" if value > hi else f"← {label} = {value:.3g}"
            ax.annotate(text, xy=(edge, y), ha=align, va="center", fontsize=10, color=colour, bbox=box)


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


def _dash(style) -> str:
    """An SVG ``stroke-dasharray`` for a matplotlib line style."""
    if style == "-":
        return ""
    if isinstance(style, str):
        return {"--": "6 3", ":": "1.5 2", "-.": "6 2 1.5 2"}.get(style, "")
    return " ".join(f"{v * 1.5:g}" for v in style[1])


def legend_items(markers: dict[str, str]) -> list[tuple[str, str]]:
    """The page's one legend for every density figure: ``(svg sample, label)`` per estimator, then the
    NUTS density, its HDI and the Laplace curve (the SVG is markup; the label text)."""

    def line(colour, style, width=2.6):
        dash = _dash(style)
        dash = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<svg width="34" height="12" aria-hidden="true"><line x1="1" y1="6" x2="33" y2="6" '
            f'stroke="{colour}" stroke-width="{width}"{dash}/></svg>'
        )

    keys = list(markers)
    items = [(line(*style_of(k, keys)), f"{k}: {label}") for k, label in markers.items()]
    items.append((line(DENSITY, "-", 2.2), "NUTS density"))
    items.append(
        (
            f'<svg width="34" height="12" aria-hidden="true"><rect width="34" height="12" fill="{HDI_FILL}"/></svg>',
            "94% HDI",
        )
    )
    label, colour, style = LAPLACE
    items.append((line(colour, style, 2.0), label))
    return items
