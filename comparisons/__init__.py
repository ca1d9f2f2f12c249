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

# Waiting for the compile directory: PyTensor holds its lock while it builds a C module, and a process that
# waits longer than ``compile__timeout`` (default 120 s) gets filelock's Timeout from the compile, which the
# engine's C-then-numba policy took for a failed compile (issue 38, 8a: on two cores at load 8 another test
# worker's or catalog model's compiles held it that long). modemean's processes wait up to an hour; a
# compile that still times out (PyTensor imported before modemean) is retried, not switched to numba.
COMPILE_LOCK_WAIT = 3600  # seconds
if "compile__timeout" not in os.environ.get("PYTENSOR_FLAGS", "") and "pytensor" not in sys.modules:
    _flags = os.environ.get("PYTENSOR_FLAGS", "")
    os.environ["PYTENSOR_FLAGS"] = f"{_flags},compile__timeout={COMPILE_LOCK_WAIT}".lstrip(",")

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
