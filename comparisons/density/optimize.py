"""The optimisers' shared steps on a :class:`~comparisons.density.space.ValueSpace`: one Newton decrement,
one Newton's method (trust-exact, exact Hessian) and one mode of the unconstrained density; and the chord
Newton's method of EM's M-steps (:func:`chord_newton`), on any function with an exact gradient.

Each works on the log density without the Jacobian (find_MAP's objective, :meth:`ValueSpace.logp`) or,
with ``jacobian=True``, on the density of the unconstrained coordinates (:meth:`ValueSpace.logp_jacobian`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

from .space import ValueSpace

__all__ = ["DECREMENT_TOL", "NEWTON", "chord_newton", "newton_decrement", "newton", "jacobian_mode"]

DECREMENT_TOL = 1e-6  # stationary: a Newton step would raise the log density by less than this (nats)
NEWTON = {"gtol": 1e-10, "maxiter": 50}
LBFGS = {"maxiter": 10_000, "gtol": 1e-9}  # the unconstrained mode's first, gradient-only pass


def _value_and_grad(space: ValueSpace, u: np.ndarray, jacobian: bool) -> tuple[float, np.ndarray]:
    return space.logp_jacobian(u) if jacobian else space.logp(u)


def newton_decrement(space: ValueSpace, u: np.ndarray, jacobian: bool = False) -> float | None:
    """What a Newton step would gain, ``g' (-H)^-1 g / 2`` (nats); ``None`` unless ``-H`` is positive definite.

    Parameters
    ----------
    space : ValueSpace
    u : ndarray, shape (space.size,)
    jacobian : bool, default False
        Of the density with the log-Jacobian (the unconstrained coordinates') instead of find_MAP's.
    """
    value, grad = _value_and_grad(space, u, jacobian)
    hess = space.hessian(u, jacobian=jacobian)
    if not (np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        return None
    try:
        chol = np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        return None
    half = np.linalg.solve(chol, grad)
    return 0.5 * float(half @ half)


def newton(
    space: ValueSpace,
    u: np.ndarray,
    free: np.ndarray | None = None,
    options: dict = NEWTON,
    jacobian: bool = False,
) -> tuple[np.ndarray, float, int] | None:
    """Maximise the log density over the coordinates ``free`` (the rest held at ``u``) by trust-exact.

    Newton's method with the exact Hessian is invariant to the scaling of the coordinates, so it
    reaches the mode of a badly conditioned density where L-BFGS-B's relative-reduction test stops
    early.

    Returns
    -------
    tuple of (ndarray, float, int) or None
        The point, its log density and Newton's iterations, or ``None`` if the optimiser raised.
    """
    free = np.arange(space.size) if free is None else free

    def full(x):
        v = u.copy()
        v[free] = x
        return v

    def negative(x):
        value, grad = _value_and_grad(space, full(x), jacobian)
        return (-value, -grad[free]) if np.isfinite(value) else (np.inf, np.zeros(free.size))

    def negative_hessian(x):
        hess = -space.hessian(full(x), jacobian=jacobian)[np.ix_(free, free)]
        return hess if np.all(np.isfinite(hess)) else np.eye(free.size)

    try:
        with np.errstate(all="ignore"):
            res = optimize.minimize(
                negative, u[free], jac=True, hess=negative_hessian, method="trust-exact", options=options
            )
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return None
    point = full(res.x)
    return point, _value_and_grad(space, point, jacobian)[0], int(res.nit)


def jacobian_mode(space: ValueSpace, start: np.ndarray) -> tuple[np.ndarray, dict]:
    """Mode of the log density with the log-Jacobian: L-BFGS-B from ``start``, then Newton (trust-exact).

    The one mode of the unconstrained density: ``map``'s ``map_unconstrained`` column and Laplace
    sampling's centre, both from the model's initial point. Newton's method with the exact Hessian
    polishes the point so that the Hessian, which is the Laplace covariance, is taken at the mode and
    not where L-BFGS-B's tolerance stopped it.

    Returns
    -------
    mode : ndarray, shape (space.size,)
    audit : dict
        ``success`` and ``message`` (L-BFGS-B's), ``nit`` (L-BFGS-B's iterations plus Newton's),
        ``log_density`` and ``decrement`` (what one more Newton step would gain, nats; ``None`` where
        the Hessian is not negative definite).
    """

    def negative(x):
        value, grad = space.logp_jacobian(x)
        return (-value, -grad) if np.isfinite(value) else (np.inf, np.zeros_like(x))

    with np.errstate(all="ignore"):
        first = optimize.minimize(negative, start, jac=True, method="L-BFGS-B", options=LBFGS)
    u, nit = first.x, int(first.nit)
    polished = newton(space, u, jacobian=True)
    if polished is not None and -polished[1] <= first.fun:
        u, nit = polished[0], nit + polished[2]
    return u, {
        "success": bool(first.success),
        "nit": nit,
        "message": str(first.message),
        "log_density": float(space.logp_jacobian(u)[0]),
        "decrement": newton_decrement(space, u, jacobian=True),
    }


def chord_newton(
    negative: Callable[[np.ndarray], tuple[float, np.ndarray]],
    u0: np.ndarray,
    value: float,
    grad: np.ndarray,
    free: np.ndarray,
    chol: np.ndarray | None = None,
    max_iter: int = 50,
) -> tuple[np.ndarray, float, np.ndarray] | None:
    """Minimise ``negative`` (value, gradient) over the coordinates ``free`` by Newton's method.

    The Hessian comes from forward differences of the exact gradient (``len(free)`` gradient
    calls), or is the Cholesky factor ``chol`` given (the previous M-step's), and is kept (a chord
    method: linear convergence at the rate of the Hessian's relative error); it is recomputed when
    a step has to be shortened. Each step is backtracked until the value decreases.

    Returns
    -------
    (u, value, chol) or None
        ``None`` when the Hessian is not positive definite.
    """
    u = u0.copy()
    fresh = chol is None
    if chol is None:
        chol = _difference_cholesky(negative, u, grad, free)
        if chol is None:
            return None
    for _ in range(max_iter):
        step = -np.linalg.solve(chol.T, np.linalg.solve(chol, grad[free]))
        if -grad[free] @ step < 1e-15 * max(1.0, abs(value)):  # the predicted gain is rounding: converged
            break
        t, moved = 1.0, False
        while t > 1e-6:
            x = u.copy()
            x[free] += t * step
            v, g = negative(x)
            if v <= value:
                moved = True
                break
            t *= 0.25
        if moved:
            u, value, grad = x, v, g
        if t < 1.0 or not moved:
            if fresh and not moved:
                break
            chol, fresh = _difference_cholesky(negative, u, grad, free), True
            if chol is None:
                return None
    return u, value, chol


def _difference_cholesky(negative: Callable, u: np.ndarray, grad: np.ndarray, free: np.ndarray) -> np.ndarray | None:
    """Cholesky factor of the Hessian over ``free`` by forward differences of the gradient.

    ``None`` when it is not positive definite.
    """
    h = 1e-6 * (1.0 + np.abs(u[free]))
    H = np.empty((free.size, free.size))
    for j, (i, hj) in enumerate(zip(free, h, strict=True)):
        x = u.copy()
        x[i] += hj
        H[:, j] = (negative(x)[1][free] - grad[free]) / hj
    H = 0.5 * (H + H.T)
    try:
        return np.linalg.cholesky(H)
    except np.linalg.LinAlgError:
        return None
