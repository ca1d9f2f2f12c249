"""The log prior of a model's parameters, compiled from the model, on the parameters' own scale."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors

from .compile import compile_small

__all__ = ["LogPrior"]


class LogPrior:
    """``log p(params)`` without the Jacobian, compiled from the model, on the parameters' own scale.

    Parameters
    ----------
    model : pymc.Model
    params : list of str
        Names of the free random variables that are parameters; their priors (and any potential
        that involves only them) make up the log prior.

    Attributes
    ----------
    inputs : list of TensorVariable
        Stand-ins for the parameters on their own scale, in ``params`` order.
    graph : TensorVariable
        The log prior as a graph of :attr:`inputs`.

    Examples
    --------
    >>> prior = LogPrior(model, ["mu", "tau"])          # doctest: +SKIP
    >>> prior({"mu": 0.0, "tau": 1.0})                  # doctest: +SKIP
    """

    def __init__(self, model: pm.Model, params: list[str]):
        self.model, self.params = model, list(params)
        self._rvs = [model[p] for p in self.params]
        self.inputs = [rv.type(name=rv.name) for rv in self._rvs]
        others = set(model.free_RVs) - set(self._rvs)
        self._potentials = [p for p in model.potentials if not others & set(ancestors([p]))]
        terms = [pm.logp(rv, x).sum() for rv, x in zip(self._rvs, self.inputs, strict=True)]
        logp = pt.sum(terms) + sum(self._potentials)
        self.graph = graph_replace(logp, dict(zip(self._rvs, self.inputs, strict=True)), strict=False)
        self._f: Callable | None = None

    def unconstrained(self) -> pt.TensorVariable:
        """The same log prior (no Jacobian) as a graph of the parameters' value variables, the unconstrained
        coordinates an optimiser works in (PyMC's ``model.logp`` of the parameters, plus their potentials)."""
        potentials = self.model.replace_rvs_by_values(self._potentials)
        return self.model.logp(vars=self._rvs, jacobian=False) + sum(potentials, pt.constant(0.0))

    def __call__(self, params: dict[str, np.ndarray]) -> float:
        """The log prior density at ``params`` (``{name: value}``)."""
        return self.value_and_grad(params)[0]

    def value_and_grad(self, params: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
        """The log prior and its gradient with respect to each parameter on its own scale."""
        if self._f is None:
            # a flat prior (pm.Flat, pm.HalfFlat) has a log density that does not depend on its value:
            # its gradient is zero, not an error (a list wrt gives a list of gradients: the stub's union is wider)
            grads = cast(list[Variable], pt.grad(self.graph, self.inputs, disconnected_inputs="ignore"))
            self._f = compile_small(self.inputs, [self.graph, *grads], on_unused_input="ignore")
        value, *grads = self._f(*(np.asarray(params[p], dtype=float) for p in self.params))
        return float(value), {p: np.asarray(g) for p, g in zip(self.params, grads, strict=True)}
