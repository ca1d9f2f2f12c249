"""Laplace-EM derived from the PyMC model for continuous latents that are not conditionally Gaussian.

Logistic or Poisson random effects, or a transformed latent (Beta rates, integrated in their logit
space with the log-Jacobian): ``f(z; theta) = log p(y, z | theta)`` is not quadratic in ``z``, so
no E-step is exact. This engine is :class:`comparisons.em.gaussian.engine.GaussianLatentEM` (block detection,
conversions, the M-step's Newton, SQUAREM, the boundary profile) with the E-step replaced by the
Laplace approximation at the conditional mode. It is **always approximate** (``em_kind`` =
``"Laplace (approximate)"``), and its objective is not guaranteed to increase: decreases are
recorded and reported, never raised.

* **E-step.** Newton's method to the conditional mode ``m = argmax_z f(z; theta)`` (exact
  Hessian-vector products, block-diagonal over the latents' groups when they are conditionally
  independent, a backtracking line search, Levenberg damping where ``-H`` is not positive
  definite); ``Sigma = (-H(m))^-1``. The objective traced is the Laplace-approximate marginal log
  likelihood ``l(theta) = f(m; theta) + 1/2 log det(2 pi Sigma)`` (+ the log prior for MAP-EM) — the
  quantity lme4's ``glmer(nAGQ = 1)`` maximises.
* **M-step.** Maximises the second-order Laplace expansion of ``E[f(z; theta)]`` under
  ``p(z | y, theta')``::

      Q(theta) = f(m'; theta) + 1/2 tr(H(m'; theta) Sigma') + d' . grad_z f(m'; theta)

  where ``d' = Sigma' c'``, ``c' = grad_z 1/2 tr(Sigma' H(z; theta'))`` at ``m'``, is the first-order
  shift from the conditional mode to the conditional mean (it needs third derivatives in ``z``,
  taken on the graph). For a quadratic ``f`` ``d' = 0`` and ``Q`` is the exact one. The term makes
  ``grad Q(theta') = grad l(theta')`` exactly (implicit differentiation of ``m(theta)`` in ``l``:
  ``dm/dtheta = Sigma d(grad_z f)/dtheta``), so **EM's fixed points are the stationary points of the
  Laplace marginal likelihood**: the ``mle`` column is the Laplace ML estimate (glmer's, nAGQ = 1),
  and ``em`` the mode of the Laplace-approximate marginal posterior. Without the ``d`` term the
  fixed point is neither: on tests/unit/test_laplace_em.py's logistic data (30 groups x 10) it gives
  tau 0.851 and mu -0.615, where the Laplace ML estimate is 0.915, -0.657 and the exact one (adaptive
  quadrature) 0.935, -0.659.

A Monte Carlo EM was the alternative: its E-step is unbiased but noisy, so its fixed point is
random, its objective cannot be traced exactly and its convergence cannot be tested to tight
tolerances; the Laplace-EM is deterministic, has a known target, and costs a few Newton steps per
E-step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.logprob.utils import ParameterValueError
from pytensor.graph.replace import graph_replace

from ..density.compile import compile_fast
from .gaussian.engine import GaussianLatentEM
from .gaussian.structure import NotGaussian

__all__ = ["LaplaceLatentEM", "NotLaplace"]

NEWTON_MAX = 100  # Newton iterations to the conditional mode
NEWTON_TOL = 1e-14  # ... stop (after one more full step) when the Newton decrement g' (-H)^-1 g is below


class NotLaplace(Exception):
    """The Laplace E-step does not apply: the message says why."""


class LaplaceLatentEM(GaussianLatentEM):
    """Laplace-EM steps compiled from a PyMC model with continuous, non-Gaussian latents.

    Parameters
    ----------
    model : pymc.Model
    latent : tuple of str
        Continuous free variables (a transform is allowed: the latent is integrated in its
        unconstrained space, with the log-Jacobian).
    seed : int
        For the random point of the block-structure test.

    Raises
    ------
    NotLaplace
        A latent is discrete, the latents have no block structure and are too many for a dense
        Hessian, the log density is undefined at the initial point, or it has no peak in the
        latents there (``-H`` not positive definite at the conditional mode).
    """

    KIND = "Laplace (approximate)"
    TRANSFORMED_LATENTS = True

    def __init__(self, model: pm.Model, latent: tuple[str, ...], seed: int = 0):
        self._hv: Callable | None = None  # compiled on first use
        self._c: Callable | None = None
        try:
            super().__init__(model, latent, seed)
        except NotGaussian as exc:
            raise NotLaplace(str(exc)) from exc
        try:
            self.e_step(self.to_params(self._u_init))
        except (np.linalg.LinAlgError, FloatingPointError, ValueError, ParameterValueError) as exc:
            raise NotLaplace(
                f"at the initial parameters the log density has no peak in the latents ({type(exc).__name__}: {exc})"
            ) from exc

    def reset(self) -> None:
        """As built on the observations the model holds now: warm starts forgotten, then the conditional
        mode at the initial parameters found (as ``__init__`` does; a failure is left to the fit to meet)."""
        super().reset()
        try:
            self.e_step(self.to_params(self._u_init))
        except (np.linalg.LinAlgError, FloatingPointError, ValueError, ParameterValueError):
            self._z_last = self._z0_init.copy()

    # ------------------------------------------------------------------ second- and third-order graphs
    def _check_form(self, rng) -> None:
        """The log density and its gradient in ``z`` are finite at the initial point."""
        with np.errstate(all="ignore"):
            f, g = self._fg(self._z0_init, self._u_init)
        if not (np.isfinite(f) and np.all(np.isfinite(g))):
            raise NotLaplace("its log density or gradient in the latents is not finite at the initial point")

    def _hV(self, z: np.ndarray, u: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Exact Hessian-vector products ``H v`` (rows of ``V``), from the graph's second derivative."""
        if self._hv is None:
            z_, u_, v = self._z, self._u, pt.vector("v")
            g = pt.grad(self._f_graph, z_)
            self._hv = compile_fast([z_, u_, v], pt.grad((g * v).sum(), z_), on_unused_input="ignore")
        return np.stack([self._hv(z, u, v) for v in V])

    def _shift_gradient(self, z: np.ndarray, u: np.ndarray, S: np.ndarray) -> np.ndarray:
        """``c = grad_z 1/2 tr(Sigma H(z))`` with ``Sigma = S'S`` held fixed (third derivatives in ``z``)."""
        if self._c is None:
            z_, u_, S_ = self._z, self._u, pt.matrix("S")
            g = pt.grad(self._f_graph, z_)
            half_trace = 0.5 * sum((S_[j] * pt.grad((g * S_[j]).sum(), z_)).sum() for j in range(self._idx.shape[1]))
            self._c = compile_fast([z_, u_, S_], pt.grad(half_trace, z_), on_unused_input="ignore")
        return self._c(z, u, S)

    # ------------------------------------------------------------------ E-step
    def e_step(self, params: dict) -> tuple[dict, float]:
        """Laplace approximation of ``p(z | y, theta)`` at its mode, and the Laplace marginal log likelihood.

        Returns
        -------
        expectations : dict
            ``m`` (n,), the conditional mode; ``S`` (k, n), rows of a factor of ``Sigma = (-H(m))^-1``
            (one per position in a block, all blocks at once); ``d`` (n,), the mode-to-mean shift
            ``Sigma c``; ``u``, ``params``, ``at_bound``, ``loglik``.
        log_likelihood : float
            ``f(m) + n/2 log(2 pi) - 1/2 log det(-H(m))`` (approximate).
        """
        u = self.to_u(params)
        idx = self._idx
        z = self._z_last.copy() if np.all(np.isfinite(self._z_last)) else self._z0_init.copy()
        with np.errstate(all="ignore"):
            f, g = self._fg(z, u)
        if not np.isfinite(f):
            z = self._z0_init.copy()
            with np.errstate(all="ignore"):
                f, g = self._fg(z, u)
        for _ in range(NEWTON_MAX):
            with np.errstate(all="ignore"):
                chol = _damped_cholesky(-self._block_hessian(z, u, idx))
            step = np.zeros(self.n)
            step[idx] = _solve(chol, g[idx])
            decrement = float(g @ step)
            t = 1.0
            while t > 1e-10:
                x = z + t * step
                with np.errstate(all="ignore"):
                    fx, gx = self._fg(x, u)
                if np.isfinite(fx) and fx >= f + 1e-4 * t * decrement - 1e-13 * abs(f):
                    break
                t *= 0.5
            else:
                break  # no ascent left: the mode to rounding
            z, f, g = x, float(fx), gx
            if decrement < NEWTON_TOL * max(1.0, abs(f)) and t == 1.0:
                break
        with np.errstate(all="ignore"):
            negH = -self._block_hessian(z, u, idx)
        chol = np.linalg.cholesky(negH)  # LinAlgError: no peak in the latents (f not concave at m)
        expectations, loglik = self._expectations(z, float(f), chol, u, params)
        c = self._shift_gradient(z, u, expectations["S"])
        d = np.zeros(self.n)
        d[idx] = _solve(chol, c[idx])
        expectations["d"] = d
        return expectations, loglik

    # ------------------------------------------------------------------ M-step
    def _q_inputs(self, expectations: dict) -> tuple:
        return expectations["m"], expectations["S"], expectations["d"]

    def _q_function(self):
        """``Q(u; m, S, d) = f(m) + 1/2 sum_j s_j' H(m) s_j + d' grad_z f(m)`` (+ w x log prior), and its gradient."""
        if self._q is None:
            m, S, d = pt.vector("m"), pt.matrix("S"), pt.vector("d")
            fm = graph_replace(self._f_graph, {self._z: m}, strict=False)
            gm = pt.grad(fm, m)
            quad = sum((S[j] * pt.grad((gm * S[j]).sum(), m)).sum() for j in range(self._idx.shape[1]))
            q = fm + 0.5 * quad + (d * gm).sum() + self._w * self._prior_graph
            self._q = compile_fast([self._u, m, S, d, self._w], [q, pt.grad(q, self._u)], on_unused_input="ignore")
        return self._q


def _damped_cholesky(negH: np.ndarray) -> np.ndarray:
    """Cholesky factors of the blocks ``-H`` (G, k, k); blocks that are not positive definite get
    Levenberg damping ``+ lambda I`` (for Newton's steps only: the final factor is undamped)."""
    try:
        return np.linalg.cholesky(negH)
    except np.linalg.LinAlgError:
        pass
    if not np.all(np.isfinite(negH)):
        raise np.linalg.LinAlgError("the Hessian in the latents is not finite")
    out = np.empty_like(negH)
    eye = np.eye(negH.shape[-1])
    for b, block in enumerate(negH):
        lam = 0.0
        scale = max(1e-8, float(np.abs(block).max()))
        while True:
            try:
                out[b] = np.linalg.cholesky(block + lam * eye)
                break
            except np.linalg.LinAlgError:
                lam = scale * 1e-6 if lam == 0.0 else lam * 10.0
    return out


def _solve(chol: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``(C C')^-1 rhs`` per block: ``chol`` (G, k, k), ``rhs`` (G, k)."""
    return np.linalg.solve(np.transpose(chol, (0, 2, 1)), np.linalg.solve(chol, rhs[..., None]))[..., 0]
