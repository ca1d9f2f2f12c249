"""modemean's engine: solve one PyMC model three ways (find_MAP, EM, NUTS) and compare.

>>> from modemean import compare            # doctest: +SKIP
>>> c = compare("eight_schools")                # doctest: +SKIP
>>> c.table                                     # doctest: +SKIP
"""

import os

import pytensor

# Reproducibility: with numba's fastmath on (PyTensor's default) a freshly compiled log density and
# the same function loaded from the compile cache differ in the last bits (numba re-optimises the
# cached copy with reassociation), so the same seed gave other NUTS draws on a cold and a warm
# cache. Without fastmath both copies are bitwise equal. An explicit PYTENSOR_FLAGS setting wins.
if "numba__fastmath" not in os.environ.get("PYTENSOR_FLAGS", ""):
    pytensor.config.numba__fastmath = False

from .errors import ModemeanError  # noqa: E402
from .fit import Fit  # noqa: E402
from .run import SOLVERS, Comparison, compare  # noqa: E402

__all__ = ["compare", "Comparison", "Fit", "ModemeanError", "SOLVERS"]
