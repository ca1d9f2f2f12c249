"""The registry's plain data: each solver's name, whether it runs by default, and its run options.

Importable without PyMC (the solvers' modules import it), so the command line builds its flags and
checks a run's solvers and options before the engine is imported. Each built-in solver class takes
its ``options`` from :data:`SOLVER_OPTIONS`; :mod:`comparisons.solvers.registry` checks at import that
its names, order and defaults are the ones declared here. Once the registry is imported, the functions
below read it instead, so a solver added to :data:`~comparisons.solvers.registry.SOLVERS` at run time (one
class and one line, in a script or a test) gets its flags and checks too.
"""

from __future__ import annotations

import sys
from typing import Any

from ..errors import ModemeanError
from .base import SEED, Option

__all__ = [
    "APPROX_DRAWS",
    "DEFAULT_SOLVERS",
    "PATHFINDER_MAX_ITER",
    "SAMPLERS",
    "SOLVER_OPTIONS",
    "check_declared",
    "solver_names",
    "default_solvers",
    "run_options",
]

SAMPLERS = ("pymc", "nutpie")
PATHFINDER_MAX_ITER = 1000  # L-BFGS iterations at most (Stan's default)
APPROX_DRAWS = Option(
    int, 4000, "independent draws of each approximation (laplace, advi, fullrank_advi, pathfinder)", low=10
)

# solver name -> its run options besides ``seed``, in run order
SOLVER_OPTIONS: dict[str, dict[str, Option]] = {
    "map": {
        "n_starts": Option(int, 4, "find_MAP starts (start 0: the model's initial point, the others jittered)", low=1)
    },
    "em": {"n_init": Option(int, 5, "EM restarts", low=1)},
    "nuts": {
        "draws": Option(int, 1000, "NUTS draws per chain", low=1),
        "tune": Option(int, 1000, "NUTS tuning steps per chain", low=0),
        "chains": Option(int, 4, "NUTS chains", low=1),
        "sampler": Option(
            str, "pymc", "NUTS implementation (nutpie needs pip install 'modemean[fast]')", choices=SAMPLERS
        ),
    },
    "laplace": {"approx_draws": APPROX_DRAWS},
    "advi": {"approx_draws": APPROX_DRAWS},
    "fullrank_advi": {"approx_draws": APPROX_DRAWS},
    "pathfinder": {
        "approx_draws": APPROX_DRAWS,
        "pathfinder_maxiter": Option(
            int,
            PATHFINDER_MAX_ITER,
            "Pathfinder's L-BFGS iterations at most (BlackJAX estimates the ELBO at "
            "every path point at once: lower it if a large model runs out of memory)",
            low=1,
        ),
    },
}
DEFAULT_SOLVERS = ("map", "em", "nuts")  # run when none are named


def _registered() -> dict[str, tuple[dict[str, Option], bool]]:
    """Each solver's options and whether it runs by default: from the registry once it is imported, else as
    declared here (the same for the built-in solvers: the registry checks it)."""
    registry = sys.modules.get(f"{__package__}.registry")
    if registry is None:
        return {name: (options, name in DEFAULT_SOLVERS) for name, options in SOLVER_OPTIONS.items()}
    return {name: (solver.options, solver.default) for name, solver in registry.SOLVERS.items()}


def run_options() -> dict[str, Option]:
    """Every run option: ``seed``, then each solver's, in registry order (a shared name declared once)."""
    out = {"seed": SEED}
    for solver, (options, _) in _registered().items():
        for name, option in options.items():
            if out.setdefault(name, option) != option:
                raise ModemeanError(f"option {name!r} is declared differently by {solver} and another solver")
    return out


def solver_names() -> tuple[str, ...]:
    """Every solver's name, in run order."""
    return tuple(_registered())


def default_solvers() -> tuple[str, ...]:
    """The solvers run when none are named."""
    return tuple(name for name, (_, default) in _registered().items() if default)


def check_declared(
    solvers: str | tuple[str, ...] | list[str] | None, options: dict[str, Any]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Check a run's solver names and each option's rule; return the chosen solvers and every option's value.

    The part of :func:`comparisons.solvers.check_options` that needs no solver module (no PyMC).

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
    registered = _registered()
    if solvers == "all" or tuple(solvers) == ("all",):
        solvers = tuple(registered)
    if isinstance(solvers, str):
        solvers = tuple(s.strip() for s in solvers.split(",") if s.strip())
    unknown = [s for s in solvers if s not in registered]
    if unknown or not solvers:
        raise ModemeanError(
            f"unknown solver(s) {', '.join(unknown) or '(none given)'}: choose from "
            f"{', '.join(registered)} (comma-separated), or all"
        )
    declared = run_options()
    unknown = [name for name in options if name not in declared]
    if unknown:
        raise ModemeanError(f"unknown option(s) {', '.join(unknown)}: choose from {', '.join(declared)}")
    values = {name: options.get(name, option.default) for name, option in declared.items()}
    for name, value in values.items():
        declared[name].check(name, value)
    return tuple(dict.fromkeys(solvers)), values
