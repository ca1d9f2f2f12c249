"""The EM engine contract (:class:`EMEngine`) and :class:`HandWritten`, a model file's own steps adapted to it.

An engine is what :func:`comparisons.em.loop.run_em` iterates: starts, an E-step, an M-step and the
objective they climb. Which engine a model gets is decided when it is loaded
(:func:`comparisons.em.choose.choose_engine`): the discrete one (:class:`comparisons.em.discrete.DiscreteEM`),
the continuous one derived from the graph (:class:`comparisons.em.choose.ContinuousEM`: exact Gaussian or
Laplace, chosen on first use, since choosing compiles), or the model file's hand-written steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..density.prior import LogPrior
from ..errors import ModemeanError

__all__ = ["EM_HOOKS", "EMEngine", "HandWritten", "Params", "objective", "require"]

EM_HOOKS = ("em_starts", "e_step", "m_step")  # the model contract's hand-written EM steps
Params = dict[str, np.ndarray]


class EMEngine(Protocol):
    """What EM needs of a model: starts, E-step, M-step, objective, and what it says about itself.

    Attributes
    ----------
    kind : str
        The ``em_kind`` reported: ``"exact (discrete)"``, ``"exact (Gaussian)"``, ``"Laplace
        (approximate)"`` or ``"hand-written"``.
    reason : str
        Why EM does not apply after all (the continuous engines decide on first use), else ``""``.
    params : list of str
        What EM estimates (the latents and the missing observations it integrates out are not here).
    integrated : tuple of str
        What EM integrates out: the declared latents, then any missing observations PyMC imputes.
    """

    @property
    def kind(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def params(self) -> list[str]: ...

    @property
    def integrated(self) -> tuple[str, ...]: ...

    def bind(self, data: dict[str, np.ndarray]) -> EMEngine:
        """The same engine on a spec's data (steps that read the data read these)."""
        ...

    def starts(self, n_init: int, rng: np.random.Generator) -> list[Params]:
        """``n_init`` starting points, the first the model's own."""
        ...

    def e_step(self, params: Params) -> tuple[Any, float]:
        """``(expectations, log likelihood)``; may raise :class:`~comparisons.errors.DegenerateFitError`."""
        ...

    def m_step(self, expectations: Any, prior: LogPrior | None) -> Params:
        """The parameters maximising the expected complete-data log density (+ ``prior`` for MAP-EM)."""
        ...

    def objective(self, params: Params, prior: LogPrior | None) -> tuple[Any, float]:
        """``(expectations, log likelihood + log prior)`` (the log prior only when ``prior`` is given)."""
        ...

    def reset(self) -> None:
        """New observations were loaded into the model: forget what was read from the old ones."""
        ...


def objective(
    e_step: Callable[[Params], tuple[Any, float]], params: Params, prior: LogPrior | None
) -> tuple[Any, float]:
    """The E-step at ``params`` and EM's objective there: the log likelihood, plus the log prior if given."""
    expectations, loglik = e_step(params)
    return expectations, loglik + (prior(params) if prior is not None else 0.0)


def require(engine: EMEngine | None, reason: str) -> EMEngine:
    """``engine`` where EM applies (``reason`` empty), else a :class:`ModemeanError` saying why not."""
    if engine is None or reason:
        raise ModemeanError(f"EM does not apply: {reason}")
    return engine


@dataclass(frozen=True)
class HandWritten:
    """A model file's ``em_starts(data, n_init, rng)``, ``e_step(data, params)``, ``m_step(data, expectations,
    prior)``, on ``data``.

    Parameters
    ----------
    em_starts, e_step_fn, m_step_fn : callable
        The model file's three functions (``em_starts`` may be ``None`` where starts are given to the loop).
    data : dict of str to ndarray
    params : list of str
    integrated : tuple of str
    """

    em_starts: Callable | None
    e_step_fn: Callable
    m_step_fn: Callable
    data: dict[str, Any]
    params: list[str] = dataclasses.field(default_factory=list)
    integrated: tuple[str, ...] = ()
    kind: str = "hand-written"
    reason: str = ""

    def bind(self, data: dict[str, Any]) -> HandWritten:
        return self if data is self.data else dataclasses.replace(self, data=data)

    def starts(self, n_init: int, rng: np.random.Generator) -> list[Params]:
        if self.em_starts is None:
            raise TypeError("these hand-written steps have no em_starts")
        return self.em_starts(self.data, n_init, rng)

    def e_step(self, params: Params) -> tuple[Any, float]:
        return self.e_step_fn(self.data, params)

    def m_step(self, expectations: Any, prior: LogPrior | None) -> Params:
        return self.m_step_fn(self.data, expectations, prior)

    def objective(self, params: Params, prior: LogPrior | None) -> tuple[Any, float]:
        return objective(self.e_step, params, prior)

    def reset(self) -> None:
        """Nothing to forget: the model file's steps read ``data`` on every call."""
