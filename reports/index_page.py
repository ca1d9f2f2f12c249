"""The site's index (``DIR/index.html``): every model by its largest skew gap, the studies, the teaching pages."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

import modemean.reports.html as html  # "from . import html" would import the package reports/__init__
from modemean.comparisons.results.schema import GAP_KINDS, format_number

from .load import ModelResults
from .ranking import KIND_WORDS, other_gaps, skew_headline
from .study.load import PAGE
from .study.words import study_summary
from .tables import APPROXIMATELY, STATUS_WORDS, em_kind, table_tools


def render_index(
    all_results: list[ModelResults],
    out: Path,
    extra_pages: list[tuple[str, str]] = (),
    studies: list = (),
    running: list[str] = (),
) -> Path:
    """Write ``out/index.html``: every model with its headline and solver statuses, by ``|gap_sd|``, then
    every simulation study (``studies``: :class:`.study.Study`) with its replicates and smallest RMSEs;
    ``running``: the models of a run still being solved, named on the page, which then reloads every
    :data:`RELOAD` seconds."""
    extra = ""
    if extra_pages:
        items = "".join(f'<li><a href="{escape(href)}">{escape(title)}</a></li>' for title, href in extra_pages)
        extra = f'<h2 id="teaching">Teaching pages</h2><ul class="extra-pages">{items}</ul>'
    body = f"""
<h1>modemean: peak versus centre of mass</h1>
{_running_html(running)}
<p>Each model solved three ways — the posterior mode (find_MAP), EM (the marginal mode) and NUTS (the
whole posterior). The headline is <b>gap_sd</b> = (mean − map) / sd: how many posterior standard
deviations separate the centre of mass from the peak. Models are sorted by their largest <b>skew</b> gap
(the peak and the centre of mass of one unimodal, skewed posterior), largest |gap| first. A gap with another
cause — a peak on a boundary, find_MAP's joint mode of a hierarchy against the marginal posterior, several
modes, no mode, no finite mean, or NUTS diagnostics that failed — is listed under <i>other gaps</i> with its
kind, and not ranked as skew. Click a gap column to sort by |gap|.</p>
{_models_html(all_results, studies)}
{_studies_html(studies)}{extra}
"""
    page = Path(out) / "index.html"
    page.write_text(html.page("modemean reports", body))
    return page


RELOAD = 15  # seconds between reloads of the index while a run goes on


def _running_html(running: list[str]) -> str:
    """The note naming the models still being solved (with the page's reload), or nothing."""
    if not running:
        return ""
    names = ", ".join(f"<code>{escape(n)}</code>" for n in running)
    return (
        f'<meta http-equiv="refresh" content="{RELOAD}"><p class="running"><b>Still running ({len(running)}):</b> '
        f"{names}. Their pages appear here as each one finishes; this page reloads every {RELOAD} s.</p>"
    )


def _solver_labels(all_results: list[ModelResults]) -> dict[str, str]:
    """Every solver of any model's schema, in run order (an optional one only if some model ran it)."""
    labels: dict[str, str] = {}
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
    return labels


def _models_html(all_results: list[ModelResults], studies: list) -> str:
    """The models' table, sorted by |headline gap|, or a line saying how to make results."""

    def key(r):
        head = skew_headline(r)
        return -abs(head[1]) if head else np.inf

    labels = _solver_labels(all_results)
    any_approximation = any(r.approximations() for r in all_results)
    with_study = {st.name for st in studies}
    rows = [_model_row(r, labels, any_approximation, r.name in with_study) for r in sorted(all_results, key=key)]
    head = "".join(
        ('<th data-sort="abs">' if "gap" in h else "<th>") + f"{escape(h)}</th>"
        for h in (
            "model",
            "title",
            "largest skew gap (parameter)",
            "other gaps (why)",
            *labels.values(),
            *(["closest approximation to NUTS"] if any_approximation else []),
            "data",
        )
    )
    return (
        f"""<div class="table-tools">{table_tools("models", "models")}</div>
<table class="index sortable" id="models"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>"""
        if rows
        else "<p>No model has comparison results here yet (<code>modemean run MODEL --out DIR</code>).</p>"
    )


def _headline(r: ModelResults) -> str:
    """The largest skew gap with its parameter (from EM's mode where find_MAP found none); in results without
    gap kinds, the largest gap and a several-modes note."""
    head = skew_headline(r)
    if not head:
        return "— (no skew gap)" if r.headline() else "— (needs a mode and NUTS)"
    headline = f"{format_number(head[1], 'gap_sd')} ({escape(head[0])}" + (
        f", from EM's mode{_approximately(r)}: find_MAP found none)" if head[2] == "gap_sd_em" else ")"
    )
    kinds = any(r.gap_kind(n) for n in r.parameters)
    if not kinds and head[2] == "gap_sd" and r.solver("map").get("diagnostics", {}).get("starts_agree") is False:
        headline += (
            '<br><span class="note" title="find_MAP\'s starts reached different local modes: the gap may '
            'measure the distance between modes rather than skew (see the model page)">several modes</span>'
        )
    return headline


def _other_gaps(r: ModelResults) -> str:
    """The largest gap of each other kind, most telling first: ``−19.19 tau (joint ≠ marginal)``."""
    items = [
        f'<span class="kind kind-{kind}" title="{escape(GAP_KINDS.get(kind, kind))}">{format_number(gap, column)} '
        f"({escape(name)}, {escape(KIND_WORDS.get(kind, kind))}"
        + (f", from EM's mode{_approximately(r)}" if column == "gap_sd_em" else "")
        + ")</span>"
        for kind, gap, name, column in other_gaps(r)
    ]
    return "<br>".join(items) or "—"


def _other_value(r: ModelResults) -> str:
    """The number the other-gaps cell sorts by: its largest |gap|."""
    gaps = [abs(gap) for _, gap, _, _ in other_gaps(r)]
    return f' data-value="{max(gaps)!r}"' if gaps else ""


def _model_row(r: ModelResults, labels: dict[str, str], any_approximation: bool, has_study: bool) -> str:
    """One model's row: name, title, headline, each solver's status, the closest approximation, data links."""
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
            f'<td title="{escape(r.no_closest_reason())}">—</td>'
            if closest is None
            else f'<td class="closest" title="largest |gap_sd| or |ln sd_ratio|: '
            f'{closest[1]["distance"]:.2f} ({escape(closest[1]["worst"])})">'
            f"{escape(closest[1]['label'])}</td>"
        )
    return (
        f'<tr data-model="{name}"><th scope="row"><a href="{name}/index.html">{name}</a></th>'
        f'<td>{escape(r.data.get("title", ""))}</td><td class="gap">{_headline(r)}</td>'
        f'<td class="gap other"{_other_value(r)}>{_other_gaps(r)}</td>{"".join(cells)}'
        f'<td><a href="{name}/results.json">json</a> · <a href="{name}/results.nc">nc</a>'
        + (f' · <a href="{name}/study.html">study</a>' if has_study else "")
        + "</td></tr>"
    )


def _approximately(results: ModelResults) -> str:
    return f" ({APPROXIMATELY})" if "approximate" in em_kind(results) else ""


def _studies_html(studies: list) -> str:
    """The index's list of simulation studies, each linked to its page."""
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
