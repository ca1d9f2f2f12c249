"""What a person reads of a comparison: the statuses in one line, the verdict, a compact table.

The terminal table (``modemean run``) fits :data:`WIDTH` columns and the notebook's table has at most
:data:`MAX_COLUMNS`: the columns of :data:`COMPACT` that the run has, a vector parameter with more than
:data:`VECTOR_ROWS` entries collapsed to one summary line (``c.table`` and ``--wide`` have every row).
"""

from __future__ import annotations

import re
import textwrap
from html import escape

import pandas as pd

from ..results.fit import Fit
from ..results.schema import EM_KINDS, format_column, format_gap, is_number

__all__ = [
    "COMPACT",
    "WIDTH",
    "MAX_COLUMNS",
    "VECTOR_ROWS",
    "status_line",
    "verdict",
    "compact_rows",
    "text_view",
    "html_view",
]

COMPACT = ("map", "em", "mean", "median", "sd", "gap_sd", "gap_sd_em")  # then the gap's kind and the notes
WIDTH = 100  # characters of the terminal table by default
MAX_COLUMNS = 10  # of the notebook's table: parameter, COMPACT, kind, notes
VECTOR_ROWS = 3  # a vector with more entries is one summary line


def status_line(fits: dict[str, Fit]) -> str:
    """``map ok 1.7 s · em ok 0.3 s · nuts ok 7.4 s (checks failed)``: every solver's status in one line."""
    parts = []
    for method, fit in fits.items():
        status = fit.status.replace("_", " ")
        if fit.ok and fit.converged is False:
            status += " (checks failed)" if method == "nuts" else " (no convergence)"
        parts.append(f"{method} {status} {fit.seconds:.1f} s")
    return " · ".join(parts)


def _gap(row: pd.Series) -> tuple[float, str] | None:
    """The row's gap and its column: ``gap_sd``, or ``gap_sd_em`` where find_MAP's point is no peak."""
    for column in ("gap_sd", "gap_sd_em"):
        if is_number(row.get(column)):
            return float(row[column]), column
    return None


def verdict(table: pd.DataFrame) -> str:
    """One sentence: the largest skew gap (the mean that many posterior sds from the peak), or why none."""
    skew = [(str(name), g) for name, row in table.iterrows() if row.get("gap_kind") == "skew" and (g := _gap(row))]
    if skew:
        name, (gap, column) = max(skew, key=lambda item: abs(item[1][0]))
        peak = "the peak" if column == "gap_sd" else "EM's marginal mode"
        side = "above" if gap >= 0 else "below"
        where = f"{abs(gap):.2f} sd {side} {peak}"
        return f"Largest skew gap: {name}, its posterior mean {where} ({column} {format_gap(gap)})."
    kinds = pd.Series([k for k in table.get("gap_kind", []) if isinstance(k, str)])
    counts = ", ".join(f"{kind} {n}" for kind, n in kinds.value_counts().items())
    if not any(_gap(row) for _, row in table.iterrows()):
        known = f" (known without it: {counts})" if counts else ""
        return f"No gap measured: it needs NUTS's mean and sd, and find_MAP's or EM's mode{known}."
    return f"No skew gap: every measured gap has another cause ({counts}; see gap_kind)."


def _groups(table: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """Rows grouped by variable (``b[0,0]``, ``b[0,1]``, ... under ``b``), in table order."""
    groups: dict[str, list[str]] = {}
    for name in table.index:
        groups.setdefault(re.sub(r"\[.*\]$", "", str(name)), []).append(str(name))
    return list(groups.items())


def _summary(variable: str, names: list[str], table: pd.DataFrame) -> str:
    """``b[0,0]..b[17,1]: 36 values, |gap| ≤ 0.40, kinds: skew 30, unreliable 6``."""
    gaps = [abs(g[0]) for g in (_gap(table.loc[n]) for n in names) if g]
    kinds = pd.Series([k for k in table.get("gap_kind", pd.Series(dtype=object)).loc[names] if isinstance(k, str)])
    text = f"{names[0]}..{names[-1]}: {len(names)} values"
    if gaps:
        text += f", |gap| ≤ {max(gaps):.2f}"
    if len(kinds):
        text += ", kinds: " + ", ".join(f"{k} {n}" for k, n in kinds.value_counts().items())
    return text


def compact_rows(table: pd.DataFrame, columns: list[str], collapse: bool = True) -> tuple[list, list[str]]:
    """The rows to show, each ``(name, cells)`` (cells formatted column-wise over the shown rows), or for a
    collapsed vector ``(summary, None)``; and the rows' notes, ``"name: notes"``."""
    shown: list[str] = []
    out: list[tuple[str, str | None]] = []
    notes: list[str] = []
    for variable, names in _groups(table):
        if collapse and len(names) > VECTOR_ROWS:
            out.append((_summary(variable, names, table), None))
        else:
            shown += names
            out += [(n, n) for n in names]
    cells = {c: dict(zip(shown, format_column(table.loc[shown, c], c), strict=True)) for c in columns}
    rows: list[tuple[str, list[str] | None]] = []
    for label, name in out:
        if name is None:
            rows.append((label, None))
            continue
        row = table.loc[name]
        marked = {
            c: cells[c][name]
            + ("†" if any(f.column == c and f.kind in ("boundary", "no_mode") for f in row["flags"]) else "")
            for c in columns
        }
        rows.append((name, [marked[c] for c in columns] + [str(row.get("gap_kind") or "—")]))
        if row["notes"]:
            notes.append(f"{name}: {row['notes']}")
    return rows, notes


def html_view(name: str, title: str, fits: dict[str, Fit], table: pd.DataFrame) -> str:
    """The notebook's view: the model, the statuses, the verdict and the compact table (≤ 10 columns)."""
    columns = [c for c in COMPACT if c in table.columns]
    rows, _ = compact_rows(table, columns)
    head = "".join(f"<th>{escape(h)}</th>" for h in ("parameter", *columns, "gap_kind", "notes"))
    body = []
    for label, cells in rows:
        if cells is None:
            body.append(f'<tr><th scope="row" colspan="{len(columns) + 3}">{escape(label)}</th></tr>')
            continue
        notes = table.loc[label, "notes"]
        body.append(
            f'<tr><th scope="row">{escape(label)}</th>'
            + "".join(f"<td>{escape(c)}</td>" for c in cells)
            + f"<td>{escape(notes)}</td></tr>"
        )
    return (
        f"<h4>{escape(name)}: {escape(title)}</h4><p>{escape(status_line(fits))}</p>"
        f'<p class="verdict">{escape(verdict(table))}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "<p>Every row and column: <code>c.table</code>.</p>"
    )


def text_view(table: pd.DataFrame, em_kind: str = "") -> str:
    """The terminal's table, at most :data:`WIDTH` characters a line: the verdict, :data:`COMPACT`'s columns
    and the gap's kind, vectors collapsed, the notes wrapped below (``--wide``: :func:`format_table`)."""
    columns = [c for c in COMPACT if c in table.columns]
    approximate = "approximate" in em_kind
    head = ["parameter", *(f"{c}≈" if approximate and c in ("em", "mle") else c for c in columns), "gap_kind"]
    rows, notes = compact_rows(table, columns)
    cells = [[label, *values] for label, values in rows if values is not None]
    widths = [max(len(c) for c in col) for col in zip(head, *cells, strict=True)]

    def line(parts: list[str]) -> str:
        return "  ".join(
            p.rjust(w) if 0 < i < len(parts) - 1 else p.ljust(w)
            for i, (p, w) in enumerate(zip(parts, widths, strict=True))
        ).rstrip()

    text = [line(head), line(["-" * w for w in widths])]
    text += [line([label, *values]) if values is not None else f"{label}" for label, values in rows]
    wrap = lambda s, indent="  ": textwrap.wrap(s, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")  # noqa: E731
    text = [t if len(t) <= WIDTH else textwrap.shorten(t, WIDTH, placeholder="…") for t in text]
    if em_kind:
        text += ["", *wrap(f"{'≈ ' if approximate else ''}em: EM is {em_kind}: {EM_KINDS.get(em_kind, em_kind)}", "")]
    if notes:
        text += ["", "† notes:", *(w for n in notes for w in wrap(n))]
    text += ["", *wrap(verdict(table) + " Every column: --wide (or compare(...).table).", "")]
    return "\n".join(text)
