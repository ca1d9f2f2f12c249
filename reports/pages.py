"""Static HTML pages: one per model (``DIR/<model>/index.html``) and the suite index (``DIR/index.html``).

Pages are self-contained: inline CSS, no script, no outside resource; figures are PNG files next
to the page, and every link is relative, so the folder works from ``file://`` or any web server.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from modemean.comparisons.results.schema import STATUS_WORDS, format_number
from modemean.comparisons.run import progress

from . import figures
from .images import section as image_section
from .load import ModelResults, draws_spread, find_models, load_all, load_model, zero_spread
from .tables import (
    TABLE_JS,
    comparison_table,
    diagnostics_html,
    em_kind_html,
    notes_html,
    solver_table,
    table_tools,
)
from .verdict import verdict

__all__ = ["SECTIONS", "Section", "render", "render_model", "render_index", "stale"]

N_SHOWN = 4  # density figures shown up front; the rest sit one click away in <details>
N_DRAWN = 40  # at most this many density figures per page (an image model has hundreds of parameters)

CSS = """
body{font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;margin:0 auto;
 max-width:1200px;padding:1rem 1.5rem 4rem}
h1{font-size:1.9rem;margin:.4rem 0}h2{margin-top:2.2rem;border-bottom:2px solid #ddd}
nav a{margin-right:1rem}a{color:#0b5cad}
.section-verdict{background:#fff8e6;border-left:6px solid #E69F00;padding:.6rem 1rem}
.section-verdict li{margin:.3rem 0}
table{border-collapse:collapse;margin:.6rem 0;font-size:.95rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:right;vertical-align:top}
thead th{background:#f0f0f0;position:sticky;top:0}
th[scope=row],td:first-child{text-align:left}
.scroll{overflow-x:auto}
table.comparison th[scope=row],table.comparison thead th:first-child{position:sticky;left:0;z-index:1;
 background:#fff;box-shadow:1px 0 0 #ccc}
table.comparison thead th:first-child{z-index:2;background:#f0f0f0}
.all-columns:not(:checked)~.scroll .more{display:none}
.table-tools label{margin-right:1rem;font-size:.9rem}.table-tools input.filter{font:inherit;width:12rem}
th.sorts{cursor:pointer}th[data-sorted=ascending]::after{content:" ▲"}th[data-sorted=descending]::after{content:" ▼"}
td.gap,th.gap{font-weight:bold;border-left:3px solid #000;border-right:3px solid #000}
.gap-large{background:#f4b183}.gap-medium{background:#fbd9bf}.gap-small{background:#fff}
td.explained{text-align:center;font-style:italic;background:#f5f5f5;font-size:.85rem;white-space:nowrap}
td.explained a{color:#555}
td.boundary{background:#e8f0fb}
.why{display:block;font-size:.75rem;font-style:italic;color:#444}
.status-failed{background:#fde0dc}.status-not_applicable,.status-not_run{background:#f0f0f0}
.status-ok{background:#e6f4ea}.status-no_mode{background:#fff4d6}.status-warn{background:#ffe2a8}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9rem;color:#444}
details{margin:1rem 0}summary{cursor:pointer;font-weight:bold}
.meta td,.meta th,table.index td,table.index th{text-align:left}
"""


def render(
    out: Path,
    names: list[str] | None = None,
    extra_pages: list[tuple[str, str]] = (),
    force: bool = False,
    jobs: int = 1,
) -> Path:
    """Render the pages of ``names`` (default: every model with results or a study in ``out``) and the index.

    Each model with ``results.json`` gets its page ``<model>/index.html``; each with a simulation study
    (``<model>/study.json``, from ``modemean study``) gets ``<model>/study.html`` (:mod:`.study`); a model
    may have either or both. A page newer than its inputs and the rendering code is up to date and is
    kept (figures are most of the time of a report); ``force`` renders it anyway.

    Parameters
    ----------
    out : path
        The folder ``modemean run --out`` (or ``modemean study --out``) wrote to; pages are written next
        to the results.
    names : list of str, optional
        Models to (re)render; the index always lists every model and study in ``out``.
    extra_pages : list of (title, relative href), optional
        Further pages (e.g. teaching pages) to link from the index.
    force : bool, default False
        Render every page even when it is up to date.
    jobs : int, default 1
        Model pages rendered at once, each worker a process of its own (matplotlib draws on one core; a
        page of forty densities takes ten seconds). Above 1, call it from a script only under
        ``if __name__ == "__main__":`` (the workers import the main module, as with ``multiprocessing``).

    Returns
    -------
    Path
        ``out/index.html``.

    Raises
    ------
    comparisons.ModemeanError
        When ``out`` holds no results and no study, or a named model has neither.
    """
    from .study import PAGE, SUMMARY, find_studies, load_study, render_study

    out = Path(out)
    found, studies = find_models(out), find_studies(out)
    missing = [n for n in names or [] if n not in found and n not in studies]
    if missing or not (found or studies):
        load_all(out, missing or None)  # raises, naming the command that writes the results
    all_results = {n: load_model(out, n) for n in found}
    inputs = ("results.json", "results.nc", SUMMARY)
    chosen = [n for n in (names or found) if n in found]
    todo = [n for n in chosen if stale(out / n / "index.html", [out / n / f for f in inputs], force)]
    if len(chosen) > len(todo):
        kept = f"{len(chosen) - len(todo)} kept (up to date; --force renders them again)"
        progress.emit("done", model="model pages", seconds=0.0, cached=True, said=kept)
    _render_models(out, sorted(todo, key=lambda n: -len(all_results[n].parameters)), jobs)  # the largest first
    all_studies = {n: load_study(out, n) for n in studies}
    for name in [n for n in (names or studies) if n in studies]:
        if stale(out / name / PAGE, [out / name / SUMMARY, out / name / "index.html"], force):
            render_study(all_studies[name])
    return render_index(list(all_results.values()), out, extra_pages, list(all_studies.values()))


def _render_models(out: Path, names: list[str], jobs: int) -> None:
    """:func:`render_model` for each of ``names``, in ``jobs`` worker processes when there is more than one."""
    if jobs <= 1 or len(names) <= 1:
        for name in names:
            progress.emit("step", model=f"{name}/index.html", what="rendering")
            progress.emit("done", model=f"{name}/index.html", seconds=_render_one(out, name), cached=False)
        return
    context = multiprocessing.get_context("forkserver")  # not fork: a clean process, whatever threads run here
    with ProcessPoolExecutor(min(jobs, len(names)), mp_context=context) as pool:
        pages = {pool.submit(_render_one, out, name): name for name in names}
        for page in as_completed(pages):  # a worker's error (e.g. an unreadable results.nc) is raised here
            progress.emit("done", model=f"{pages[page]}/index.html", seconds=page.result(), cached=False)


def _render_one(out: Path, name: str) -> float:
    """Render one model's page; the seconds it took."""
    start = time.perf_counter()
    render_model(load_model(out, name))
    return time.perf_counter() - start


def stale(page: Path, inputs: list[Path], force: bool = False) -> bool:
    """Whether ``page`` must be rendered: ``force``, no page yet, or a page older than one of the ``inputs``
    that exist or than the rendering code (``reports/*.py``)."""
    if force or not page.exists():
        return True
    code = max(p.stat().st_mtime for p in Path(__file__).parent.glob("*.py"))
    return page.stat().st_mtime < max(code, *(p.stat().st_mtime for p in inputs if p.is_file()))


def _page(title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}"
        + (f"<script>{TABLE_JS}</script>" if "sortable" in body else "")
        + "</body></html>\n"
    )


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") or "p"


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
    parts = []
    for section in SECTIONS:
        html = section.render(results)
        if html:
            head = f'<h2 id="{section.id}">{escape(section.title)}</h2>' if section.title is not None else ""
            parts.append(f'<section class="section-{section.id}">{head}{html}</section>')
    solvers = ", ".join(results.labels.values())
    study = '<a href="study.html">simulation study</a>' if (folder / "study.json").is_file() else ""
    body = (
        f'<nav><a href="../index.html">← all models</a><a href="results.json">results.json</a>'
        f'<a href="results.nc">results.nc</a>{study}</nav><h1>{escape(title)}</h1>'
        f"<p><code>{escape(results.name)}</code> — {escape(solvers)}, side by side.</p>\n" + "\n".join(parts)
    )
    page = folder / "index.html"
    page.write_text(_page(f"{title} — modemean", body))
    return page


# ------------------------------------------------------------------------------------------ the sections


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
        f"to that solver's status below.</p>{em_kind_html(results)}{comparison_table(results)}"
        f"<h3>Notes</h3>{notes_html(results)}"
    )


def _densities(results: ModelResults) -> str:
    ranked = results.ranked()
    drawn, undrawn = ranked[:N_DRAWN], ranked[N_DRAWN:]
    shown, rest = drawn[:N_SHOWN], drawn[N_SHOWN:]
    density = [_density(results, name, i) for i, name in enumerate(drawn)]
    figures_html = "".join(density[: len(shown)])
    if rest:
        figures_html += (
            f"<details><summary>The other {len(rest)} parameters ({', '.join(map(escape, rest))})"
            f"</summary>{''.join(density[len(shown) :])}</details>"
        )
    if undrawn:
        figures_html += (
            f"<p>{len(undrawn)} less skewed parameters are not drawn (the {N_DRAWN} most skewed are); "
            "their numbers are in the table and in results.json.</p>"
        )
    return (
        "<p>Grey: NUTS density (ArviZ KDE) with its 94% HDI shaded; dotted: the Laplace approximation "
        "N(MAP, laplace_sd); vertical lines: the estimators, in the same colours and line styles on every page. "
        "Estimators that coincide are drawn as nested stripes (the earlier in the legend, the wider); one "
        "outside the plotted range is shown as an arrow with its value. Most skewed parameters first.</p>"
        f"{figures_html}"
    )


def _diagnostics(results: ModelResults) -> str:
    return solver_table(results) + diagnostics_html(results)


def _figure(fig, folder: Path, filename: str, alt: str, caption: str) -> str:
    figures.save(fig, folder / filename)
    return (
        f'<figure><img src="{escape(filename)}" alt="{escape(alt)}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


def _density(results: ModelResults, name: str, index: int) -> str:
    row = results.parameters[name]
    draws = results.draws.get(name)
    if zero_spread(row) or (draws is not None and not draws_spread(draws)):
        return (
            f'<p class="no-density">{escape(name)}: no density figure: every draw has the same value '
            f"({escape(format_number(row.get('mean')))}), a constant, so there is no spread to draw.</p>"
        )
    markers = {c: d["marker"] for c, d in results.columns.items() if d.get("marker")}
    fig = figures.density_figure(name, row, results.draws.get(name), markers)
    if results.draws.get(name) is not None:
        caption = f"{name}: NUTS density and the point estimates."
    else:
        why = results.solver("nuts").get("message") or "NUTS did not run"
        caption = f"{name}: no NUTS draws ({why}); point estimates and the Laplace curve only."
    return _figure(
        fig,
        results.folder,
        f"fig-density-{index:02d}-{_slug(name)}.png",
        f"posterior density of {name} with the estimators marked",
        caption,
    )


SKEWED = 0.5  # |NUTS skewness| at least this: the parameter gets a figure of the approximations' densities


def _approximations(results: ModelResults) -> str | None:
    """The approximations that ran: how far each is from NUTS and its k̂, and one figure per skewed parameter."""
    approximations = results.approximations()
    if not approximations:
        return None
    rows = []
    for name, a in approximations.items():
        khat = "—" if a["khat"] is None else f"{a['khat']:.2f}" + (" (not to be trusted)" if a["khat"] > 0.7 else "")
        far = (
            "—"
            if a["distance"] is None
            else f"{a['distance']:.2f} ({escape(a['worst'])})"
            if a["distance"] < 1e3
            else f"{a['distance']:.3g} ({escape(a['worst'])})"
        )
        why = escape(a["message"] or "")
        rows.append(
            f'<tr data-solver="{escape(name)}"><th scope="row">{escape(a["label"])}</th>'
            f"<td>{escape(STATUS_WORDS.get(a['status'], a['status']))}</td><td>{escape(khat)}</td>"
            f"<td>{far}</td><td>{why}</td></tr>"
        )
    closest = results.closest_approximation()
    verdict_html = f"<p>Closest to NUTS: <b>{escape(closest[1]['label'])}</b>.</p>" if closest else ""
    figures_html = []
    skewed = [
        n
        for n in results.ranked()
        if n in results.draws
        and draws_spread(results.draws[n])
        and abs(results.parameters[n].get("skewness") or 0.0) >= SKEWED
    ][:N_SHOWN]
    for i, name in enumerate(skewed):
        # every approximation of the schema, run or not, so that each keeps its colour on every page
        curves = {
            (f"{a['label']}, k̂ {a['khat']:.2f}" if a["khat"] is not None else a["label"])
            if a
            else s: results.solver_draws.get(s, {}).get(name) if a else None
            for s, a in (
                (s, approximations.get(s))
                for s, d in results.schema["solvers"].items()
                if any(c.endswith("_gap_sd") for c in d["columns"])
            )
        }
        if any(v is not None for v in curves.values()):
            figures_html.append(
                _figure(
                    figures.approximations_figure(name, results.draws[name], curves),
                    results.folder,
                    f"fig-approximations-{i:02d}-{_slug(name)}.png",
                    f"density of {name}: NUTS and each approximation",
                    f"{name} (NUTS skewness {results.parameters[name]['skewness']:+.2f}): "
                    "NUTS density (grey) and each approximation's (KDE of its draws).",
                )
            )
    if not skewed:
        figures_html.append(
            f"<p>No parameter is skewed (|skewness| ≥ {SKEWED}): no density figures here; the "
            "table above has every approximation's mean and sd.</p>"
        )
    return f"""<p>Each approximation's draws are summarised in the table (columns <code>&lt;approximation&gt;_…</code>);
<b>gap_sd</b> columns give its mean's distance from NUTS's in NUTS sds, <b>sd_ratio</b> its sd over NUTS's.
Pareto k̂ (PSIS on log p − log q at its draws; Yao et al. 2018): below 0.5 close to the posterior,
0.5–0.7 usable after importance reweighting, above 0.7 not to be trusted. Distance from NUTS: the largest,
over the parameters, of |gap_sd| and |ln sd_ratio|.</p>
<table class="approximations"><thead><tr><th>approximation</th><th>status</th><th>Pareto k̂</th>
<th>distance from NUTS (worst parameter)</th><th>message</th></tr></thead><tbody>{"".join(rows)}</tbody></table>
{verdict_html}{"".join(figures_html)}"""


def _em_trace(results: ModelResults) -> str:
    em = results.solver("em")
    if not results.traces:
        why = em.get("message") or "EM recorded no iterations"
        return f"<p>No EM trace: EM {escape(STATUS_WORDS.get(em['status'], em['status']))} — {escape(why)}</p>"
    caption = (
        "Distance of each restart's objective (log posterior for MAP-EM, log likelihood for ML-EM) to the "
        "best value reached, by iteration, on a log scale: a straight descent is EM's linear rate; "
        "a restart that levels off above the floor stopped at a lower local maximum; red triangles mark "
        "iterations where the objective went down."
    )
    return _figure(
        figures.em_trace_figure(results.traces),
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
    return _figure(
        figures.reparameterisation_figure(name, results.draws[name]),
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
        ("source", d.get("source", "—")),
        ("schema version", d.get("schema_version", "—")),
    ]
    rows += [(f"setting: {k}", v) for k, v in (d.get("settings") or {}).items()]
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
    Section("figures", "Posterior densities", _densities),
    Section("approximations", "Approximations of the posterior", _approximations),
    Section("em-trace", "EM: the climb", _em_trace),
    Section("reparameterisation", "Reparameterisation: the mode moves, the median does not", _reparameterisation),
    Section("diagnostics", "Diagnostics", _diagnostics),
    Section("metadata", "Run metadata", _metadata),
]


def render_index(
    all_results: list[ModelResults], out: Path, extra_pages: list[tuple[str, str]] = (), studies: list = ()
) -> Path:
    """Write ``out/index.html``: every model with its headline and solver statuses, by ``|gap_sd|``, then
    every simulation study (``studies``: :class:`.study.Study`) with its replicates and smallest RMSEs."""

    def key(r):
        head = r.headline()
        return -abs(head[1]) if head else np.inf

    labels = {}  # every solver of any model's schema, in run order (an optional one only if some model ran it)
    for r in all_results:
        optional = {m for m, s in r.schema["solvers"].items() if not s.get("default", True)}
        labels.update(
            {
                m: label
                for m, label in r.labels.items()
                if m not in labels
                and (m not in optional or any(o.solver(m)["status"] != "not_run" for o in all_results))
            }
        )
    any_approximation = any(r.approximations() for r in all_results)
    with_study = {st.name for st in studies}
    rows = []
    for r in sorted(all_results, key=key):
        head = r.headline()
        headline = (
            f"{format_number(head[1], 'gap_sd')} ({escape(head[0])}"
            + (", from EM's mode: find_MAP found none)" if head[2] == "gap_sd_em" else ")")
            if head
            else "— (needs a mode and NUTS)"
        )
        if head and head[2] == "gap_sd" and r.solver("map").get("diagnostics", {}).get("starts_agree") is False:
            headline += (
                '<br><span class="note" title="find_MAP\'s starts reached different local modes: the gap may '
                'measure the distance between modes rather than skew (see the model page)">several modes</span>'
            )
        cells = []
        for method in labels:
            s = r.solver(method)
            owned = r.schema["solvers"].get(method, {}).get("columns", [])
            status = "no_mode" if s["status"] == "ok" and any(r.no_mode(c) for c in owned) else s["status"]
            if status == "ok" and s.get("converged") is False:
                status = "warn"  # ran, but its own checks failed (divergences, R-hat, ESS, no convergence)
            word = STATUS_WORDS.get(status, status)
            cells.append(
                f'<td class="status-{escape(status)}" title="{escape(s.get("message") or "")}">{escape(word)}</td>'
            )
        name = escape(r.name)
        if any_approximation:
            closest = r.closest_approximation()
            cells.append(
                "<td>—</td>"
                if closest is None
                else f'<td class="closest" title="largest |gap_sd| or |ln sd_ratio|: '
                f'{closest[1]["distance"]:.2f} ({escape(closest[1]["worst"])})">'
                f"{escape(closest[1]['label'])}</td>"
            )
        rows.append(
            f'<tr data-model="{name}"><th scope="row"><a href="{name}/index.html">{name}</a></th>'
            f'<td>{escape(r.data.get("title", ""))}</td><td class="gap">{headline}</td>{"".join(cells)}'
            f'<td><a href="{name}/results.json">json</a> · <a href="{name}/results.nc">nc</a>'
            + (f' · <a href="{name}/study.html">study</a>' if r.name in with_study else "")
            + "</td></tr>"
        )
    head = "".join(
        f"<th>{escape(h)}</th>"
        for h in (
            "model",
            "title",
            "largest |gap_sd| (parameter)",
            *labels.values(),
            *(["closest approximation to NUTS"] if any_approximation else []),
            "data",
        )
    )
    extra = ""
    if extra_pages:
        items = "".join(f'<li><a href="{escape(href)}">{escape(title)}</a></li>' for title, href in extra_pages)
        extra = f'<h2 id="teaching">Teaching pages</h2><ul class="extra-pages">{items}</ul>'
    models_html = (
        f"""<div class="table-tools">{table_tools("models", "models")}</div>
<table class="index sortable" id="models"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>"""
        if rows
        else "<p>No model has comparison results here yet (<code>modemean run MODEL --out DIR</code>).</p>"
    )
    body = f"""
<h1>modemean: peak versus centre of mass</h1>
<p>Each model solved three ways — the posterior mode (find_MAP), EM (the marginal mode) and NUTS (the
whole posterior). The headline is <b>gap_sd</b> = (mean − map) / sd: how many posterior standard
deviations separate the centre of mass from the peak. Models are sorted by its absolute size. Where
find_MAP's starts reached different local modes ("several modes") the gap can measure the distance
between modes rather than skew: the model page says which.</p>
{models_html}
{_studies_html(studies)}{extra}
"""
    page = Path(out) / "index.html"
    page.write_text(_page("modemean reports", body))
    return page


def _studies_html(studies: list) -> str:
    """The index's list of simulation studies, each linked to its page."""
    from .study import PAGE, study_summary

    if not studies:
        return ""
    rows = []
    for st in studies:
        r, name = st.replicates, escape(st.name)
        solvers = ", ".join(map(str, st.settings.get("solvers") or [])) or "—"
        rows.append(
            f'<tr data-study="{name}"><th scope="row"><a href="{name}/{PAGE}">{name}</a></th>'
            f"<td>{escape(str(st.data.get('truth', '—')))}</td><td>{escape(solvers)}</td>"
            f"<td>{r.get('done', 0)} / {r.get('failed', 0)}</td><td>{escape(study_summary(st))}</td>"
            f'<td><a href="{name}/study.json">json</a></td></tr>'
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("model", "truth", "solvers", "replicates done / failed", "smallest RMSE (scalar parameters)", "data")
    )
    return f"""<h2 id="studies">Simulation studies: which estimate should I report?</h2>
<p>Each study refits one model on many data sets simulated from it, so every estimate can be compared with the
truth: bias and RMSE per estimate, coverage of the 94% intervals, and simulation-based calibration of NUTS.</p>
<table class="index studies"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
"""
