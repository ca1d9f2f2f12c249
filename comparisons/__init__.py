"""modemean's engine: solve one PyMC model three ways (find_MAP, EM, NUTS) and compare.

>>> from modemean import compare            # doctest: +SKIP
>>> c = compare("eight_schools")                # doctest: +SKIP
>>> c.table                                     # doctest: +SKIP
"""

from .system import configure

configure()  # PyTensor's flags (numba fastmath off, compile lock wait) before the engine imports PyTensor

__all__ = ["compare", "Comparison", "Fit", "ModemeanError", "SOLVERS", "study", "Study"]
_HOME = {
    "compare": "run.compare",
    "Comparison": "run.comparison",
    "SOLVERS": "solvers",
    "Fit": "results.fit",
    "ModemeanError": "errors",
    "study": "studies",
    "Study": "studies",
}


def __getattr__(name: str):
    """The engine's API names, imported on first use (PEP 562), so light modules stay light."""
    if name in _HOME:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
