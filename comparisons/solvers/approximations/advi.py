"""``advi`` and ``fullrank_advi``: automatic differentiation variational inference with ``pm.fit``.

ADVI fits a Gaussian to the posterior in the unconstrained space of the value variables by
maximising the evidence lower bound (stochastic gradients, PyMC's default Adagrad-window steps):
with independent coordinates (``advi``, mean-field) or a full covariance (``fullrank_advi``). The
fitted Gaussian's mean and covariance are read from PyMC's approximation, and the draws come from
it, mapped back to each parameter's own scale.

Optimiser and stopping rule. The gradients are Monte Carlo estimates (one draw per iteration), so
with a constant step size the parameters never settle: they wander in a cloud around the optimum
whose size is set by the step size. The steps are Adam's (``pm.adam``) with a learning rate of
:data:`LEARNING_RATE` for the first :data:`WINDOW` iterations and ``LEARNING_RATE * WINDOW / t``
after (a Robbins–Monro schedule: the steps still add up to any distance, the noise shrinks). The
variational parameters (means, and the unconstrained scales: ``rho`` with
``sd = log(1 + exp(rho))``, or the Cholesky factor's entries) are averaged over windows of
:data:`WINDOW` iterations; the fit stops when two consecutive window averages differ by less than
:data:`TOLERANCE` in every parameter (absolute), or at ``max_iter`` iterations, which the Fit
reports. The approximation is the last window's average (Polyak–Ruppert averaging).

Why not PyMC's defaults: with its Adagrad-window steps (learning rate 0.001) and
``CheckParametersConvergence(every=100, tolerance=0.01)``, on censored_lifetimes (a Gamma posterior
whose KL-optimal Gaussian for ``log lam`` has the closed form mean ``log(A/B) - 1/(2A)``, sd
``1/sqrt(A)``) the fit stopped after ~6,000 iterations with the mean 0.19 (0.4 sd) short of the
optimum, and full-rank ADVI with an sd 50% too large. With a constant Adam step of 0.01 the window
averages of a model with a few dozen parameters keep moving by ~0.1 (noise) after 30,000
iterations, so no tolerance below that is ever met; the decaying step meets 0.01.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np
import pymc as pm
import pytensor
from pymc.variational.callbacks import Callback

from ...density.compile import compile_small
from ...density.space import ValueSpace
from ...results.fit import Fit
from ...spec.model_spec import ModelSpec
from .base import Approximation, Draws

__all__ = [
    "ADVI",
    "FullRankADVI",
    "LEARNING_RATE",
    "MAX_ITER",
    "TOLERANCE",
    "WINDOW",
    "fit_advi",
    "fit_fullrank_advi",
]

LEARNING_RATE = 0.01
WINDOW = 1000
TOLERANCE = 0.01
MAX_ITER = 100_000


class ADVI(Approximation):
    """Mean-field ADVI (``pm.fit(method="advi")``), seeded, to the stopping rule of this module.

    :meth:`draw` fits the Gaussian and draws from it, mapped to the value variables' order
    (:class:`~comparisons.density.space.ValueSpace`'s).

    Attributes
    ----------
    method : str
        ``pm.fit``'s method; also the solver's name and its columns' prefix.
    """

    name = prefix = method = "advi"
    label = "ADVI (mean-field)"
    draws_label = "mean-field ADVI"
    continuous_only = "ADVI fits continuous parameters only"

    def draw(self, spec: ModelSpec, space: ValueSpace, *, seed: int, n: int, max_iter: int = MAX_ITER) -> Draws:
        """Fit with ``pm.fit`` (seeded: its Monte Carlo gradients) and draw ``n`` times from the fitted Gaussian.

        ``max_iter`` is the iteration limit; reaching it is reported (``converged`` False, and a note). The
        diagnostics hold the Gaussian (mean and sd per value variable) and the stopping rule; the traces
        the negative ELBO per iteration (``traces[method]``).
        """
        approx, average = _fit(spec.model, self.method, seed=seed, max_iter=max_iter)
        mean, cov = _gaussian(approx, space)
        chol = np.linalg.cholesky(cov)
        z = np.random.default_rng(seed).standard_normal((n, space.size))
        u = mean + z @ chol.T
        log_q = -0.5 * np.sum(z**2, axis=1)  # log N(u; mean, cov) up to a constant, which k̂ ignores
        n_iter = len(approx.hist)
        converged = n_iter < max_iter
        notes = (
            []
            if converged
            else [
                f"stopped at the iteration limit ({max_iter}) before the variational parameters "
                f"settled (their {WINDOW}-iteration averages still moved by >= {TOLERANCE})"
            ]
        )
        diagnostics = _diagnostics(self.method, space, mean, cov, approx, average, max_iter=max_iter)
        traces = {self.method: [np.asarray(approx.hist)]}
        return Draws(u, log_q, diagnostics, converged=converged, n_iter=n_iter, notes=notes, traces=traces)


class FullRankADVI(ADVI):
    """Full-rank ADVI (``pm.fit(method="fullrank_advi")``): ADVI with a full covariance."""

    name = prefix = method = "fullrank_advi"
    label, draws_label = "ADVI (full-rank)", "full-rank ADVI"


def fit_advi(spec: ModelSpec, *, seed: int, draws: int = 4000, max_iter: int = MAX_ITER) -> Fit:
    """Mean-field ADVI (``pm.fit(method="advi")``): columns ``advi_<stat>``, Pareto k̂ in ``diagnostics``; see
    :class:`ADVI`."""
    return ADVI().approximate(spec, seed=seed, n=draws, max_iter=max_iter)


def fit_fullrank_advi(spec: ModelSpec, *, seed: int, draws: int = 4000, max_iter: int = MAX_ITER) -> Fit:
    """Full-rank ADVI (``pm.fit(method="fullrank_advi")``): columns ``fullrank_advi_<stat>``; see :class:`ADVI`."""
    return FullRankADVI().approximate(spec, seed=seed, n=draws, max_iter=max_iter)


def _fit(model: pm.Model, method: str, *, seed: int, max_iter: int):
    """``pm.fit`` with Adam steps of the module's learning-rate schedule, stopped by :class:`_WindowAverage`.

    Returns
    -------
    approx : pymc.variational.Approximation
        Its parameters set to the last window's average.
    average : _WindowAverage
        The callback, with the window averages' changes.
    """
    rate = pytensor.shared(np.float64(LEARNING_RATE), name="learning_rate")
    average = _WindowAverage(WINDOW, TOLERANCE, rate)
    with _quiet_pymc():
        approx = pm.fit(
            n=max_iter,
            method=method,
            model=model,
            random_seed=seed,
            callbacks=[average],
            obj_optimizer=pm.adam(learning_rate=rate),
            progressbar=False,
        )
    average.apply(approx)
    return approx, average


def _gaussian(approx, space: ValueSpace) -> tuple[np.ndarray, np.ndarray]:
    """The fitted Gaussian's mean and covariance, in ``space``'s order of the value variables (not PyMC's).

    Returns
    -------
    mean : ndarray, shape (space.size,)
    cov : ndarray, shape (space.size, space.size)
    """
    group = approx.groups[0]
    mean, cov = compile_small([], [group.mean, group.cov])()
    order = np.concatenate(
        [np.arange(group.ordering[v.name][1].start, group.ordering[v.name][1].stop) for v in space.value_vars]
    )  # PyMC's order of the value variables -> ValueSpace's
    return np.asarray(mean)[order], np.asarray(cov)[np.ix_(order, order)]


def _diagnostics(
    method: str,
    space: ValueSpace,
    mean: np.ndarray,
    cov: np.ndarray,
    approx,
    average: _WindowAverage,
    *,
    max_iter: int,
) -> dict:
    """The fit's diagnostics: the Gaussian's mean and sd per value variable, the optimiser, the stopping
    rule, the final loss (the last window's mean negative ELBO) and the last ten window changes.

    ``mean`` has shape (space.size,) and ``cov`` (space.size, space.size), in ``space``'s order.
    """
    sd = np.sqrt(np.diag(cov))
    return {
        "gaussian": {
            "mean": dict(zip(space.value_names, mean.tolist(), strict=True)),
            "sd": dict(zip(space.value_names, sd.tolist(), strict=True)),
        },
        "method": f"pm.fit(method={method!r}, obj_optimizer=pm.adam(learning_rate={LEARNING_RATE} for "
        f"{WINDOW} iterations, then {LEARNING_RATE} * {WINDOW} / t))",
        "stopping_rule": f"averages of the variational parameters over consecutive {WINDOW}-iteration "
        f"windows differ by < {TOLERANCE} (absolute), at most {max_iter} iterations; "
        "the approximation is the last window's average",
        "final_loss": float(np.mean(approx.hist[-WINDOW:])),
        "window_changes": average.changes[-10:],
    }


class _WindowAverage(Callback):
    """Stop when two consecutive ``window``-iteration averages of the variational parameters agree to
    ``tolerance`` (absolute, every parameter); :meth:`apply` sets the parameters to the last average.
    Also sets the learning rate ``rate`` for the next iteration (constant, then decaying as 1/t)."""

    def __init__(self, window: int, tolerance: float, rate):
        self.window, self.tolerance, self.rate = window, tolerance, rate
        self.total: np.ndarray | None = None  # sum of the parameters over the current window
        self.count = 0
        self.average: np.ndarray | None = None  # the last full window's average
        self.changes: list[float] = []

    def __call__(self, approx, losses, i) -> None:
        self.rate.set_value(np.float64(LEARNING_RATE * min(1.0, self.window / (i + 1))))
        current = np.concatenate([p.get_value().ravel() for p in approx.params])
        self.total = current if self.total is None else self.total + current
        self.count += 1
        if self.count < self.window:
            return
        average, previous = self.total / self.count, self.average
        self.total, self.count, self.average = None, 0, average
        if previous is None:
            return
        self.changes.append(float(np.max(np.abs(average - previous))))
        if self.changes[-1] < self.tolerance:
            raise StopIteration(f"window averages settled at iteration {i}")

    def apply(self, approx) -> None:
        """Set the approximation's parameters to the last full window's average (if there was one)."""
        if self.average is None:
            return
        start = 0
        for param in approx.params:
            value = param.get_value()
            param.set_value(self.average[start : start + value.size].reshape(value.shape).astype(value.dtype))
            start += value.size


@contextlib.contextmanager
def _quiet_pymc():
    """PyMC logs "Convergence achieved at ..." and "Interrupted at ..." at INFO: silenced, the Fit says it."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
