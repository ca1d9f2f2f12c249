"""``fullrank_advi``: ADVI with a full covariance (``pm.fit(method="fullrank_advi")``), as in :mod:`.advi`."""

from __future__ import annotations

from ..approximation import APPROX_DRAWS, approximation_columns
from ..results.fit import Fit
from ..spec import ModelSpec
from .advi import fit_fullrank_advi
from .base import Solver

__all__ = ["FullRankADVI"]


class FullRankADVI(Solver):
    """Full-rank ADVI (:func:`comparisons.solvers.advi.fit_fullrank_advi`)."""

    name = "fullrank_advi"
    label = "ADVI (full-rank)"
    columns = approximation_columns("fullrank_advi", "full-rank ADVI")
    options = {"approx_draws": APPROX_DRAWS}
    has_draws = True
    default = False

    def fit(self, spec: ModelSpec, *, seed: int, approx_draws: int) -> Fit:
        return fit_fullrank_advi(spec, seed=seed, draws=approx_draws)
