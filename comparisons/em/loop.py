"""The EM loop: from one start, E-step, M-step and objective until the parameters stop moving; and restarts.

The loop is sklearn's (``n_init`` restarts of E-step, M-step, objective; keep the best), with two
differences: it stops on the change in the *parameters* (the objective's change reaches rounding
noise long before the parameters settle), and a decrease of the objective beyond rounding is
recorded and reported, never taken as convergence. The prior is given once: the loop passes it to the
objective and to the M-step (``None``: maximum likelihood).

What one iteration is depends on the engine: the continuous engines' M-step is one SQUAREM cycle of
two EM steps and an extrapolation (:mod:`comparisons.em.squarem`), with the boundary profile of a scale
crawling to 0 (:mod:`comparisons.em.boundary`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..density.prior import LogPrior
from ..errors import DegenerateFitError
from .engine import EMEngine, Params

__all__ = ["ROUNDING", "EMInfo", "EMRun", "EMState", "em_step", "run_em", "run_restarts"]

ROUNDING = 1e-12  # relative slack for the monotonicity check: smaller decreases are rounding noise


class EMState(NamedTuple):
    """What one iteration hands to the next."""

    params: Params
    expectations: Any
    objective: float  # log likelihood, + log prior when a prior is given


class EMInfo(NamedTuple):
    """What one iteration did."""

    objective_change: float
    max_param_change: float
    is_decrease: bool  # beyond rounding: reported, never convergence


@dataclass
class EMRun:
    """One restart of EM.

    Attributes
    ----------
    params : dict of str to ndarray
        Where the restart ended, on each parameter's own scale.
    trace : ndarray of shape (n_iter + 1,)
        The objective (log likelihood, plus log prior for MAP-EM) at the start and after every
        iteration.
    converged : bool
        The largest change of a parameter fell below ``tol``.
    decreases : list of (int, float)
        Iterations at which the objective went down by more than rounding, and by how much.
    error : str
        Why the restart stopped early (non-finite objective, degenerate component, an exception).
    degenerate : bool
        The restart stopped because a component collapsed (likelihood unbounded).
    """

    params: dict[str, np.ndarray]
    trace: np.ndarray
    converged: bool
    decreases: list[tuple[int, float]] = field(default_factory=list)
    error: str = ""
    degenerate: bool = False

    @property
    def objective(self) -> float:
        """The final objective (``-inf`` for a restart that broke down)."""
        return float(self.trace[-1]) if self.trace.size and not self.error else -np.inf

    @property
    def n_iter(self) -> int:
        """Iterations performed."""
        return max(self.trace.size - 1, 0)


def em_step(engine: EMEngine, state: EMState, prior: LogPrior | None) -> tuple[EMState, EMInfo]:
    """One iteration: the M-step from ``state``'s expectations, then the E-step and objective at the new parameters."""
    new = {k: np.asarray(v, dtype=float) for k, v in engine.m_step(state.expectations, prior).items()}
    expectations, value = engine.objective(new, prior)
    drop = value - state.objective
    if not np.isfinite(value):  # the restart ends here: nothing more is measured
        return EMState(new, expectations, value), EMInfo(drop, np.nan, False)
    old = state.params
    change = max(float(np.max(np.abs(new[k] - old[k]) / (1.0 + np.abs(old[k])))) for k in new)
    info = EMInfo(drop, change, bool(drop < -ROUNDING * max(1.0, abs(value))))
    return EMState(new, expectations, value), info


def run_em(
    engine: EMEngine,
    start: Params,
    *,
    prior: LogPrior | None,
    max_iter: int = 1000,
    tol: float = 1e-8,
) -> EMRun:
    """Run EM from one start until the parameters stop moving.

    Parameters
    ----------
    engine : EMEngine
        Its E-step may raise :class:`~comparisons.errors.DegenerateFitError`, which ends the restart as
        degenerate.
    start : dict of str to ndarray
    prior : LogPrior or None
        Added to the objective and handed to the M-step (MAP-EM); ``None`` for maximum likelihood.
    max_iter : int, default 1000
    tol : float, default 1e-8
        Stop when ``max |new - old| / (1 + |old|)`` over every parameter entry is below ``tol``.

    Returns
    -------
    EMRun
    """
    params = {k: np.asarray(v, dtype=float) for k, v in start.items()}
    trace: list[float] = []
    decreases: list[tuple[int, float]] = []
    try:
        expectations, value = engine.objective(params, prior)
        trace.append(value)
        if not np.isfinite(value):
            return EMRun(params, np.array(trace), False, error=f"the objective is {value} at the start")
        state = EMState(params, expectations, value)
        for it in range(1, max_iter + 1):
            state, info = em_step(engine, state, prior)
            trace.append(state.objective)
            if not np.isfinite(state.objective):
                return EMRun(
                    state.params,
                    np.array(trace),
                    False,
                    decreases,
                    error=f"the objective became {state.objective} at iteration {it} (a degenerate fit: "
                    "e.g. a component collapsed onto a single point)",
                    degenerate=state.objective > 0,
                )
            if info.is_decrease:
                decreases.append((it, float(info.objective_change)))
            params = state.params
            if info.max_param_change < tol and not info.is_decrease:
                return EMRun(params, np.array(trace), True, decreases)
    except DegenerateFitError as exc:
        return EMRun(params, np.array(trace), False, decreases, error=f"degenerate fit: {exc}", degenerate=True)
    except (FloatingPointError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        return EMRun(params, np.array(trace), False, decreases, error=f"{type(exc).__name__}: {exc}")
    return EMRun(params, np.array(trace), False, decreases)


def run_restarts(
    engine: EMEngine, starts: list[Params], *, prior: LogPrior | None, max_iter: int = 1000, tol: float = 1e-8
) -> list[EMRun]:
    """:func:`run_em` from each start, in order (the caller keeps the best by objective)."""
    return [run_em(engine, s, prior=prior, max_iter=max_iter, tol=tol) for s in starts]
