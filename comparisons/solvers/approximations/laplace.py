"""``laplace``: Laplace sampling, draws from the normal approximation at the mode of the unconstrained density.

One name: the solver ``laplace`` (key, ``--solvers laplace``, this file), the class
:class:`LaplaceSampling`, the label "Laplace sampling" and :func:`fit_laplace_sampling` all mean this
solver; its columns' prefix is ``laplace_sample_`` (:data:`PREFIX`). The other Laplaces of modemean are
not it: ``laplace_sd`` is the ``map`` solver's column (the sd of the normal approximation at find_MAP's
peak) and the Laplace-EM engine approximates a latent's conditional density inside EM.

As Stan's ``laplace_sample``: the mode is that of the density of the unconstrained coordinates
``u`` (the model's value variables: ``log tau``, ``logit p``, ...), that is *with* the log-Jacobian
of the transforms (the ``map_unconstrained`` point of the ``map`` solver), the covariance is the
inverse of the negative Hessian there, and the draws ``u ~ N(mode, (-H)^-1)`` are mapped back to
each parameter's own scale. Why that mode: a Gaussian is an approximation of a density, and the
density of ``u`` is the one a Gaussian on the whole real line can approximate; the mode without the
Jacobian (``pm.find_MAP``'s) is the peak of another density (that of the constrained parameters) and
is not a point of ``u``'s density at all (it can sit at a boundary, ``tau = 0``, which is
``log tau = -inf``).
"""

from __future__ import annotations

import numpy as np

from ...density.optimize import DECREMENT_TOL, jacobian_mode
from ...density.space import ValueSpace
from ...errors import ApproximationFailedError
from ...results.fit import Fit
from ...spec.model_spec import ModelSpec
from .base import Approximation, Draws

__all__ = ["PREFIX", "LaplaceSampling", "fit_laplace_sampling"]

PREFIX = "laplace_sample"  # not "laplace": ``laplace_sd`` is the map solver's column (the sd at find_MAP's peak)


class LaplaceSampling(Approximation):
    """Laplace sampling at the mode of the unconstrained density (:func:`fit_laplace_sampling`)."""

    name = "laplace"
    label = "Laplace sampling"
    prefix = PREFIX
    draws_label = "Laplace"
    continuous_only = "Laplace sampling needs continuous parameters only"

    def draw(self, spec: ModelSpec, space: ValueSpace, *, seed: int, n: int) -> Draws:
        """``n`` draws ``u ~ N(mode, (-H)^-1)`` at the mode of the unconstrained density (:func:`_gaussian_at_mode`)."""
        mode, cov, chol, audit = _gaussian_at_mode(space)
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, space.size))
        u = mode + z @ chol.T
        log_q = -0.5 * np.sum(z**2, axis=1)  # log N(u; mode, cov) up to a constant, which k̂ ignores
        diagnostics = {
            **audit,
            "mode": dict(zip(space.names, space.constrained(mode)[0].tolist(), strict=True)),
            "gaussian": {
                "mean": dict(zip(space.value_names, mode.tolist(), strict=True)),
                "sd": dict(zip(space.value_names, np.sqrt(np.diag(cov)).tolist(), strict=True)),
            },
        }
        return Draws(u, log_q, diagnostics, converged=True, n_iter=audit["nit"])


def fit_laplace_sampling(spec: ModelSpec, *, seed: int, draws: int = 4000) -> Fit:
    """Laplace sampling at the mode of the unconstrained density (with the log-Jacobian).

    Parameters
    ----------
    spec : ModelSpec
    seed : int
        Seeds the normal draws.
    draws : int, default 4000
        Independent draws (as many as NUTS's default 4 chains x 1000).

    Returns
    -------
    Fit
        Columns ``laplace_sample_<stat>`` (:data:`comparisons.solvers.approximations.base.STATS`), Pareto k̂ in
        ``diagnostics``. ``failed`` when the unconstrained density has no mode (its optimiser runs
        away along a ridge, or the Hessian where it stops is not negative definite): there is no
        Gaussian to draw from. ``not_applicable`` with free discrete parameters.
    """
    return LaplaceSampling().approximate(spec, seed=seed, n=draws)


def _gaussian_at_mode(space: ValueSpace) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The Laplace Gaussian: the mode of the unconstrained density (with the log-Jacobian), ``(-H)^-1`` there.

    Parameters
    ----------
    space : ValueSpace

    Returns
    -------
    mode : ndarray, shape (space.size,)
    cov : ndarray, shape (space.size, space.size)
        The inverse of the negative Hessian at the mode.
    chol : ndarray, shape (space.size, space.size)
        Its lower Cholesky factor.
    audit : dict
        :func:`~comparisons.density.optimize.jacobian_mode`'s audit of the optimisation.

    Raises
    ------
    ApproximationFailedError
        Where the density has no mode where its optimiser stopped (the Hessian there is not negative
        definite, or the density still rises), with the audit as diagnostics.
    """
    mode, audit = jacobian_mode(space, space.ravel(space.initial_point))
    hess = space.hessian(mode, jacobian=True)
    where = ", ".join(f"{n} = {v:.4g}" for n, v in list(zip(space.names, space.constrained(mode)[0], strict=True))[:4])
    cov: np.ndarray | None = None
    try:
        cov = np.linalg.inv(-hess) if np.all(np.isfinite(hess)) else None
        chol = np.linalg.cholesky(cov) if cov is not None else None
    except np.linalg.LinAlgError:
        chol = None
    if cov is None or chol is None or audit["decrement"] is None or audit["decrement"] >= DECREMENT_TOL:
        raise ApproximationFailedError(
            "the density of the unconstrained coordinates has no mode where its "
            f"optimiser stopped ({where}, ...: the Hessian there is not negative definite or the density "
            "still rises): there is no Gaussian to centre; the posterior may have a ridge or an unbounded "
            "density (a funnel)",
            diagnostics=audit,
        )
    return mode, cov, chol, audit
