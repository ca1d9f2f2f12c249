"""The M-step of the continuous engines: ``Q`` from the model's graph and its maximisation.

``Q(theta) = E[f(z; theta)] = f(m; theta) + 1/2 tr(H(theta) Sigma)``, with ``m`` and ``Sigma`` from the
previous parameters, is evaluated exactly from the model's graph at ``2k + 1`` sigma points
(:func:`sigma_point_q`). ``Q`` (+ the log prior for MAP-EM, no Jacobian) is maximised in the
unconstrained coordinates with PyTensor gradients (:func:`maximise_q`): Newton's method on a
finite-difference Hessian of the exact gradient (:func:`comparisons.density.optimize.chord_newton`),
L-BFGS-B where that curvature is unusable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pymc.logprob.utils import ParameterValueError
from pytensor.graph.replace import graph_replace, vectorize_graph
from scipy import optimize

from ...density.compile import compile_fast
from ...density.optimize import chord_newton

__all__ = ["SIGMA_COPIES", "maximise_q", "maximise_value", "sigma_point_q"]

SIGMA_COPIES = 8  # up to this block size, Q holds one copy of the log-density graph per sigma point


def sigma_point_q(f: Any, z: Any, u: Any, w: Any, prior: Any, k: int) -> Callable:
    """``Q(u; m, S) = E f(z; theta(u))`` for ``z ~ N(m, S'S)`` (+ w x log prior) and its gradient, compiled.

    ``f`` is quadratic in ``z``, so with ``s_j`` the rows of ``S`` (a factor of Sigma laid over all
    blocks) ``f(m + s_j) + f(m - s_j) = 2 f(m) + s_j' H s_j`` exactly, and
    ``E f = f(m) + 1/2 tr(H Sigma) = sum_j [f(m + s_j) + f(m - s_j)] / 2 - (k - 1) f(m)``: the
    model's own graph at 2k + 1 points, no second-order graph.

    Parameters
    ----------
    f, z, u, w, prior : TensorVariable
        The log joint, the latents' vector, the parameters' vector, the prior's weight, the log prior.
    k : int
        The block size.
    """
    m, S = pt.vector("m"), pt.matrix("S")
    if k <= SIGMA_COPIES:  # one copy of the graph per point: no batched (Blockwise) linear algebra
        at = lambda x: graph_replace(f, {z: x}, strict=False)  # noqa: E731
        q = sum(0.5 * (at(m + S[j]) + at(m - S[j])) for j in range(k)) - (k - 1) * at(m)
    else:
        Z: Any = pt.matrix("Z")
        batch = vectorize_graph(f, replace={z: Z})
        values: Any = graph_replace(batch, {Z: pt.concatenate([m[None] + S, m[None] - S], axis=0)}, strict=False)
        q = 0.5 * values.sum() - (k - 1) * graph_replace(f, {z: m}, strict=False)
    q = q + w * prior
    return compile_fast([u, m, S, w], [q, pt.grad(q, u)])


def maximise_q(
    q: Callable, inputs: tuple, u0: np.ndarray, frozen: np.ndarray, with_prior: bool, curvature: dict
) -> np.ndarray:
    """Maximise ``Q`` (+ log prior) over the unconstrained parameters from ``u0``; ``frozen`` entries stay put.

    Newton's method with a finite-difference Hessian of the exact gradient (kept in ``curvature`` from
    the previous M-step while it still gives ascent steps), L-BFGS-B where the curvature is unusable.

    Parameters
    ----------
    q : callable
        ``(u, *inputs, weight) -> (Q, grad Q)``, from :func:`sigma_point_q` or the Laplace engine's.
    curvature : dict
        The last M-step's Cholesky factor per ``(with_prior, free columns)``; updated here.
    """
    weight = 1.0 if with_prior else 0.0

    def negative(x):
        try:
            with np.errstate(all="ignore"):
                value, g = q(x, *inputs, weight)
        except (ParameterValueError, ValueError, np.linalg.LinAlgError):
            return np.inf, np.zeros_like(x)
        value = float(value)
        if not np.isfinite(value) or not np.all(np.isfinite(g)):
            return np.inf, np.zeros_like(x)
        g = np.asarray(g, dtype=float).copy()
        g[frozen] = 0.0
        return -value, -g

    free = np.flatnonzero(~frozen)
    start, grad = negative(u0)
    key = (with_prior, tuple(free))
    u, value = u0, start
    if free.size and np.isfinite(start):
        result = chord_newton(negative, u0, start, grad, free, curvature.get(key))
        if result is None:  # no usable curvature: L-BFGS-B
            res = optimize.minimize(
                negative,
                u0,
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 30},
            )
            u, value = res.x, float(res.fun)
        else:
            u, value, curvature[key] = result
    if not value <= start:
        u = u0
    return np.where(frozen, u0, u)


def maximise_value(value: Callable[[np.ndarray], float], u0: np.ndarray, frozen: np.ndarray) -> np.ndarray | None:
    """Maximise ``value(u)`` directly from ``u0``, ``frozen`` entries held; ``None`` where nothing can move.

    The gradient is by central differences of the value: used for the profile at a boundary, where the
    exact marginal log likelihood is maximised directly (Fisher's identity loses every digit there).
    Newton's method as in :func:`maximise_q`, L-BFGS-B where the curvature is unusable.
    """

    def cost(x):
        try:
            v = value(x)
        except (ParameterValueError, ValueError, FloatingPointError, np.linalg.LinAlgError):
            return np.inf
        return -v if np.isfinite(v) else np.inf

    def negative(x):
        v, g = cost(x), np.zeros_like(x)
        for i in np.flatnonzero(~frozen):
            h = 1e-5 * (1.0 + abs(x[i]))
            a, b = x.copy(), x.copy()
            a[i] += h
            b[i] -= h
            g[i] = (cost(a) - cost(b)) / (2 * h)
        return (v, g) if np.all(np.isfinite(g)) else (np.inf, np.zeros_like(x))

    free = np.flatnonzero(~frozen)
    start, grad = negative(u0)
    if not free.size or not np.isfinite(start):
        return None
    result = chord_newton(negative, u0, start, grad, free)
    if result is None:
        res = optimize.minimize(
            negative, u0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10}
        )
        u, v = res.x, float(res.fun)
    else:
        u, v, _ = result
    return np.where(frozen, u0, u) if v <= start else u0
