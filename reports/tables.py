"""HTML tables: the comparison table (missing cells explained in words), the solver table, the notes."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from modemean.comparisons.results.schema import EM_KINDS, GAP_KINDS, STATUS_WORDS, format_number, is_number

from .load import ModelResults, boundary_of, zero_spread
from .ranking import KIND_WORDS, kind_text

__all__ = [
    "APPROXIMATELY",
    "LEAD",
    "STATUS_WORDS",
    "lead_first",
    "table_tools",
    "comparison_table",
    "em_kind",
    "em_kind_html",
    "notes_html",
    "solver_table",
    "html_table",
]


KIND = "gap_kind"  # a row's gap kind (results.json), shown after gap_sd when the results record kinds
KIND_HELP = "why the peak and the centre of mass differ: " + "; ".join(f"{k}: {v}" for k, v in GAP_KINDS.items())
LEAD = ("map", "em", "mean", "median", "sd", "gap_sd")  # the columns a reader needs first; the rest on request


def lead_first(names: Iterable[str]) -> list[str]:
    """``names`` with the :data:`LEAD` columns first (in that order), then the rest as given."""
    names = list(names)
    return [c for c in LEAD if c in names] + [c for c in names if c not in LEAD]


def table_tools(table_id: str, what: str, toggle: int = 0) -> str:
    """A filter box for table ``table_id`` (and, when ``toggle`` columns are hidden, the box that shows them)."""
    show = (
        (
            f'<input type="checkbox" class="all-columns" id="{table_id}-all"><label for="{table_id}-all">show all '
            f"columns (+{toggle})</label> "
        )
        if toggle
        else ""
    )
    return (
        f'{show}<label class="filter">filter {escape(what)} <input type="search" class="filter" '
        f'data-table="{table_id}" aria-label="filter {escape(what)}"></label>'
    )


def html_table(header: Iterable[str], rows: Iterable[Iterable[Any]], css: str = "") -> str:
    """A plain table; cells are escaped text."""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _missing(results: ModelResults, column: str, row: dict) -> tuple[str, str]:
    """Words for an empty cell, and the longer reason (tooltip), from the solvers' status."""
    if column in ("gap_sd", "gap_sd_em") and zero_spread(row):
        return "no spread", (
            "the posterior sd is 0 (or at rounding level of the mean): the quantity is a "
            "constant, so a distance in sds means nothing"
        )
    if column == "gap_sd" and results.no_mode("map"):
        return "no mode", (
            "find_MAP found no mode: the density is unbounded or still rises where it stopped, so "
            "a distance from that point would only measure where the optimiser gave up; gap_sd_em "
            "measures the distance from EM's marginal mode instead"
            + (f" ({APPROXIMATELY})" if "approximate" in em_kind(results) else "")
        )
    for method in results.columns[column]["solvers"]:
        solver = results.solver(method)
        if solver["status"] != "ok":
            word = STATUS_WORDS.get(solver["status"], solver["status"])
            return f"{results.labels.get(method, method)} {word}", solver.get("message", "")
    if column in ("em", "mle"):
        return (
            "not estimated by EM",
            "EM estimates the model's parameters only: latent variables are "
            "integrated out and derived quantities are not computed",
        )
    return "no value", "the solver ran but produced no finite value for this parameter"


APPROXIMATELY = "approximately: Laplace-EM"  # said of every number of an EM whose E-step is approximate


def em_kind(results: ModelResults) -> str:
    """How EM integrated the latents out (``"exact (Gaussian)"``, ``"Laplace (approximate)"``, ...), or ``""``."""
    em = results.solver("em")
    return (em.get("diagnostics") or {}).get("em_kind", "") if em["status"] == "ok" else ""


def em_kind_html(results: ModelResults) -> str:
    """One sentence on the page: which EM produced the em and mle columns, and what that means."""
    kind = em_kind(results)
    if not kind:
        return ""
    warn = (
        " Its objective is not guaranteed to increase; decreases are counted in the diagnostics below."
        if "approximate" in kind
        else ""
    )
    return f'<p class="em-kind">EM here is <b>{escape(kind)}</b>: {escape(EM_KINDS.get(kind, kind))}.{escape(warn)}</p>'


def comparison_table(results: ModelResults) -> str:
    """The comparison table: one row per parameter, every column of the results schema.

    The :data:`LEAD` columns come first; the others (class ``more``) are hidden until the reader
    ticks "show all columns" (CSS only). The parameter column stays in view when the table scrolls
    sideways; every column sorts on a click and a box filters the parameters (:data:`TABLE_JS`).

    ``gap_sd`` is highlighted (shaded by size); an estimate on the boundary of the support says so
    in the cell; an empty cell names the reason (solver failed, not applicable, not run, not
    estimated) in words, with the solver's message as tooltip and a link to its diagnostics.
    """
    reasons: dict[str, str] = {}
    kind = em_kind(results)
    columns = _ordered_columns(results)
    more = {c for c in columns if c not in (*LEAD, KIND)}
    head = "<th>parameter</th>" + "".join(_header(c, columns[c]["help"], kind, c in more) for c in columns)
    body = []
    for name, row in results.parameters.items():
        cells = [f'<th scope="row">{escape(name)}</th>']
        cells += [_cell(results, name, row, column, columns, more, reasons) for column in columns]
        body.append(f'<tr data-parameter="{escape(name)}">{"".join(cells)}</tr>')
    explained = "".join(f"<li><b>{escape(w)}</b>: {escape(r)}</li>" for w, r in reasons.items())
    return (
        f'<div class="table-tools">{table_tools("comparison", "parameters", len(more))}'
        f'<div class="scroll"><table class="comparison sortable" id="comparison"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></div>"
        + (f'<p>Empty cells:</p><ul class="empty-cells">{explained}</ul>' if explained else "")
    )


def _ordered_columns(results: ModelResults) -> dict[str, dict[str, Any]]:
    """The comparison table's columns in order: :data:`LEAD` first, the gap kind right after ``gap_sd``.

    The gap kind column (:data:`KIND`) is there when some parameter has a gap kind, with :data:`KIND_HELP`
    as its help when the schema does not declare it.
    """
    shown = shown_columns(results)
    columns = {c: shown[c] for c in lead_first(shown)}
    if any(results.gap_kind(n) for n in results.parameters):  # why each gap exists, next to the gap
        order = [c for c in columns if c != KIND]
        order.insert(order.index("gap_sd") + 1 if "gap_sd" in order else len(order), KIND)
        columns = {c: columns.get(c) or {"help": KIND_HELP, "solvers": ["nuts"]} for c in order}
    return columns


def _header(column: str, help_text: str, kind: str, more: bool) -> str:
    """The ``<th>`` of a column: its help as tooltip; ``em`` and ``mle`` also say EM's ``kind`` (``≈`` if
    approximate); the gaps sort by size (``data-sort="abs"``); ``more`` hides it until asked for."""
    css = " ".join(["gap"] * (column == "gap_sd") + ["more"] * more)
    css = (f' class="{css}"' if css else "") + (' data-sort="abs"' if column in ("gap_sd", "gap_sd_em") else "")
    if column not in ("em", "mle") or not kind:
        return f'<th title="{escape(help_text)}"{css}>{column}</th>'
    mark = "≈" if "approximate" in kind else ""
    return (
        f'<th title="{escape(help_text)}; EM {escape(kind)}: {escape(EM_KINDS.get(kind, kind))}"{css}>'
        f"{column}{mark}</th>"
    )


def _cell(
    results: ModelResults,
    name: str,
    row: dict,
    column: str,
    columns: dict[str, dict[str, Any]],
    more: set[str],
    reasons: dict[str, str],
) -> str:
    """The ``<td>`` of parameter ``name`` (its ``row`` of results.json) in ``column``.

    The gap kind in words; a number (shaded by size in a gap column, with the boundary it sits on);
    or the words why the cell is empty, linked to the diagnostics of the column's first solver, whose
    reason is added to ``reasons`` (words to reason, the list under the table).
    """
    value = row.get(column)
    classes = ["gap", _gap_class(value)] if column in ("gap_sd", "gap_sd_em") else []
    classes += ["more"] * (column in more)
    if column == KIND:
        kind = row.get(KIND)
        return f'<td class="kind" title="{escape(kind_text(kind))}">{escape(KIND_WORDS.get(kind, kind or ""))}</td>'
    if is_number(value):
        text = escape(format_number(value, column))
        bound = boundary_of(row, column)
        if bound is not None:
            classes.append("boundary")
            text += f'<span class="why">on the boundary {escape(name)} = {bound:g}</span>'
        return f'<td class="{" ".join(classes)}">{text}</td>'
    words, reason = _missing(results, column, row)
    reasons[words] = reason
    anchor = f"solver-{columns[column]['solvers'][0]}"
    return (
        f'<td class="{" ".join([*classes, "explained"])}" title="{escape(reason)}">'
        f'<a href="#{anchor}">{escape(words)}</a></td>'
    )


def shown_columns(results: ModelResults) -> dict[str, dict[str, Any]]:
    """The schema's columns without those of a solver that was not run (only what ran is shown)."""
    return {c: v for c, v in results.columns.items() if all(s in results.ran for s in v["solvers"])}


def _gap_class(value: Any) -> str:
    if not is_number(value):
        return ""
    size = abs(value)
    return "gap-large" if size >= 0.5 else "gap-medium" if size >= 0.2 else "gap-small"


def notes_html(results: ModelResults) -> str:
    """Every parameter's flags (boundary modes, no mode, sampler warnings, imputed entries), one bullet each."""
    items = [
        f"<li><b>{escape(name)}</b>: {escape(flag['text'])}</li>"
        for name, row in results.parameters.items()
        for flag in row.get("flags", [])
    ]
    return f'<ul class="notes">{"".join(items)}</ul>' if items else "<p>No parameter was flagged.</p>"


def solver_table(results: ModelResults) -> str:
    """Status, time, convergence and message of each solver, with anchors ``#solver-<method>``."""
    rows = []
    for method, label in results.ran.items():
        s = results.solver(method)
        status = STATUS_WORDS.get(s["status"], s["status"])
        converged = {True: "yes", False: "no", None: "—"}[s.get("converged")]
        seconds = f"{s['seconds']:.1f} s" if is_number(s.get("seconds")) else "—"
        iters = s.get("n_iter") if s.get("n_iter") is not None else "—"
        rows.append(
            f'<tr id="solver-{method}" class="status-{escape(s["status"])}"><th scope="row">{label}</th>'
            f"<td>{escape(status)}</td><td>{seconds}</td><td>{converged}</td><td>{escape(str(iters))}</td>"
            f"<td>{escape(s.get('message') or '')}</td></tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in ("solver", "status", "time", "converged", "iterations", "message"))
    return f'<table class="solvers"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
