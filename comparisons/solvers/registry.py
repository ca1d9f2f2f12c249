"""The registry: :data:`SOLVERS` (one instance of each solver, in run order), the table's column owners
and the full check of a run's solvers and options. Importing it imports every solver (PyMC);
:mod:`comparisons.solvers` loads it on first use of these names."""

from __future__ import annotations

from typing import Any

from ..errors import ModemeanError
from .approximations.advi import ADVI, FullRankADVI
from .approximations.laplace import LaplaceSampling
from .approximations.pathfinder import Pathfinder
from .base import Column, Solver
from .declared import DEFAULT_SOLVERS, SOLVER_OPTIONS, check_declared
from .em import EM
from .map import MAP
from .nuts import NUTS

__all__ = ["SOLVERS", "owned_columns", "check_options"]

SOLVERS: dict[str, Solver] = {
    s.name: s for s in (MAP(), EM(), NUTS(), LaplaceSampling(), ADVI(), FullRankADVI(), Pathfinder())
}  # run order, as declared
if {n: (s.options, s.default) for n, s in SOLVERS.items()} != {
    n: (o, n in DEFAULT_SOLVERS) for n, o in SOLVER_OPTIONS.items()
} or list(SOLVERS) != list(SOLVER_OPTIONS):
    raise ModemeanError("the solver registry differs from comparisons.solvers.declared: declare each solver there")


def owned_columns() -> dict[str, tuple[str, Column]]:
    """Column to its owning solver's name and declaration, in registry order."""
    out: dict[str, tuple[str, Column]] = {}
    for solver in SOLVERS.values():
        for column, declared in solver.columns.items():
            if column in out:
                raise ModemeanError(f"column {column!r} is declared by both {out[column][0]} and {solver.name}")
            out[column] = (solver.name, declared)
    return out


def check_options(
    solvers: str | tuple[str, ...] | list[str] | None, options: dict[str, Any]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Validate a run's solvers and options; return the chosen solvers and every option's value.

    Each option's rule and the solver names (:func:`comparisons.solvers.declared.check_declared`), then
    each chosen solver's own :meth:`~comparisons.solvers.base.Solver.check` (e.g. an optional package).

    Parameters
    ----------
    solvers : str (comma-separated), sequence of str, or None (the default solvers); ``"all"``: every solver
    options : dict
        Option name to value; options not given take their declared default.

    Raises
    ------
    ModemeanError
        Naming an unknown solver or option, or the option that breaks its rule and what to pass.
    """
    chosen, values = check_declared(solvers, options)
    for name in chosen:
        SOLVERS[name].check(values)
    return chosen, values
