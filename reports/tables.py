"""HTML tables: the comparison table (missing cells explained in words) and the diagnostics."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from modemean.comparisons.results.schema import EM_KINDS, STATUS_WORDS, format_number, is_number

from .load import ModelResults, boundary_of, zero_spread

__all__ = [
    "DIAGNOSTICS",
    "LEAD",
    "TABLE_JS",
    "lead_first",
    "table_tools",
    "comparison_table",
    "em_kind",
    "em_kind_html",
    "notes_html",
    "solver_table",
    "diagnostics_html",
    "html_table",
]


LEAD = ("map", "em", "mean", "median", "sd", "gap_sd")  # the columns a reader needs first; the rest on request

# Sorting (click a column head; again for the other direction) and filtering (input.filter[data-table=id]) of
# every table.sortable on a page, inline so it works from file:// with no network resource.
TABLE_JS = r"""
(() => {
const value = td => { const t = td ? td.textContent.trim().replace(/\u2212/g, "-") : ""; const v = parseFloat(t);
  return isNaN(v) ? t.toLowerCase() : v; };
for (const table of document.querySelectorAll("table.sortable")) {
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, col) => {
    th.classList.add("sorts"); th.tabIndex = 0;
    const sort = () => {
      const dir = th.dataset.sorted === "ascending" ? -1 : 1;
      heads.forEach(h => delete h.dataset.sorted);
      th.dataset.sorted = dir === 1 ? "ascending" : "descending";
      const rows = Array.from(table.tBodies[0].rows);
      rows.sort((a, b) => { const x = value(a.cells[col]), y = value(b.cells[col]);
        if (typeof x === "number" && typeof y === "number") return dir * (x - y);
        if (typeof x === "number") return -1; if (typeof y === "number") return 1;
        return dir * x.localeCompare(y); });
      for (const r of rows) table.tBodies[0].appendChild(r);
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", e => { if (e.key === "Enter") sort(); });
  });
}
for (const input of document.querySelectorAll("input.filter")) {
  const table = document.getElementById(input.dataset.table);
  input.addEventListener("input", () => {
    const q = input.value.trim().toLowerCase();
    for (const r of table.tBodies[0].rows) r.hidden = q !== "" && !r.cells[0].textContent.toLowerCase().includes(q);
  });
}
})();
"""


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
    shown = shown_columns(results)
    columns = {c: shown[c] for c in lead_first(shown)}
    more = {c for c in columns if c not in LEAD}

    def header(c):
        help_text = columns[c]["help"]
        css = " ".join(["gap"] * (c == "gap_sd") + ["more"] * (c in more))
        css = f' class="{css}"' if css else ""
        if c not in ("em", "mle") or not kind:
            return f'<th title="{escape(help_text)}"{css}>{c}</th>'
        mark = "≈" if "approximate" in kind else ""
        return (
            f'<th title="{escape(help_text)}; EM {escape(kind)}: {escape(EM_KINDS.get(kind, kind))}"{css}>'
            f"{c}{mark}</th>"
        )

    head = "<th>parameter</th>" + "".join(header(c) for c in columns)
    body = []
    for name, row in results.parameters.items():
        cells = [f'<th scope="row">{escape(name)}</th>']
        for column in columns:
            value = row.get(column)
            classes = ["gap", _gap_class(value)] if column in ("gap_sd", "gap_sd_em") else []
            classes += ["more"] * (column in more)
            if is_number(value):
                text = escape(format_number(value, column))
                bound = boundary_of(row, column)
                if bound is not None:
                    classes.append("boundary")
                    text += f'<span class="why">on the boundary {escape(name)} = {bound:g}</span>'
                cells.append(f'<td class="{" ".join(classes)}">{text}</td>')
            else:
                words, reason = _missing(results, column, row)
                reasons[words] = reason
                anchor = f"solver-{columns[column]['solvers'][0]}"
                cells.append(
                    f'<td class="{" ".join([*classes, "explained"])}" title="{escape(reason)}">'
                    f'<a href="#{anchor}">{escape(words)}</a></td>'
                )
        body.append(f'<tr data-parameter="{escape(name)}">{"".join(cells)}</tr>')
    explained = "".join(f"<li><b>{escape(w)}</b>: {escape(r)}</li>" for w, r in reasons.items())
    return (
        f'<div class="table-tools">{table_tools("comparison", "parameters", len(more))}'
        f'<div class="scroll"><table class="comparison sortable" id="comparison"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div></div>"
        + (f'<p>Empty cells:</p><ul class="empty-cells">{explained}</ul>' if explained else "")
    )


def shown_columns(results: ModelResults) -> dict[str, dict[str, Any]]:
    """The schema's columns without those of optional solvers (``default`` false) that were not run."""
    optional = {name for name, s in results.schema["solvers"].items() if not s.get("default", True)}
    return {
        c: v
        for c, v in results.columns.items()
        if not (v["solvers"][0] in optional and results.solver(v["solvers"][0])["status"] == "not_run")
    }


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
    for method, label in results.labels.items():
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


def diagnostics_html(results: ModelResults) -> str:
    """One headed section per solver in the results' schema that left diagnostics: its own renderer
    (:data:`DIAGNOSTICS`) where it has one, else its diagnostics as a key/value table."""
    parts = []
    for method, label in results.labels.items():
        solver = results.solver(method)
        if solver.get("diagnostics"):
            parts.append(DIAGNOSTICS.get(method, _generic_diagnostics)(label, solver))
    return "".join(parts)


def _nuts_diagnostics(label: str, solver: dict) -> str:
    if solver["status"] != "ok":
        return ""
    d = solver["diagnostics"]
    settings = ", ".join(f"{k}={v}" for k, v in (d.get("settings") or {}).items()) or "defaults"
    return f"<h3>{escape(label)}</h3>" + html_table(
        ("sampler", "chains", "tune", "draws", "divergences", "max R-hat", "min bulk ESS", "settings"),
        [
            (
                d.get("sampler", "—"),
                d.get("chains", "—"),
                d.get("tune", "—"),
                d.get("draws", "—"),
                d.get("divergences", "—"),
                format_number(d.get("max_r_hat"), "r_hat"),
                format_number(d.get("min_ess_bulk"), "ess_bulk"),
                settings,
            )
        ],
    )


def _map_diagnostics(label: str, solver: dict) -> str:
    d = solver["diagnostics"]
    if not d.get("starts"):
        return ""
    agree = (
        f"{d['n_starts_agreeing']} of {len(d['starts'])} starts agree with the best mode"
        if "n_starts_agreeing" in d
        else ""
    )
    unc = d.get("map_unconstrained")
    unc_text = (
        f"; the unconstrained (Jacobian) optimisation: success {unc['success']}, {unc['nit']} iterations, "
        f"{unc['message']}"
        if unc
        else ""
    )
    return (
        f"<h3>{escape(label)} audit</h3><p>{escape(d.get('optimizer', ''))}. {escape(agree)}{escape(unc_text)}.</p>"
        + html_table(
            ("start", "success", "iterations", "log density", "optimiser message"),
            [
                (s["start"], "yes" if s["success"] else "no", s["nit"], format_number(s["log_density"]), s["message"])
                for s in d["starts"]
            ],
        )
    )


def _em_diagnostics(label: str, solver: dict) -> str:
    parts = []
    for run, d in solver["diagnostics"].items():
        if not isinstance(d, dict) or "restarts" not in d:
            continue
        title = "MAP-EM (with prior)" if run == "em" else "ML-EM (no prior)" if run == "mle" else run
        summary = (
            f"best restart {d['best_restart']}; spread of the restarts' final objectives "
            f"{format_number(d.get('objective_spread'))}; {d['n_decreases']} decrease(s) of the objective"
            f" (largest {format_number(d.get('largest_decrease'))}); {d['n_failed']} restart(s) broke down"
        )
        parts.append(
            f"<h3>{escape(label)} convergence: {escape(title)}</h3><p>{escape(summary)}.</p>"
            + html_table(
                ("restart", "final objective", "iterations", "converged", "decreases", "error"),
                [
                    (
                        r["restart"],
                        format_number(r["objective"]),
                        r["n_iter"],
                        "yes" if r["converged"] else "no",
                        r["n_decreases"],
                        r["error"] or "—",
                    )
                    for r in d["restarts"]
                ],
            )
        )
    return "".join(parts)


def _generic_diagnostics(label: str, solver: dict) -> str:
    """Any solver's diagnostics: one row per key, nested values as compact text."""

    def show(value):
        return format_number(value) if isinstance(value, float) else str(value)

    return f"<h3>{escape(label)}</h3>" + html_table(
        ("diagnostic", "value"), [(k, show(v)) for k, v in solver["diagnostics"].items()], css="meta"
    )


# solvers whose diagnostics have a page layout of their own; any other solver gets the generic table
DIAGNOSTICS = {"nuts": _nuts_diagnostics, "map": _map_diagnostics, "em": _em_diagnostics}
