"""The continuous engines' M-step with the boundary test for a scale that crawls towards 0.

A scale (a log-transformed parameter) that EM drives slowly towards 0 would crawl for ever
(Dyestuff2). When it does, :class:`Boundary` evaluates the profile at the boundary: the exact marginal
objective with that scale at 0 and every other parameter maximised directly (EM itself crawls there).
If the profile is at least the current objective and the objective does not rise when the scale leaves
0, the mode is on the boundary: the scale is reported as exactly 0 (and flagged by
:func:`comparisons.density.bounds.boundary_flags`), and EM stops there. Otherwise the M-step is one
SQUAREM cycle (:func:`comparisons.em.squarem.squarem`).
"""

from __future__ import annotations

import numpy as np
from pymc.logprob.utils import ParameterValueError

from .engine import Params
from .gaussian.engine import GaussianLatentEM
from .squarem import squarem

__all__ = ["CHECK_EVERY", "CRAWL", "GAP", "PROBE", "Boundary"]

CRAWL = 0.1  # a scale falling by less than this in log per iteration is crawling
CHECK_EVERY = np.log(2)  # after a boundary check fails, check again once the scale has halved
GAP = 1.0  # ... and is profiled only if setting it to 0 (others kept) loses less than this
PROBE = 1e-2  # the slope at the boundary is probed at this x the scale's current value


class Boundary:
    """EM's M-step with the boundary test for scales that crawl towards 0, and SQUAREM (one per column).

    Parameters
    ----------
    engine : GaussianLatentEM
        Or its Laplace subclass.
    with_prior : bool
        MAP-EM (the column ``em``) or maximum likelihood (``mle``).
    accelerate : bool, default True
        Each M-step a SQUAREM cycle.

    Attributes
    ----------
    found : list of (int, float)
        ``(coordinate, objective)`` of the boundary modes found.
    """

    def __init__(self, engine: GaussianLatentEM, with_prior: bool, accelerate: bool = True):
        self.engine, self.with_prior, self.accelerate = engine, with_prior, accelerate
        self.last: dict | None = None  # params the last M-step returned (a new restart starts elsewhere)
        self.checked: dict[int, float] = {}  # coordinate -> u at its last failed boundary check
        self.found: list[tuple[int, float]] = []  # (coordinate, objective) of boundary modes found

    def objective(self, params: Params) -> float:
        """The exact (or Laplace) marginal log likelihood, + the log prior for MAP-EM."""
        value = self.engine.marginal_loglik(params)
        return value + (self.engine.log_prior(params) if self.with_prior else 0.0)

    def m_step(self, expectations: dict) -> Params:
        """The boundary profile where a scale crawls and it is the mode, else the M-step (a SQUAREM cycle)."""
        eng = self.engine
        old = expectations["params"]
        if self.last is None or any(not np.array_equal(old[p], self.last[p]) for p in eng.params):
            self.checked = {}  # a new restart
        u_old = expectations["u"]
        new = eng.maximise_q(expectations, self.with_prior)
        u_new = eng.to_u(new)
        bound = eng.at_bound(new)
        for i in np.flatnonzero(eng.scale & ~bound).tolist():
            fall = u_old[i] - u_new[i]
            if not (0.0 < fall < CRAWL) or u_new[i] > self.checked.get(i, np.inf) - CHECK_EVERY:
                continue
            self.checked[i] = u_new[i]
            profile = self._profile(new, i)
            if profile is not None:
                self.last = profile
                return profile
        if self.accelerate:
            new = squarem(eng, expectations, new, self.with_prior, self.objective)
        self.last = new
        return new

    def _profile(self, params: Params, i: int) -> Params | None:
        """The profile with scale coordinate ``i`` at 0, if it is the mode (else ``None``)."""
        eng = self.engine
        try:
            current = self.objective(params)
            mask = eng.at_bound(params)
            mask[i] = True
            # cheap pre-test: with the others where they are, the scale at 0 must lose less than GAP
            # (else the mode is inside for now; the test runs again once the scale has halved)
            if self.objective(eng.to_params(eng.to_u(params), mask)) < current - GAP:
                return None
            p = eng.maximise_marginal(eng.to_params(eng.to_u(params), mask), self.with_prior, mask)
            at_zero = self.objective(p)
            if not at_zero >= current - 1e-12 * max(1.0, abs(current)):
                return None
            # the objective must not rise as the scale leaves 0 (else the mode is inside)
            u_probe = eng.to_u(p)
            u_probe[i] = eng.to_u(params)[i] + np.log(PROBE)
            mask[i] = False
            probe = self.objective(eng.to_params(u_probe, mask))
            if probe > at_zero + 1e-12 * max(1.0, abs(at_zero)):
                return None
        except (ParameterValueError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            return None
        self.found.append((i, at_zero))
        return p
