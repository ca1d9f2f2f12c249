"""A model's page (``DIR/<model>/index.html``): :data:`SECTIONS`, top to bottom, and their renderers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__
from modemean.comparisons.results.schema import format_number

from .approximations import section as approximations_section
from .densities import densities_section
from .diagnostics import diagnostics_html
from .images import section as image_section
from .load import ModelResults, draws_spread
from .page_parts import CSV, run_settings, shown_path, source_section, toc, write_csv
from .plots import model as plots
from .tables import (
    STATUS_WORDS,
    comparison_table,
    em_kind,
    em_kind_html,
    notes_html,
    solver_table,
)
from .teaching.modes import modes_section, teaching_links
from .verdict import verdict
from .views import forest_section, pair_section, trace_section


@dataclass(frozen=True)
class Section:
    """One part of a model page: ``render(results)`` gives its HTML, or ``None`` (or ``""``) to leave it out.

    The page is the sections of :data:`SECTIONS` in order, each as ``<section class="section-<id>">``
    with an ``<h2 id="<id>">`` heading (the anchor other pages link to); with ``title=None`` the
    section writes its own heading.
    """

    id: str
    title: str | None
    render: Callable[[ModelResults], str | None]


def render_model(results: ModelResults) -> Path:
    """Write ``<folder>/index.html`` and its PNG figures for one model; return the page's path."""
    folder = results.folder
    for old in folder.glob("fig-*.png"):
        old.unlink()
    title = results.data.get("title") or results.name
    parts, headings = [], []
    for section in SECTIONS:
        part = section.render(results)
        if part:
            head = f'<h2 id="{section.id}">{escape(section.title)}</h2>' if section.title is not None else ""
            parts.append(f'<section class="section-{section.id}">{head}{part}</section>')
            headings.append((section.id, section.title or section.id.capitalize()))
    write_csv(results)
    solvers = ", ".join(results.ran.values())
    study = '<a href="study.html">simulation study</a>' if (folder / "study.json").is_file() else ""
    body = (
        f'<nav><a href="../index.html">← all models</a><a href="results.json">results.json</a>'
        f'<a href="results.nc">results.nc</a><a href="{CSV}" download>table.csv</a>{study}</nav>'
        f"<h1>{escape(title)}</h1>"
        f"<p><code>{escape(results.name)}</code> — solved with {escape(solvers)}.</p>\n{toc(headings)}\n"
        + "\n".join(parts)
    )
    page = folder / "index.html"
    page.write_text(html.page(f"{title} — modemean", body))
    return page


def _verdict(results: ModelResults) -> str:
    return f"<ul>{''.join(f'<li>{escape(s)}</li>' for s in verdict(results))}</ul>"


def _highlights(results: ModelResults) -> str | None:
    """The model's own headline numbers (its ``highlights`` hook), as a two-column table."""
    highlights = results.data.get("highlights") or {}
    if not highlights:
        return None

    def show(value):
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "none"
        return format_number(value) if isinstance(value, float) else str(value)

    rows = "".join(
        f'<tr><th scope="row">{escape(k)}</th><td>{escape(show(v))}</td></tr>' for k, v in highlights.items()
    )
    return f'<table class="highlights"><tbody>{rows}</tbody></table>'


def _story(results: ModelResults) -> str:
    d = results.data
    refs = "".join(f"<li>{escape(r)}</li>" for r in d.get("references", []))
    heading = "Why the posterior is skewed" if d.get("skewed", True) else "Why the posterior is not skewed"
    missing = d.get("info_missing") or []
    note = (
        f'<p class="note">The model file\'s INFO does not give {escape(", ".join(missing))}: add '
        f"INFO = {{{escape(', '.join(repr(k) + ': ...' for k in missing))}}} to say what the model is.</p>"
        if missing
        else ""
    )
    return (
        f"{note}<p>{escape(d.get('story', ''))}</p><h3>{heading}</h3>"
        f"<p>{escape(d.get('why_skewed', ''))}</p><h3>References</h3><ul>{refs or '<li>none given</li>'}</ul>"
    )


def _table(results: ModelResults) -> str:
    return (
        "<p>Parameters ordered as in the model; the columns a reader needs first (map, em, mean, median, sd, "
        "gap_sd), the rest behind <i>show all columns</i>. <b>gap_sd</b> = (mean − map) / sd, shaded by size "
        "(≥ 0.2 and ≥ 0.5). Click a column name to sort, type in the box to filter the parameters. Hover a column "
        "name for its meaning; an empty cell says why it is empty and links "
        f'to that solver\'s status below. The whole table: <a href="{CSV}" download>{CSV}</a>.</p>'
        f"{em_kind_html(results)}{comparison_table(results)}"
        f"<h3>Notes</h3>{notes_html(results)}"
    )


def _diagnostics(results: ModelResults) -> str:
    return solver_table(results) + diagnostics_html(results)


def _em_trace(results: ModelResults) -> str:
    em = results.solver("em")
    if not results.traces:
        why = em.get("message") or "EM recorded no iterations"
        return f"<p>No EM trace: EM {escape(STATUS_WORDS.get(em['status'], em['status']))} — {escape(why)}</p>"
    approx = "approximately the " if "approximate" in em_kind(results) else ""
    caption = (
        f"Distance of each restart's objective ({approx}log posterior for MAP-EM, {approx}log likelihood for "
        f"ML-EM{': Laplace-EM' if approx else ''}) to the "
        "best value reached, by iteration, on a log scale: a straight descent is EM's linear rate; "
        "a restart that levels off above the floor stopped at a lower local maximum; red triangles mark "
        "iterations where the objective went down."
    )
    return html.figure(
        plots.em_trace_figure(results.traces),
        results.folder,
        "fig-em-trace.png",
        "EM objective by iteration for every restart",
        caption,
    )


def _reparameterisation(results: ModelResults) -> str:
    positive = [
        n for n, draws in results.draws.items() if n in results.parameters and draws_spread(draws) and np.min(draws) > 0
    ]
    if not positive:
        return "<p>No parameter has only positive draws, so there is no log scale to compare with.</p>"
    name = max(positive, key=lambda n: abs(results.parameters[n].get("skewness") or 0.0))
    caption = (
        f"{name}, the most skewed positive parameter, on its own scale (left) and on the log scale (right), "
        "with each scale's mode (KDE maximum) and median. The median of log " + name + " is the log of the "
        "median; the mode of log " + name + " is not the log of the mode: a mode depends on the "
        "parameterisation, which is why find_MAP (own scale) and map_unconstrained (log scale with the "
        "Jacobian) differ."
    )
    return html.figure(
        plots.reparameterisation_figure(name, results.draws[name]),
        results.folder,
        "fig-reparameterisation.png",
        f"{name} on its own scale and on the log scale",
        caption,
    )


def _metadata(results: ModelResults) -> str:
    d = results.data
    rows = [
        ("model", results.name),
        ("seed", d.get("seed")),
        ("source", shown_path(d["source"]) if d.get("source") else "—"),
        ("schema version", d.get("schema_version", "—")),
    ]
    rows += [(f"setting: {k}", v) for k, v in run_settings(results).items() if k != "seed"]
    rows += [(f"version: {k}", v) for k, v in (d.get("versions") or {}).items()]
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return (
        f'<table class="meta"><tbody>{body}</tbody></table>'
        '<p>Data: <a href="results.json">results.json</a> (the table, statuses and diagnostics) and '
        '<a href="results.nc">results.nc</a> (ArviZ DataTree: posterior draws, point estimates, EM trace).</p>'
    )


# the model page, top to bottom; a new section is one line here (its render function may live in its own module)
SECTIONS = [
    Section("verdict", "Verdict", _verdict),
    Section("highlights", "This model in numbers", _highlights),
    Section("story", "The model", _story),
    Section("images", None, image_section),  # reports/images.py: an image model's pictures, with its own heading
    Section("table", "Comparison table", _table),
    Section("checks", "NUTS: trace and rank plots", trace_section),
    Section("pair", "Pair plot", pair_section),
    Section("forest", "Vector parameters: forest plot", forest_section),
    Section("figures", "Posterior densities", densities_section),
    Section("approximations", "Approximations of the posterior", approximations_section),
    Section("em-trace", "EM: the climb", _em_trace),
    Section("reparameterisation", "Reparameterisation: the mode moves, the median does not", _reparameterisation),
    Section("modes", "Which mode of τ? The peaks on these pages, side by side", modes_section),
    Section("diagnostics", "Diagnostics", _diagnostics),
    Section("source", "The model's PyMC source", source_section),
    Section("teaching", "Teaching pages", teaching_links),
    Section("metadata", "Run metadata", _metadata),
]
