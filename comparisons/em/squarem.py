"""SQUAREM (Varadhan & Roland 2008): one EM step extrapolated along the path of two.

EM's linear rate is slow on mixed models (about 260 iterations on sleepstudy to 1e-8); each
recorded iteration of the continuous engines is one SQUAREM cycle (two EM steps and an extrapolation,
kept only when its objective is at least the second EM step's), so the objective still never
decreases, in about 20 cycles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from pymc.logprob.utils import ParameterValueError

from .engine import Params

__all__ = ["Extrapolable", "squarem"]


class Extrapolable(Protocol):
    """What SQUAREM needs of an engine: its E-step, its M-step in the unconstrained coordinates ``u``, and
    the conversions between ``u`` and the parameters (``at_bound``: scales held at exactly 0)."""

    def e_step(self, params: Params) -> tuple[Any, float]: ...

    def maximise_q(self, expectations: Any, with_prior: bool) -> Params: ...

    def to_u(self, params: Params) -> np.ndarray: ...

    def to_params(self, u: np.ndarray, at_bound: np.ndarray | None = None) -> Params: ...

    def at_bound(self, params: Params) -> np.ndarray: ...


def squarem(
    engine: Extrapolable,
    expectations: dict,
    p1: Params,
    with_prior: bool,
    objective: Callable[[Params], float],
) -> Params:
    """One SQUAREM cycle from the EM step ``p1``, kept only if it is higher.

    A second EM step gives ``p2``; the extrapolation ``u0 - 2 a r + a^2 v`` (``r = u1 - u0``,
    ``v = u2 - 2 u1 + u0``, ``a = -|r| / |v|``, at most -1) is returned when its objective is at
    least ``p2``'s, else ``p2``: every cycle is at least one full EM step, so the objective still
    never decreases, and EM's slow linear crawl (hundreds of iterations on sleepstudy) shrinks to
    tens of cycles.

    Parameters
    ----------
    expectations : dict
        The E-step at the cycle's start (``u``, ``at_bound``), from which ``p1`` was the M-step.
    objective : callable
        ``params -> log likelihood (+ log prior)``, to compare the extrapolation with ``p2``.
    """
    frozen = expectations["at_bound"]
    if not np.array_equal(engine.at_bound(p1), frozen):
        return p1
    try:
        e1, _ = engine.e_step(p1)
        p2 = engine.maximise_q(e1, with_prior)
        u0, u1, u2 = expectations["u"], e1["u"], engine.to_u(p2)
        r, v = u1 - u0, u2 - 2 * u1 + u0
        nv = np.linalg.norm(v)
        if not np.array_equal(engine.at_bound(p2), frozen) or nv == 0.0:
            return p2
        a = min(-np.linalg.norm(r) / nv, -1.0)
        if a == -1.0:
            return p2
        ux = np.where(frozen, u0, u0 - 2 * a * r + a * a * v)
        px = engine.to_params(ux, frozen)
        if objective(px) >= objective(p2):
            return px
    except (ParameterValueError, ValueError, FloatingPointError, np.linalg.LinAlgError):
        return p1 if "p2" not in locals() else p2
    return p2
