"""The solvers, one file each, and the registry every per-solver list is derived from.

Adding a solver is one file here (a :class:`~comparisons.solvers.base.Solver` subclass: name,
label, columns, whether it keeps draws, and ``fit``), one line in :data:`SOLVERS` and its name, default
and options in :mod:`comparisons.solvers.declared` (plain data the command line reads without PyMC).
:mod:`comparisons.solvers.registry` holds :data:`SOLVERS`.
The table's columns, the cache, ``compare``'s options, the command-line flags and the results
schema that the reports read are all derived from the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import SEED, Column, Option, Solver
from .declared import default_solvers, run_options

if TYPE_CHECKING:
    from .registry import SOLVERS, check_options, owned_columns

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
_REGISTRY = ("SOLVERS", "owned_columns", "check_options")


def __getattr__(name: str) -> Any:
    """The registry's names, imported on first use (PEP 562): the declarations above need no PyMC, so the
    command line builds its flags and checks its arguments before the engine is imported."""
    if name in _REGISTRY:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
