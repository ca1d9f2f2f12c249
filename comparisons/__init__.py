"""modemean's engine: solve one PyMC model three ways (find_MAP, EM, NUTS) and compare.

>>> from modemean import compare            # doctest: +SKIP
>>> c = compare("eight_schools")                # doctest: +SKIP
>>> c.table                                     # doctest: +SKIP
"""

import os
import sys

# Reproducibility: with numba's fastmath on (PyTensor's default) a freshly compiled log density and
# the same function loaded from the compile cache differ in the last bits (numba re-optimises the
# cached copy with reassociation), so the same seed gave other NUTS draws on a cold and a warm
# cache. Without fastmath both copies are bitwise equal. An explicit PYTENSOR_FLAGS setting wins.
# Set through the environment when PyTensor is not imported yet (importing it costs a second).
if "numba__fastmath" not in os.environ.get("PYTENSOR_FLAGS", ""):
    if "pytensor" in sys.modules:
        sys.modules["pytensor"].config.numba__fastmath = False
    else:
        _flags = os.environ.get("PYTENSOR_FLAGS", "")
        os.environ["PYTENSOR_FLAGS"] = f"{_flags},numba__fastmath=False" if _flags else "numba__fastmath=False"

__all__ = ["compare", "Comparison", "Fit", "ModemeanError", "SOLVERS", "study", "Study"]
_HOME = {
    "compare": "run",
    "Comparison": "run",
    "SOLVERS": "solvers",
    "Fit": "fit",
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
