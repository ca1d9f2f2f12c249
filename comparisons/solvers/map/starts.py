"""find_MAP's starts: its objective compiled once, the starts, and their polish (Newton, Powell).

A start that stopped before a stationary point (L-BFGS-B's relative-reduction test fires early on a
badly conditioned density) is polished by Newton's method with the exact Hessian
(:func:`comparisons.density.optimize.newton`), and a start at a kink (an L1 penalty) by Powell's method.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
from pymc.blocking import DictToArrayBijection
from pymc.initial_point import make_initial_point_fns_per_chain
from pymc.tuning.starting import scipy_optimize_funcs_from_loss

from ...density.optimize import DECREMENT_TOL, newton, newton_decrement
from ...density.space import ValueSpace
from ...spec.observations import initial_point

__all__ = ["Objective", "Start", "run_start", "agrees", "same_mode", "AGREE_RTOL"]

AGREE_RTOL = 1e-3  # starts agree when every parameter is within this (relative, +abs) of the best
SAME_MODE_SD = 0.01  # ... or within this fraction of its Laplace sd (a parameter near 0, a wide posterior)
# two peaks whose log densities differ by less than this are one height: each stationary start is within
# DECREMENT_TOL of its peak, and the log density itself is rounded to about 1e-12 of its size
SAME_HEIGHT = 2 * DECREMENT_TOL
KINK_GTOL = 1e-3  # L-BFGS-B stopped with a gradient above this (relative to the objective): maybe a kink
POWELL = {"xtol": 1e-10, "ftol": 1e-15, "maxiter": 100_000}


@dataclass(frozen=True)
class Start:
    """One find_MAP start, where it ended after any polish.

    Attributes
    ----------
    start : int
        Its number (0: the model's initial point, the others jittered).
    success : bool
        L-BFGS-B's, or the polish's where it reached a peak.
    nit : int
        L-BFGS-B's iterations, plus Powell's where it polished.
    message : str
        L-BFGS-B's.
    log_density : float
        find_MAP's objective (no Jacobian), with its sign: higher is better.
    polished : str
        ``""``, ``"newton"`` or ``"powell"``.
    stationary : bool
        A strict local maximum: the Hessian is negative definite and a Newton step would gain less
        than ``DECREMENT_TOL``.
    u : ndarray
        The point in the unconstrained space.
    params : dict of str to float
        The outputs at ``u`` on their own scale.
    """

    start: int
    success: bool
    nit: int
    message: str
    log_density: float
    polished: str
    stationary: bool
    u: np.ndarray
    params: dict[str, float]

    AUDIT = ("start", "success", "nit", "message", "log_density", "polished", "stationary")

    def audit(self) -> dict:
        """The start as the ``starts`` diagnostics list it (no point)."""
        return {k: getattr(self, k) for k in self.AUDIT}

    @property
    def peak(self) -> bool:
        """It ended at a peak: a strict local maximum, or a kink Powell's search reached (an L1 penalty at 0)."""
        return bool(self.stationary or self.polished == "powell")


class Objective:
    """find_MAP's objective, compiled once per model and shared by every start, polish, fit and spec that
    ``with_data`` derives (:mod:`comparisons.spec.observations`).

    This is the one density compiled twice per model, on purpose: the starts run find_MAP's own loss in
    PyMC's default (compiled) mode, so that start 0 is bitwise ``pm.find_MAP(jitter=False)``; the audit
    (Newton polish, Hessians, profiles, the still-rising check, the Jacobian mode, the Laplace sds) runs
    the parameter space's density (:func:`comparisons.density.space.model_space`), which ``laplace``, ``advi``
    and ``pathfinder`` share.

    ``pm.find_MAP`` compiles its loss again on every call (6–10 s of graph rewriting and cache
    loading per call on a mixture, for an optimisation that takes 0.1 s), so the starts call
    find_MAP's own pieces instead: the same loss (``-model.logp(jacobian=False)`` over the
    continuous value variables, :func:`pymc.tuning.starting.scipy_optimize_funcs_from_loss`), the
    same starting points (PyMC's initial-point function, jittered by U(-1, 1), seeded as find_MAP
    seeds it) and the same optimiser call (``better_optimize.minimize``, as find_MAP). Start 0
    is therefore exactly ``pm.find_MAP(jitter=False)`` (tested).
    """

    def __init__(self, model: pm.Model):
        self.vars = [v for v in model.value_vars if v in set(model.continuous_value_vars)]
        self.fused, _ = scipy_optimize_funcs_from_loss(
            -model.logp(jacobian=False),
            self.vars,
            initial_point(model),
            use_grad=True,
            use_hess=False,
            use_hessp=False,
        )
        jitter = {model.values_to_rvs[v] for v in self.vars}
        self._plain = make_initial_point_fns_per_chain(model=model, overrides=None, jitter_rvs=set(), chains=1)[0]
        self._jittered = make_initial_point_fns_per_chain(model=model, overrides=None, jitter_rvs=jitter, chains=1)[0]

    def start(self, seed: int, jitter: bool) -> np.ndarray:
        """find_MAP's starting vector for ``random_seed=seed`` (redrawn while the loss is not finite)."""
        rng = np.random.default_rng(seed)
        make = self._jittered if jitter else self._plain
        x0 = self._ravel(make(int(rng.integers(2**30))))
        for _ in range(10 if jitter else 0):
            if np.isfinite(self.fused(x0)[0]):
                break
            x0 = self._ravel(make(int(rng.integers(2**30))))
        return x0

    def minimize(self, x0: np.ndarray, method: str, **options):
        """``better_optimize.minimize`` of the loss from ``x0`` (gradient used unless ``method="Powell"``)."""
        from better_optimize import minimize

        if method == "Powell":
            return minimize(f=lambda x: self.fused(x)[0], x0=x0, method=method, progressbar=False, options=options)
        return minimize(f=self.fused, x0=x0, method=method, progressbar=False, **options)

    def _ravel(self, point: dict) -> np.ndarray:
        return DictToArrayBijection.map({v.name: point[v.name] for v in self.vars}).data


def run_start(objective: Objective, space: ValueSpace, seed: int, k: int) -> Start:
    """One find_MAP start (seed ``seed + k``, jittered unless ``k == 0``), polished where it stopped short of a
    stationary point."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow far out on a ridge: reported as no mode
        opt = objective.minimize(objective.start(seed + k, jitter=k > 0), "L-BFGS-B")
    u = np.asarray(opt.x, dtype=float)
    start = Start(k, bool(opt.success), int(opt.nit), str(opt.message), space.logp(u)[0], "", False, u, {})
    decrement = newton_decrement(space, u)
    if decrement is None:  # not in a bowl (a ridge, a boundary, a runaway): no nearby peak to polish towards
        return replace(start, params=params_at(space, u))
    if decrement >= DECREMENT_TOL:
        polished = newton(space, u)
        if polished is not None and polished[1] >= start.log_density:
            start = replace(start, u=polished[0], log_density=polished[1], polished="newton")
    if not stationary(space, start.u) and np.max(np.abs(opt.jac)) > KINK_GTOL * max(1.0, abs(float(opt.fun))):
        # a gradient that stays large where no Newton step helps: a kink, e.g. an L1 penalty at 0;
        # Powell's derivative-free line searches along each coordinate reach it
        powell = objective.minimize(start.u, "Powell", **POWELL)
        u_powell = np.asarray(powell.x, dtype=float)
        if space.logp(u_powell)[0] >= start.log_density:
            start = replace(
                start,
                u=u_powell,
                log_density=space.logp(u_powell)[0],
                polished="powell",
                success=start.success or bool(powell.success),
                nit=start.nit + int(powell.nit),
            )
    start = replace(start, stationary=stationary(space, start.u), params=params_at(space, start.u))
    # L-BFGS-B's "abnormal termination in line search" near a peak is no failure once polished there
    return replace(start, success=start.success or (start.polished == "newton" and start.stationary))


def params_at(space: ValueSpace, u: np.ndarray) -> dict[str, float]:
    """The outputs at ``u`` on their own scale, by flat name."""
    return dict(zip(space.names, space.constrained(u)[0].tolist(), strict=True))


def stationary(space: ValueSpace, u: np.ndarray) -> bool:
    """A strict local maximum: ``-H`` positive definite and the Newton decrement below ``DECREMENT_TOL``."""
    decrement = newton_decrement(space, u)
    return decrement is not None and decrement < DECREMENT_TOL


def agrees(a: dict[str, float], b: dict[str, float]) -> bool:
    """Every parameter of ``b`` within ``AGREE_RTOL`` (relative, plus absolute) of its value in ``a``."""
    return all(abs(a[n] - b[n]) <= AGREE_RTOL * (1.0 + abs(b[n])) for n in b)


def same_mode(start: Start, best: Start, laplace_sd: dict[str, float] | None) -> bool:
    """Whether two starts reached one mode: the same height and the same point.

    The same height: log densities within :data:`SAME_HEIGHT` nats (each stationary start is within
    ``DECREMENT_TOL`` of its own peak). The same point: every parameter within ``AGREE_RTOL`` of the best
    start's (relative, plus absolute), or within ``SAME_MODE_SD`` of its Laplace sd at the best start (an
    optimiser's tolerance on a wide posterior moves a parameter near 0 by more than ``AGREE_RTOL``: dyestuff's
    four starts end 3e-8 nats and 2e-4 sd apart).

    Parameters
    ----------
    start, best : Start
    laplace_sd : dict of str to float, optional
        The Laplace sd of each parameter at ``best``; ``None`` where it could not be computed.
    """
    height = abs(start.log_density - best.log_density)
    if not height <= SAME_HEIGHT + 1e-12 * abs(best.log_density):
        return False
    sd = laplace_sd or {}
    return all(
        abs(start.params[n] - value) <= max(AGREE_RTOL * (1.0 + abs(value)), SAME_MODE_SD * sd.get(n, 0.0))
        for n, value in best.params.items()
    )
