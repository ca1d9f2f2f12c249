"""modemean: one PyMC model, three answers -- the posterior mode (find_MAP), EM and NUTS, side by side.

The repository keeps three top-level folders that install under this one name (setuptools
``package-dir``): ``models/`` is :mod:`modemean.models` (the catalog), ``comparisons/`` is
:mod:`modemean.comparisons` (the engine) and ``reports/`` is :mod:`modemean.reports` (rendering).
A researcher's own ``models/`` or ``reports/`` package therefore never shadows modemean's.

>>> from modemean import compare            # doctest: +SKIP
>>> c = compare("eight_schools")            # doctest: +SKIP
>>> c.table                                 # doctest: +SKIP
"""

from .models import MODEL_HELPERS  # a model helper's name -> its home module in models/

__all__ = [
    "compare",
    "Comparison",
    "Fit",
    "ModemeanError",
    "SOLVERS",
    "study",
    "Study",
    "LogPrior",
    "normal_mixture_m_step",
]

_HOMES = {"LogPrior": "comparisons.density.prior"} | {k: f"models.{v}" for k, v in MODEL_HELPERS.items()}


def __getattr__(name: str):
    """The API names, imported on first use (PEP 562): ``modemean list`` and ``--help`` stay light,
    while ``from modemean import compare`` imports the engine (PyMC) as usual."""
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    if name in __all__:
        from . import comparisons

        return getattr(comparisons, name)
    raise AttributeError(f"module 'modemean' has no attribute {name!r}")
