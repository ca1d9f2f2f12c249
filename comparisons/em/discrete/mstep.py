"""The numerical M-step and the starts, in the model's unconstrained coordinates.

L-BFGS on the expected complete-data log density ``sum_k sum_i r_ik log p(z_i = k, y_i | theta)``
(+ the log prior for MAP-EM, never the Jacobian) with PyTensor gradients. The coordinates are the
engine's one parameter-space map (:class:`comparisons.density.space.ValueSpace`) and the log prior is
:meth:`comparisons.density.prior.LogPrior.unconstrained`: the same objective as find_MAP's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pytensor.tensor as pt
from pymc.logprob.utils import ParameterValueError
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from scipy import optimize

from ...density.prior import LogPrior
from ...density.space import ValueSpace
from .graph import LogJointGraph

__all__ = ["NumericalMStep", "jittered_starts"]


class NumericalMStep:
    """Maximise the expected complete-data log density (+ log prior) numerically.

    Parameters
    ----------
    graph : LogJointGraph
    space : ValueSpace
        The parameters' unconstrained coordinates (``space.value_vars`` are ``graph.thetas``' values).
    prior : LogPrior
        The parameters' log prior (added for MAP-EM).
    shape : tuple of int
        ``S``, the latent's shape.
    compile : callable
        ``pytensor.function`` or :func:`comparisons.density.compile.compile_small`, per the problem's size.
    """

    def __init__(
        self, graph: LogJointGraph, space: ValueSpace, prior: LogPrior, shape: tuple[int, ...], compile: Callable
    ):
        self.graph, self.space, self.prior, self.shape, self.compile = graph, space, prior, shape, compile
        self._functions: dict[bool, Callable] = {}

    def _function(self, with_prior: bool) -> Callable:
        """``(value variables, resp, z_full, z_col) -> (Q, dQ/d value variables)``, compiled on first use."""
        if with_prior not in self._functions:
            g, values = self.graph, self.space.value_vars
            constrained = self.space.model.replace_rvs_by_values(g.thetas)
            resp = pt.tensor("resp", dtype="float64", shape=(None, *self.shape))
            # 0 * log 0 = 0: an impossible (label, observation) pair carries no responsibility
            q = pt.switch(pt.gt(resp, 0), resp * g.log_joint, 0.0).sum() + g.rest
            q = graph_replace(q, dict(zip(g.inputs, constrained, strict=True)), strict=False)
            if with_prior:
                q = q + self.prior.unconstrained()
            grads = cast(list[Variable], pt.grad(q, values))  # one gradient per wrt (the stub's union is wider)
            self._functions[with_prior] = self.compile(
                values + [resp, g.z_full, g.z_col], [q, *grads], on_unused_input="ignore"
            )
        return self._functions[with_prior]

    def __call__(self, expectations: dict, with_prior: bool) -> dict:
        """One M-step: L-BFGS-B from the current parameters.

        A result below the start's value (which L-BFGS should never return) falls back to the start.

        Parameters
        ----------
        expectations : dict
            From the E-step (needs ``resp``, shape ``(*S, K)``, and ``params``).
        with_prior : bool
            MAP-EM (True) or ML-EM (False).

        Returns
        -------
        dict of str to ndarray
        """
        f = self._function(with_prior)
        resp = np.ascontiguousarray(np.moveaxis(expectations["resp"], -1, 0))
        z_full, z_col = self.graph.z_full_value, self.graph.z_col_value

        def negative(u):
            try:
                q, *g = f(*self.space.split(u), resp, z_full, z_col)
            except ParameterValueError:  # e.g. a scale underflowed to 0: not a better point
                return np.inf, np.zeros_like(u)
            q = float(q)
            if not np.isfinite(q):
                return np.inf, np.zeros_like(u)
            return -q, -np.concatenate([np.ravel(a) for a in g])

        u0 = self.space.unconstrain(expectations["params"])
        res = optimize.minimize(
            negative,
            u0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 30},
        )
        u = res.x if res.fun <= negative(u0)[0] else u0
        return self.space.point(u)


def jittered_starts(space: ValueSpace, n_init: int, rng: np.random.Generator) -> list[dict]:
    """The model's initial point, then jittered by U(-1, 1) in the unconstrained space."""
    u0 = space.ravel(space.initial_point)
    return [space.point(u0 + (rng.uniform(-1, 1, u0.shape) if i else 0.0)) for i in range(n_init)]
