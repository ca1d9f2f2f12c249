"""``em``: EM with the prior (column ``em``) and without it (``mle``), through the spec's EM engine.

The loop and its restarts are :mod:`comparisons.em.loop`; the engine (discrete, Gaussian, Laplace or
the model file's own steps) is ``spec.em_engine`` (:mod:`comparisons.em.choose`). This module keeps the
best restart per column, summarises the restarts and says in words what went wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..density.bounds import boundary_flags
from ..density.prior import LogPrior
from ..density.space import ValueSpace
from ..em.loop import EMRun, run_restarts
from ..results.fit import Fit, Flag, flatten
from ..spec.model_spec import ModelSpec
from ..spec.observations import cached
from .base import Column, Solver
from .declared import SOLVER_OPTIONS

__all__ = ["EM", "fit_em"]


def fit_em(spec: ModelSpec, *, seed: int, n_init: int = 5, max_iter: int = 1000, tol: float = 1e-8) -> Fit:
    """EM with the prior (column ``em``, the marginal posterior mode) and without it (``mle``).

    Each runs from the same ``n_init`` starts (the model's ``em_starts``, rng seeded with
    ``seed``); the best restart by objective is kept and the spread of the restarts' optima is
    reported. For a discrete latent the steps come from :mod:`comparisons.em.discrete` (the blocked
    fast E-step when the model gives a closed-form M-step and the fast path applies). Restarts in
    which a component collapsed are reported as degenerate, with what to do.

    Returns
    -------
    Fit
        ``not_applicable`` when the model declares no latent variables or no EM steps;
        ``failed`` when every restart broke down.
    """
    engine = spec.em_engine
    if engine is None or spec.em_reason:
        return Fit("em", "not_applicable", f"EM does not apply: {spec.em_reason}")
    rng = np.random.default_rng(seed)
    starts = engine.starts(n_init, rng)
    params = tuple(engine.params)
    prior = cached(spec.compiled, ("log prior", params), lambda: LogPrior(spec.as_written, list(params)))
    estimates: dict[str, dict[str, float]] = {}
    traces: dict[str, list[np.ndarray]] = {}
    flags: dict[str, list[Flag]] = {}
    kind = engine.kind
    diagnostics: dict[str, Any] = {"em_kind": kind}
    space = cached(spec.compiled, ("space", params), lambda: ValueSpace(spec.model, list(params)))
    initial = dict(zip(space.names, space.constrained(space.ravel(space.initial_point))[0].tolist(), strict=True))
    kept = {}
    for column, log_prior in (("em", prior), ("mle", None)):
        runs = run_restarts(engine, starts, prior=log_prior, max_iter=max_iter, tol=tol)
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
    return Fit(
        "em",
        "ok",
        "; ".join(_messages(diagnostics, kept, kind, n_init, max_iter)),
        estimates=estimates,
        traces=traces,
        converged=best.converged,
        n_iter=best.n_iter,
        diagnostics=diagnostics,
        flags=flags,
    )


def _messages(diagnostics: dict, kept: dict[str, EMRun], kind: str, n_init: int, max_iter: int) -> list[str]:
    """What the fit says in words: an approximate objective, decreases, no convergence, broken restarts."""
    approximate = "approximate" in kind
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
    return messages


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
