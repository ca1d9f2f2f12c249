"""The solvers, one file each, and the registry every per-solver list is derived from.

Adding a solver is one file here (a :class:`~comparisons.solvers.base.Solver` subclass: name,
label, columns, options, whether it keeps draws, and ``fit``) and one line in :data:`SOLVERS`.
The table's columns, the cache, ``compare``'s options, the command-line flags and the results
schema that the reports read are all derived from the registry.
"""

from __future__ import annotations

from typing import Any

from ..errors import ModemeanError
from .approximations.advi import ADVI, FullRankADVI
from .approximations.laplace import LaplaceSampling
from .approximations.pathfinder import Pathfinder
from .base import SEED, Column, Option, Solver
from .em import EM
from .map import MAP
from .nuts import NUTS

__all__ = [
    "SOLVERS",
    "Solver",
    "Column",
    "Option",
    "SEED",
    "owned_columns",
    "run_options",
    "default_solvers",
    "check_options",
]

SOLVERS: dict[str, Solver] = {
    s.name: s for s in (MAP(), EM(), NUTS(), LaplaceSampling(), ADVI(), FullRankADVI(), Pathfinder())
}  # run order


def owned_columns() -> dict[str, tuple[str, Column]]:
    """Column to its owning solver's name and declaration, in registry order."""
    out: dict[str, tuple[str, Column]] = {}
    for solver in SOLVERS.values():
        for column, declared in solver.columns.items():
            if column in out:
                raise ModemeanError(f"column {column!r} is declared by both {out[column][0]} and {solver.name}")
            out[column] = (solver.name, declared)
    return out


def run_options() -> dict[str, Option]:
    """Every run option: ``seed``, then each solver's, in registry order (a shared name declared once)."""
    out = {"seed": SEED}
    for solver in SOLVERS.values():
        for name, option in solver.options.items():
            if out.setdefault(name, option) != option:
                raise ModemeanError(f"option {name!r} is declared differently by {solver.name} and another solver")
    return out


def default_solvers() -> tuple[str, ...]:
    """The solvers run when none are named."""
    return tuple(name for name, solver in SOLVERS.items() if solver.default)


def check_options(
    solvers: str | tuple[str, ...] | list[str] | None, options: dict[str, Any]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Validate a run's solvers and options; return the chosen solvers and every option's value.

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
    if solvers is None:
        solvers = default_solvers()
    if solvers == "all" or tuple(solvers) == ("all",):
        solvers = tuple(SOLVERS)
    if isinstance(solvers, str):
        solvers = tuple(s.strip() for s in solvers.split(",") if s.strip())
    unknown = [s for s in solvers if s not in SOLVERS]
    if unknown or not solvers:
        raise ModemeanError(
            f"unknown solver(s) {', '.join(unknown) or '(none given)'}: choose from "
            f"{', '.join(SOLVERS)} (comma-separated), or all"
        )
    declared = run_options()
    unknown = [name for name in options if name not in declared]
    if unknown:
        raise ModemeanError(f"unknown option(s) {', '.join(unknown)}: choose from {', '.join(declared)}")
    values = {name: options.get(name, option.default) for name, option in declared.items()}
    for name, value in values.items():
        declared[name].check(name, value)
    chosen = tuple(dict.fromkeys(solvers))
    for name in chosen:
        SOLVERS[name].check(values)
    return chosen, values
