"""The discrete-latent EM engine: the model's own graph, compiled into E- and M-steps.

:class:`DiscreteLatentEM` puts the pieces together: the log joint over the latent's support
(:mod:`.graph`), the E-step and its degeneracy checks (:mod:`.estep`), the quadratic fast path
(:mod:`.fastpath`), the numerical M-step and starts (:mod:`.mstep`). :class:`comparisons.em.discrete.steps.DiscreteEM`
adapts it to the EM engine contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pymc as pm
import pytensor
from pymc.logprob.transforms import LogTransform
from pymc.logprob.utils import ParameterValueError

from ...density.compile import compile_small
from ...density.prior import LogPrior
from ...density.space import ValueSpace
from ...spec.observations import initial_point
from .estep import Degeneracy, softmax_in_place
from .fastpath import FastEStep, fast_e_step
from .graph import LogJointGraph, log_joint_graph, observation_extra, scalar_observation, support
from .mstep import NumericalMStep, jittered_starts

__all__ = ["DiscreteLatentEM"]

SMALL = 200_000  # below this many log-joint entries, run PyTensor's Python code (compiling costs more)


class DiscreteLatentEM:
    """EM steps compiled from a PyMC model with one explicit discrete latent variable.

    Parameters
    ----------
    model : pymc.Model
        The model as written, with the latent (e.g. ``z``) as a free random variable.
    latent : str
        Name of the latent variable, shape ``S`` (``(N,)`` for one label per observation).

    Attributes
    ----------
    support : ndarray of shape (K,)
        The latent's values.
    params : list of str
        The parameters (every other free variable; all continuous).
    shape : tuple of int
        ``S``, the latent's shape.
    """

    def __init__(self, model: pm.Model, latent: str):
        self.model, self.latent = model, latent
        z_rv = model[latent]
        self.support = support(z_rv)
        self.shape = tuple(int(s) for s in initial_point(model)[model.rvs_to_values[z_rv].name].shape)
        self._graph = log_joint_graph(model, latent, self.support, self.shape)
        self.params = [rv.name for rv in self._graph.thetas]
        entries = len(self.support) * int(np.prod(self.shape))
        entries *= max(1, int(np.prod(observation_extra(model, self._graph.dependent, self.shape))))
        # large: numba (compiled once, cached on disk); small: no compiler at all (space.compile_small)
        self._compile = pytensor.function if entries >= SMALL else compile_small
        self._features = scalar_observation(model, self._graph.dependent, self.shape)
        self._compiled: dict[str, Callable] = {}
        self._space: ValueSpace | None = None
        self._degeneracy: Degeneracy | None = None
        self._m_step: NumericalMStep | None = None
        self._fast: FastEStep | Literal[False] | None = None  # False: no fast path (checked once)

    def reset(self) -> None:
        """The observations changed (:mod:`comparisons.spec.observations`): re-read what was read from them as arrays
        (the features ``[1, y, y^2]``, the fast path's standardisation, which is checked again)."""
        self._features = scalar_observation(self.model, self._graph.dependent, self.shape)
        if self._fast:
            self._fast.refresh()

    # ------------------------------------------------------------------ read-only views
    @property
    def graph(self) -> LogJointGraph:
        """The symbolic log joint and the variables it was built from."""
        return self._graph

    @property
    def thetas(self) -> list:
        """The parameters' random variables, in :attr:`params` order."""
        return list(self._graph.thetas)

    @property
    def dependent(self) -> list:
        """The observed variables that depend on the latent."""
        return list(self._graph.dependent)

    @property
    def independent(self) -> list:
        """The observed variables that do not depend on the latent."""
        return list(self._graph.independent)

    @property
    def features(self) -> np.ndarray | None:
        """``[1, y, y^2]`` of shape (N, 3) when one scalar observation per latent element exists, else ``None``."""
        return self._features

    @property
    def space(self) -> ValueSpace:
        """The parameters' unconstrained coordinates (built on first use)."""
        if self._space is None:
            self._space = ValueSpace(self.model, self.params)
        return self._space

    @property
    def degeneracy(self) -> Degeneracy:
        """The collapse checks, on the scale of the model's initial point (built on first use)."""
        if self._degeneracy is None:
            positive = [
                rv.name for rv in self._graph.thetas if isinstance(self.model.rvs_to_transforms.get(rv), LogTransform)
            ]
            reference = self.space.point(self.space.ravel(self.space.initial_point))
            self._degeneracy = Degeneracy(self.latent, self.support, positive, reference)
        return self._degeneracy

    # ------------------------------------------------------------------ compiled graphs
    def _args(self, params: dict) -> list[np.ndarray]:
        return [np.asarray(params[p], dtype=float) for p in self.params]

    def _function(self, which: str) -> Callable:
        """Compile on first use: ``"joint"`` (the (K, *S) log joint) or ``"rest"`` (observations without the latent)."""
        if which not in self._compiled:
            g = self._graph
            compile_, output = (self._compile, g.log_joint) if which == "joint" else (compile_small, g.rest)
            self._compiled[which] = compile_(g.inputs + [g.z_full, g.z_col], output, on_unused_input="ignore")
        return self._compiled[which]

    def log_joint(self, params: dict) -> np.ndarray:
        """``log p(z_i = k, y_i | params)`` from the model's graph, shape ``(K, *S)``."""
        return np.asarray(
            self._function("joint")(*self._args(params), self._graph.z_full_value, self._graph.z_col_value)
        )

    def rest_loglik(self, params: dict) -> float:
        """``log p(observations that do not depend on the latent | params)``."""
        return float(self._function("rest")(*self._args(params), self._graph.z_full_value, self._graph.z_col_value))

    # ------------------------------------------------------------------ E-step
    def e_step(self, params: dict) -> tuple[dict, float]:
        """Responsibilities from the model's own graph, and the observed-data log likelihood.

        Parameters
        ----------
        params : dict of str to ndarray
            Every parameter on its own (constrained) scale.

        Returns
        -------
        expectations : dict
            ``resp``: shape ``(*S, K)``, P(z_i = k | y, params), summing to 1 over the last axis;
            ``moments``: shape (K, 3), ``sum_i r_ik [1, y_i, y_i^2]`` when there is one scalar
            observation per latent element (else ``None``); ``params``: the parameters the
            expectations were taken at.
        log_likelihood : float
            ``log p(y | params)`` with the latent summed out.

        Raises
        ------
        DegenerateFitError
            The log likelihood is not finite (a component collapsed onto a point, or the data are
            impossible under ``params``).
        """
        try:
            resp = np.array(self.log_joint(params), dtype=float)  # a fresh (K, *S) buffer, made responsibilities
            rest = self.rest_loglik(params)
        except ParameterValueError as exc:
            raise self.degeneracy.refused(params, exc) from exc
        loglik = softmax_in_place(resp) + rest
        self.degeneracy.check(loglik, resp.reshape(len(self.support), -1).sum(axis=1), params)
        moments = resp @ self._features if self._features is not None else None
        return {"resp": np.moveaxis(resp, 0, -1), "moments": moments, "params": params}, loglik

    def fast_e_step(self, build: Callable[[dict], pm.Model], data: dict) -> Callable | None:
        """The blocked E-step of :func:`comparisons.em.discrete.fastpath.fast_e_step` (built once), or ``None``
        where it does not apply (to the observations the model holds now)."""
        if self._fast is None:
            self._fast = fast_e_step(self, build, data) or False
        return self._fast if self._fast and self._fast.applies else None

    # ------------------------------------------------------------------ M-step and starts
    def m_step(self, expectations: dict, with_prior: bool) -> dict:
        """The numerical M-step (:class:`comparisons.em.discrete.mstep.NumericalMStep`)."""
        if self._m_step is None:
            self._m_step = NumericalMStep(
                self._graph, self.space, LogPrior(self.model, self.params), self.shape, self._compile
            )
        return self._m_step(expectations, with_prior)

    def starts(self, n_init: int, rng: np.random.Generator) -> list[dict]:
        """The model's initial point, then jittered by U(-1, 1) in the unconstrained space."""
        return jittered_starts(self.space, n_init, rng)
