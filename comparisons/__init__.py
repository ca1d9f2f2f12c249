"""modemean's engine: solve one PyMC model three ways (find_MAP, EM, NUTS) and compare.

>>> from comparisons import compare            # doctest: +SKIP
>>> c = compare("eight_schools")                # doctest: +SKIP
>>> c.table                                     # doctest: +SKIP
"""

from .errors import ModemeanError
from .fit import Fit
from .run import SOLVERS, Comparison, compare

__all__ = ["compare", "Comparison", "Fit", "ModemeanError", "SOLVERS"]
