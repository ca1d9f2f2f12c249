"""The model page's posterior densities: the most important parameters first, one legend for them all.

Model-level parameters come before latent vectors, then the largest |gap| (:func:`.ranking.by_importance`);
a latent vector that has a forest plot gets only its :data:`N_LATENT` most skewed entries drawn. Each
caption says what is special about its parameter: the kind of its gap, its skewness, the estimators
that coincide.
"""

from __future__ import annotations

from html import escape

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__
from modemean.comparisons.results.schema import format_gap, format_number, is_number

from .html import N_SHOWN
from .load import ModelResults, draws_spread, zero_spread
from .plots import density as plots
from .ranking import KIND_WORDS, by_importance, is_latent, kind_text
from .tables import shown_columns

__all__ = ["N_DRAWN", "N_LATENT", "caption", "densities_section", "drawn"]

N_DRAWN = 40  # at most this many density figures per page (an image model has hundreds of parameters)
N_LATENT = 6  # entries of latent vectors drawn (the forest plot shows them all)


def drawn(results: ModelResults) -> list[str]:
    """The parameters that get a density figure, in page order: every model-level one, then the
    :data:`N_LATENT` latent entries with the largest gaps; at most :data:`N_DRAWN`."""
    order = by_importance(results)
    model = [n for n in order if not is_latent(results, n)]
    latent = [n for n in order if is_latent(results, n)]
    return (model + latent[: N_LATENT if results.nuts is not None else N_DRAWN])[:N_DRAWN]


def caption(results: ModelResults, name: str, markers: dict[str, str]) -> str:
    """What is special about ``name``: its gap and the gap's kind, its skewness, the estimators that coincide."""
    row = results.parameters[name]
    parts = [name]
    gap, kind = results.gap(name), results.gap_kind(name)
    if gap:
        parts.append(
            f"{gap[1]} {format_gap(gap[0])}"
            + (f", a {KIND_WORDS.get(kind, kind)} gap ({kind_text(kind)})" if kind else "")
        )
    if is_number(row.get("skewness")):
        parts.append(f"skewness {format_gap(row['skewness'])}")
    if is_latent(results, name):
        parts.append("an entry of a latent vector")
    scale = row["sd"] if is_number(row.get("sd")) and row["sd"] > 0 else 1.0
    same = [" = ".join(g) for g in plots.coinciding(row, list(markers), scale) if len(g) > 1]
    if same:
        parts.append("coinciding: " + "; ".join(same))
    if results.draws.get(name) is None:
        parts.append(f"no NUTS draws ({results.solver('nuts').get('message') or 'NUTS did not run'})")
    return parts[0] + ": " + "; ".join(parts[1:]) + "." if len(parts) > 1 else f"{name}."


def densities_section(results: ModelResults) -> str:
    """The density figures (the first :data:`N_SHOWN` up front, the rest one click away) under one legend."""
    names = drawn(results)
    markers = {c: d["marker"] for c, d in results.columns.items() if d.get("marker") and c in shown_columns(results)}
    figures = [_density(results, name, i, markers) for i, name in enumerate(names)]
    body = "".join(figures[:N_SHOWN])
    rest = names[N_SHOWN:]
    if rest:
        body += (
            f"<details><summary>The other {len(rest)} parameters ({', '.join(map(escape, rest))})"
            f"</summary>{''.join(figures[N_SHOWN:])}</details>"
        )
    undrawn = len(results.parameters) - len(names)
    if undrawn:
        body += (
            f"<p>{undrawn} further parameters are not drawn here (entries of latent vectors beyond the most "
            "skewed: the forest plot above shows them all); their numbers are in the table and in table.csv.</p>"
        )
    legend = "".join(f"<span>{svg}{escape(label)}</span>" for svg, label in plots.legend_items(markers))
    return (
        "<p>Model-level parameters first, then the latent entries with the largest gaps; each in its own "
        "units. Vertical lines: the estimators, in the same colours and line styles on every page; estimators "
        "that coincide share one line and one label (<i>map = em</i>); one outside the plotted range is an "
        f'arrow with its value.</p><div class="legend" role="list">{legend}</div>{body}'
    )


def _density(results: ModelResults, name: str, index: int, markers: dict[str, str]) -> str:
    row = results.parameters[name]
    draws = results.draws.get(name)
    if zero_spread(row) or (draws is not None and not draws_spread(draws)):
        return (
            f'<p class="no-density">{escape(name)}: no density figure: every draw has the same value '
            f"({escape(format_number(row.get('mean')))}), a constant, so there is no spread to draw.</p>"
        )
    return html.figure(
        plots.density_figure(name, row, draws, markers),
        results.folder,
        f"fig-density-{index:02d}-{html.slug(name)}.png",
        f"posterior density of {name} with the estimators marked",
        caption(results, name, markers),
    )
