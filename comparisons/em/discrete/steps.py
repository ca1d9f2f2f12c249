"""The discrete engine as an EM engine (:class:`comparisons.em.engine.EMEngine`): the graph's E-step, the
model file's closed-form M-step and starts where it gives them, the blocked fast E-step where it applies."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm

from ...density.prior import LogPrior
from ..engine import Params, objective
from .engine import DiscreteLatentEM

__all__ = ["DiscreteEM"]


@dataclass(frozen=True)
class DiscreteEM:
    """EM for one discrete latent, on ``data``.

    ``e_step`` always comes from the model's graph; ``m_step`` is the model file's closed form if it
    gives one, else the numerical M-step; ``starts`` the model file's ``em_starts``, else
    :meth:`DiscreteLatentEM.starts`. When the model gives a closed-form M-step (and ``build``, to probe
    the graph), the E-step is the blocked one of :meth:`DiscreteLatentEM.fast_e_step` where it applies.

    Parameters
    ----------
    derived : DiscreteLatentEM
        The engine compiled from the model as written (shared by every spec of the model).
    em_starts, m_step_fn : callable or None
        The model file's ``em_starts(data, n_init, rng)`` and ``m_step(data, expectations, prior)``.
    build : callable or None
        The model file's ``build``, for the fast E-step's probe.
    data : dict of str to ndarray
    params : list of str
    """

    derived: DiscreteLatentEM
    em_starts: Callable | None
    m_step_fn: Callable | None
    build: Callable[[dict], pm.Model] | None
    data: dict[str, Any]
    params: list[str]
    kind: str = "exact (discrete)"
    reason: str = ""

    @property
    def integrated(self) -> tuple[str, ...]:
        return (self.derived.latent,)

    def bind(self, data: dict[str, Any]) -> DiscreteEM:
        return self if data is self.data else dataclasses.replace(self, data=data)

    def starts(self, n_init: int, rng: np.random.Generator) -> list[Params]:
        if self.em_starts is not None:
            return self.em_starts(self.data, n_init, rng)
        return self.derived.starts(n_init, rng)

    def e_step(self, params: Params) -> tuple[Any, float]:
        if self.m_step_fn is not None and self.build is not None:
            step = self.derived.fast_e_step(self.build, self.data)
            return (step or self.derived.e_step)(params)
        return self.derived.e_step(params)

    def m_step(self, expectations: Any, prior: LogPrior | None) -> Params:
        if self.m_step_fn is not None:
            return self.m_step_fn(self.data, expectations, prior)
        return self.derived.m_step(expectations, prior is not None)

    def objective(self, params: Params, prior: LogPrior | None) -> tuple[Any, float]:
        return objective(self.e_step, params, prior)

    def reset(self) -> None:
        self.derived.reset()
