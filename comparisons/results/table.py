"""The comparison table: one row per scalar parameter, the columns of the results schema."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..solvers import owned_columns
from .fit import Fit, Flag
from .gaps import gap_kinds
from .schema import EM_KINDS, SPREAD_RTOL, format_number

__all__ = ["GAPS", "columns", "column_owners", "make_table", "format_table"]

# the derived columns, computed here from the solvers' columns: name -> (help, the columns it is computed from)
GAPS = {
    "gap_sd": ("(mean − map) / sd: posterior sds between the centre of mass and the peak", ("map", "mean", "sd")),
    "gap_sd_em": (
        "(mean − em) / sd: posterior sds between the centre of mass and EM's marginal mode",
        ("em", "mean", "sd"),
    ),
}


def columns(solvers: Iterable[str] | None = None) -> list[str]:
    """The table's columns: the solvers' estimates (registry order), the gaps, then per-parameter checks.

    ``solvers``, when given (the solvers of a run), keeps only the columns whose every solver ran (a
    gap, or an approximation's column relative to NUTS, needs each solver it is computed from).
    """

    owned = owned_columns()
    names = (
        [c for c, (_, d) in owned.items() if not d.check] + list(GAPS) + [c for c, (_, d) in owned.items() if d.check]
    )
    if solvers is None:
        return names
    ran = set(solvers)
    return [c for c in names if set(_solvers_of(c, owned)) <= ran]


def _solvers_of(column: str, owned: dict) -> list[str]:
    """The solvers a column needs: its owner and the owners of the columns it is computed from."""
    if column in GAPS:
        return list(dict.fromkeys(owned[c][0] for c in GAPS[column][1] if c in owned))
    solver, d = owned[column]
    return list(dict.fromkeys([solver, *(owned[c][0] for c in d.inputs if c in owned)]))


def column_owners(solvers: Iterable[str] | None = None) -> dict[str, dict]:
    """Every column (of a run of ``solvers``, when given), in table order: ``solvers`` (its owner, or every
    solver a gap needs), ``help``, ``marker`` (legend label on the density figures, or ``None``) and
    ``check`` (a diagnostic column)."""

    owned = owned_columns()
    out = {}
    for column in columns(solvers):
        if column in GAPS:
            out[column] = {
                "solvers": _solvers_of(column, owned),
                "help": GAPS[column][0],
                "marker": None,
                "check": False,
            }
        else:
            d = owned[column][1]
            out[column] = {"solvers": _solvers_of(column, owned), "help": d.help, "marker": d.marker, "check": d.check}
    return out


def make_table(fits: dict[str, Fit], order: list[str], notes: dict[str, list[Flag]] | None = None) -> pd.DataFrame:
    """Merge the solvers' estimates into one table.

    Parameters
    ----------
    fits : dict of str to Fit
    order : list of str
        Flat parameter names in display order (free variables, then deterministics).
    notes : dict of str to list of Flag, optional
        Further flags per flat name (e.g. ``imputed``: a missing observation of y at position 3).

    Returns
    -------
    pandas.DataFrame
        Index: flat parameter names. Columns: :func:`columns` of the solvers in ``fits`` (NaN where a
        solver does not apply or failed; no column of a solver that did not run), ``flags`` (the row's
        :class:`~comparisons.results.fit.Flag` list, the solvers' and the table's own), ``notes`` (their
        texts joined by "; ") and ``gap_kind`` (why the row's peak and mean differ,
        :func:`~comparisons.results.gaps.gap_kinds`; ``None`` where nothing was measured).
        ``gap_sd = (mean - map) / sd``, left NaN everywhere when find_MAP found no mode (a
        ``no_mode`` flag on ``map``: the density still rises where it stopped, so a distance would
        measure where it gave up);
        ``gap_sd_em = (mean - em) / sd``, the same distance from EM's marginal mode. Neither is
        computed for a quantity without posterior spread (sd 0, or below ``SPREAD_RTOL`` x
        |mean|: a constant, or an entry of observed data): the ratio would be rounding noise.
        Columns a solver declares with a ``formula`` (an approximation's mean and sd relative to
        NUTS) are computed last, from the merged table, and left NaN on such a row too.
    """

    names = columns(fits)
    table, flags = _merged(fits, order, names, notes or {})
    gaps = _add_gaps(table, fits, names)
    computed = {c: d.formula for c, (_, d) in owned_columns().items() if d.formula is not None and c in names}
    for column, formula in computed.items():
        table[column] = formula(table)
    _clear_constant_rows(table, names, [*gaps, *computed], flags)
    table["flags"] = [flags[n] for n in order]
    table["notes"] = ["; ".join(f.text for f in flags[n]) for n in order]
    table["gap_kind"] = gap_kinds(fits, table)
    table.index.name = "parameter"
    return table


def _merged(
    fits: dict[str, Fit], order: list[str], names: list[str], notes: dict[str, list[Flag]]
) -> tuple[pd.DataFrame, dict[str, list[Flag]]]:
    """The solvers' estimates in one table, and every row's flags (``notes``' first, then the solvers').

    Parameters
    ----------
    fits : dict of str to Fit
    order : list of str
        Flat parameter names, the rows in order; an estimate or flag of another name is dropped.
    names : list of str
        The table's columns; NaN where no solver gave a value.
    notes : dict of str to list of Flag
        Flags from outside the solvers, per flat name.

    Returns
    -------
    table : pandas.DataFrame, shape (len(order), len(names))
    flags : dict of str to list of Flag
        A new list per name of ``order``.
    """
    rows = {name: dict.fromkeys(names, np.nan) for name in order}
    flags = {name: list(notes.get(name, [])) for name in order}
    for fit in fits.values():
        for column, values in fit.estimates.items():
            for name, value in values.items():
                if name in rows:
                    rows[name][column] = value
        for name, fit_flags in fit.flags.items():
            if name in flags:
                flags[name].extend(fit_flags)
    return pd.DataFrame.from_dict(rows, orient="index", columns=names), flags


def _add_gaps(table: pd.DataFrame, fits: dict[str, Fit], names: list[str]) -> list[str]:
    """Set the :data:`GAPS` columns among ``names`` in place, NaN from a peak column flagged ``no_mode``.

    Returns
    -------
    list of str
        The gap columns set.
    """
    no_mode = {f.column for fit in fits.values() for flags in fit.flags.values() for f in flags if f.kind == "no_mode"}
    gaps = [g for g in GAPS if g in names]
    for gap in gaps:
        peak, mean, sd = GAPS[gap][1]
        table[gap] = (table[mean] - table[peak]) / table[sd]
        if peak in no_mode:
            table[gap] = np.nan  # the peak column's point is not a mode in any coordinate: no peak to measure from
    return gaps


def _clear_constant_rows(
    table: pd.DataFrame, names: list[str], relative: list[str], flags: dict[str, list[Flag]]
) -> None:
    """NaN in the ``relative`` columns (ratios to ``sd``) of a row without posterior spread, and a ``constant``
    flag on it (in place).

    A row has no spread when its ``sd`` is 0 or at most ``SPREAD_RTOL`` x its ``|mean|`` (a constant, or an
    entry of observed data): a ratio to that sd would be rounding noise. Without ``sd`` and ``mean``
    among ``names`` no row is cleared.
    """
    constant = (
        (table["sd"] <= SPREAD_RTOL * table["mean"].abs()) | (table["sd"] == 0)
        if {"sd", "mean"} <= set(names)
        else pd.Series(False, index=table.index)
    )
    table.loc[constant, relative] = np.nan
    for name in table.index[constant]:
        spread = float(table.loc[name, "sd"])
        flags[name].append(
            Flag(None, "constant", spread, f"no posterior spread (sd = {spread:.3g}): a constant, so no gap_sd")
        )


def format_table(table: pd.DataFrame, shown: list[str] | None = None, em_kind: str = "") -> str:
    """The table as aligned text; estimates on a boundary are marked ``†`` and explained below.

    ``em_kind`` (the EM fit's ``diagnostics["em_kind"]``), when given, is a footnote on ``em`` and
    ``mle``; an approximate kind also marks those column names ``≈``.
    """
    shown = [c for c in columns() if c in table.columns] if shown is None else shown
    approximate = "approximate" in em_kind
    head = ["parameter", *(f"{c}≈" if approximate and c in ("em", "mle") else c for c in shown)]
    lines, footnotes = [], []
    for name, row in table.iterrows():
        cells = [str(name)]
        for column in shown:
            value = row[column]
            cell = format_number(value, column)
            if any(f.column == column and f.kind in ("boundary", "no_mode") for f in row["flags"]):
                cell += "†"
            cells.append(cell)
        lines.append(cells)
        if row["notes"]:
            footnotes.append(f"  {name}: {row['notes']}")
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines, strict=True)]
    fmt = lambda cells: "  ".join(
        c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )  # noqa: E731
    text = [fmt(head), fmt(["-" * w for w in widths]), *(fmt(c) for c in lines)]
    if em_kind:
        text += ["", f"{'≈ ' if approximate else ''}em, mle: EM is {em_kind}: {EM_KINDS.get(em_kind, em_kind)}"]
    if footnotes:
        text += ["", "† notes:", *footnotes]
    return "\n".join(text)
