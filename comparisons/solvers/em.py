"""``em``: the hand-rolled EM loop (restarts, tolerance, every iteration's objective recorded).

The loop is sklearn's (``n_init`` restarts of E-step, M-step, objective; keep the best), with two
differences: it stops on the change in the *parameters* (the objective's change reaches rounding
noise long before the parameters settle), and a decrease of the objective beyond rounding is
recorded and reported, never taken as convergence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..compiled import cached
from ..density.bounds import boundary_flags
from ..density.prior import LogPrior
from ..density.space import ValueSpace
from ..errors import DegenerateFitError
from ..results.fit import Fit, Flag, flatten
from ..spec import ModelSpec
from .base import Column, Solver
from .declared import SOLVER_OPTIONS

__all__ = ["EM", "EMRun", "run_em", "fit_em"]

ROUNDING = 1e-12  # relative slack for the monotonicity check: smaller decreases are rounding noise


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


def run_em(
    e_step: Callable[[dict], tuple[object, float]],
    m_step: Callable[[object], dict],
    log_prior: Callable[[dict], float] | None,
    start: dict[str, np.ndarray],
    *,
    max_iter: int = 1000,
    tol: float = 1e-8,
) -> EMRun:
    """Run EM from one start until the parameters stop moving.

    Parameters
    ----------
    e_step : callable
        ``params -> (expectations, log_likelihood)``; may raise
        :class:`~comparisons.errors.DegenerateFitError`, which ends the restart as degenerate.
    m_step : callable
        ``expectations -> params``.
    log_prior : callable or None
        ``params -> log p(params)``; ``None`` for maximum likelihood.
    start : dict of str to ndarray
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

    def objective(p):
        expectations, loglik = e_step(p)
        return expectations, loglik + (log_prior(p) if log_prior is not None else 0.0)

    try:
        expectations, value = objective(params)
        trace.append(value)
        if not np.isfinite(value):
            return EMRun(params, np.array(trace), False, error=f"the objective is {value} at the start")
        for it in range(1, max_iter + 1):
            new = {k: np.asarray(v, dtype=float) for k, v in m_step(expectations).items()}
            expectations, value = objective(new)
            trace.append(value)
            if not np.isfinite(value):
                return EMRun(
                    new,
                    np.array(trace),
                    False,
                    decreases,
                    error=f"the objective became {value} at iteration {it} (a degenerate fit: "
                    "e.g. a component collapsed onto a single point)",
                    degenerate=value > 0,
                )
            drop = value - trace[-2]
            if drop < -ROUNDING * max(1.0, abs(value)):
                decreases.append((it, float(drop)))
            change = max(float(np.max(np.abs(new[k] - params[k]) / (1.0 + np.abs(params[k])))) for k in new)
            params = new
            if change < tol and drop >= -ROUNDING * max(1.0, abs(value)):
                return EMRun(params, np.array(trace), True, decreases)
    except DegenerateFitError as exc:
        return EMRun(params, np.array(trace), False, decreases, error=f"degenerate fit: {exc}", degenerate=True)
    except (FloatingPointError, ValueError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        return EMRun(params, np.array(trace), False, decreases, error=f"{type(exc).__name__}: {exc}")
    return EMRun(params, np.array(trace), False, decreases)


def fit_em(spec: ModelSpec, *, seed: int, n_init: int = 5, max_iter: int = 1000, tol: float = 1e-8) -> Fit:
    """EM with the prior (column ``em``, the marginal posterior mode) and without it (``mle``).

    Each runs from the same ``n_init`` starts (the model's ``em_starts``, rng seeded with
    ``seed``); the best restart by objective is kept and the spread of the restarts' optima is
    reported. For a discrete latent the steps come from :mod:`comparisons.discrete` (the blocked
    fast E-step when the model gives a closed-form M-step and the fast path applies). Restarts in
    which a component collapsed are reported as degenerate, with what to do.

    Returns
    -------
    Fit
        ``not_applicable`` when the model declares no latent variables or no EM steps;
        ``failed`` when every restart broke down.
    """
    if spec.em_reason:
        return Fit("em", "not_applicable", f"EM does not apply: {spec.em_reason}")
    rng = np.random.default_rng(seed)
    starts = spec.em["em_starts"](spec.data, n_init, rng)
    params = tuple(spec.em_params)
    prior = cached(spec.compiled, ("log prior", params), lambda: LogPrior(spec.as_written, list(params)))
    e_hook = spec.em.get("fast_e_step", spec.em["e_step"])
    e_step = lambda p: e_hook(spec.data, p)  # noqa: E731
    estimates: dict[str, dict[str, float]] = {}
    traces: dict[str, list[np.ndarray]] = {}
    flags: dict[str, list[Flag]] = {}
    kind = spec.em["kind"]() if "kind" in spec.em else "hand-written"
    approximate = "approximate" in kind
    diagnostics: dict[str, Any] = {"em_kind": kind}
    space = cached(spec.compiled, ("space", params), lambda: ValueSpace(spec.model, list(params)))
    initial = dict(zip(space.names, space.constrained(space.ravel(space.initial_point))[0].tolist(), strict=True))
    kept = {}
    for column, log_prior in (("em", prior), ("mle", None)):
        m_step = lambda e, lp=log_prior: spec.em["m_step"](spec.data, e, lp)  # noqa: E731
        runs = [run_em(e_step, m_step, log_prior, s, max_iter=max_iter, tol=tol) for s in starts]
        traces[column] = [r.trace for r in runs]
        good = [r for r in runs if not r.error]
        diagnostics[column] = _summarise(runs)
        if not good:
            continue
        best = max(good, key=lambda r: r.objective)
        kept[column] = best
        estimates[column] = flatten(best.params)
        for name, notes in boundary_flags(spec.model, estimates[column], initial, column).items():
            flags.setdefault(name, []).extend(notes)
    if "em" not in kept:
        errors = "; ".join(sorted({r["error"] for r in diagnostics["em"]["restarts"] if r["error"]}))
        return Fit("em", "failed", f"every EM restart broke down: {errors}", traces=traces, diagnostics=diagnostics)
    best = kept["em"]
    messages = []
    if approximate:
        messages.append(f"EM is {kind}: its objective is an approximate marginal likelihood")
    for column, d in ((c, diagnostics[c]) for c in ("em", "mle") if c in diagnostics):
        if d["n_decreases"]:
            why = (
                "expected with an approximate E-step: EM does not guarantee that its objective increases"
                if approximate
                else "the M-step does not maximise its objective"
            )
            messages.append(
                f"{column}: the objective decreased in {d['n_decreases']} iteration(s) (largest "
                f"{d['largest_decrease']:.3g}): {why}"
            )
        if column in kept and not kept[column].converged:
            messages.append(f"{column}: the kept restart did not converge within {max_iter} iterations")
        if d["n_degenerate"]:
            messages.append(
                f"{column}: {d['n_degenerate']} of {n_init} restarts degenerate (a component collapsed "
                "onto a point, likelihood unbounded; see diagnostics for what to do)"
            )
        if d["n_failed"] > d["n_degenerate"]:
            messages.append(f"{column}: {d['n_failed'] - d['n_degenerate']} of {n_init} restarts broke down")
    return Fit(
        "em",
        "ok",
        "; ".join(messages),
        estimates=estimates,
        traces=traces,
        converged=best.converged,
        n_iter=best.n_iter,
        diagnostics=diagnostics,
        flags=flags,
    )


def _summarise(runs: list[EMRun]) -> dict:
    """Restart table and the spread of their optima."""
    finals = [r.objective for r in runs if not r.error]
    best = int(np.argmax([r.objective for r in runs]))
    return {
        "restarts": [
            {
                "restart": i,
                "objective": r.objective if not r.error else None,
                "n_iter": r.n_iter,
                "converged": r.converged,
                "n_decreases": len(r.decreases),
                "error": r.error,
                "degenerate": r.degenerate,
                "params": flatten(r.params),
            }
            for i, r in enumerate(runs)
        ],
        "best_restart": best,
        "objective_spread": float(np.ptp(finals)) if finals else None,
        "n_decreases": sum(len(r.decreases) for r in runs),
        "largest_decrease": min((d for r in runs for _, d in r.decreases), default=0.0),
        "n_failed": sum(bool(r.error) for r in runs),
        "n_degenerate": sum(r.degenerate for r in runs),
    }


class EM(Solver):
    """Hand-rolled EM with and without the prior (:func:`fit_em`)."""

    name = "em"
    label = "EM"
    columns = {
        "em": Column(
            "mode of the marginal posterior (EM with the prior, latent variables integrated out)",
            marker="EM (marginal mode)",
        ),
        "mle": Column("maximum-likelihood estimate (EM without the prior)", marker="MLE (EM without prior)"),
    }
    options = SOLVER_OPTIONS["em"]

    def fit(self, spec: ModelSpec, *, seed: int, n_init: int) -> Fit:
        return fit_em(spec, seed=seed, n_init=n_init)
