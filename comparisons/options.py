"""Run defaults and solver names, importable without PyMC (the CLI's parser and ``modemean list``)."""

__all__ = ["DEFAULTS", "SOLVER_NAMES"]

DEFAULTS = {"seed": 20261126, "draws": 1000, "tune": 1000, "chains": 4, "n_init": 5, "sampler": "pymc"}
SOLVER_NAMES = ("map", "em", "nuts")  # the keys of comparisons.run.SOLVERS, in run order
