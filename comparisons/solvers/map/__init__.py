"""``map``: the posterior mode with ``pm.find_MAP``, audited, plus the Jacobian mode and Laplace sds.

The steps, in order, each in its module:

1. :mod:`.starts`: find_MAP (L-BFGS-B) from each start, its objective compiled once for all of them,
   each start polished (Newton at an early stop, Powell at a kink) into a :class:`~.starts.Start`.
2. :mod:`.mode_audit`: is there a mode at all? The log density still rising beyond the stopping point,
   or unbounded as a scale goes to its boundary.
3. :mod:`.spread`: the Laplace sds and the mode of the unconstrained density; each fills its own column
   or leaves it empty with a reason; neither can discard the mode.

Here: the Fit, its flags and its one message.
"""

from __future__ import annotations

import numpy as np

from ...density.bounds import boundary_flags
from ...density.space import model_space
from ...density.start import discrete_message, free_discrete
from ...results.fit import Fit, Flag
from ...spec.model_spec import ModelSpec
from ...spec.observations import cached
from ..base import Column, Solver
from ..declared import SOLVER_OPTIONS
from .mode_audit import no_mode
from .spread import laplace_sd, map_unconstrained
from .starts import Objective, Start, run_start, same_mode

__all__ = ["MAP", "fit_map"]


def fit_map(spec: ModelSpec, *, seed: int, n_starts: int = 4) -> Fit:
    """Posterior mode by find_MAP (L-BFGS-B, no Jacobian) from ``n_starts`` starts.

    Start 0 is the model's initial point; the others jitter it by U(-1, 1) in the unconstrained
    space (seeds ``seed + k``), exactly as ``pm.find_MAP(jitter=True, random_seed=seed + k)``.
    The best start by log density is kept among those that report success after at least one
    iteration. "Several local modes" is said only when starts that
    reached stationary points (after polishing) end at distinct points.

    Parameters
    ----------
    spec : ModelSpec
    seed : int
    n_starts : int, default 4

    Returns
    -------
    Fit
        ``estimates`` has columns ``map`` (mode on each parameter's own scale),
        ``map_unconstrained`` (mode of the density of the unconstrained coordinates, i.e. with
        the log-Jacobian, mapped back) and ``laplace_sd`` (sd of the normal approximation at the
        mode, delta method back to each parameter's scale). ``diagnostics`` has every start
        (``starts``), ``no_mode`` (bool), ``still_rising`` and ``unbounded`` (what showed that
        there is no mode), ``profiles`` (the boundary profiles computed) and ``errors`` (a step
        that could not be computed, and why). ``not_applicable`` when the model has free discrete
        parameters (find_MAP optimises continuous ones only).
    """
    with _one_blas_thread():
        return _fit_map(spec, seed=seed, n_starts=n_starts)


def _one_blas_thread():
    """OpenBLAS threads make the small solves here slower, not faster (a 2x2 solve: 12 ms on two
    threads, 6 us on one); limited with threadpoolctl where it is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover -- threadpoolctl comes with scikit-learn; without it, no limit
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _fit_map(spec: ModelSpec, *, seed: int, n_starts: int) -> Fit:
    model = spec.model
    discrete = free_discrete(model)
    if discrete:
        return Fit("map", "not_applicable", discrete_message(discrete, "find_MAP optimises continuous parameters only"))
    # compiled once per model (and shared by the specs with_data derives, comparisons.spec.observations)
    space = model_space(spec)
    objective = cached(spec.compiled, "find_MAP objective", lambda: Objective(model))
    starts = [run_start(objective, space, seed, k) for k in range(n_starts)]
    usable = [s for s in starts if s.success and s.nit > 0 and np.isfinite(s.log_density)]
    if not usable:
        return _no_start(starts)
    best = max(usable, key=lambda s: s.log_density)
    values = space.constrained(best.u)[0]
    estimate = dict(zip(space.names, values.tolist(), strict=True))
    initial_u = space.ravel(space.initial_point)
    initial = dict(zip(space.names, space.constrained(initial_u)[0].tolist(), strict=True))
    flags = boundary_flags(model, estimate, initial, "map")
    errors: dict[str, str] = {}

    rising, unbounded, profiles = no_mode(spec, space, best.u, initial_u, estimate, flags, errors)
    none = bool(rising or unbounded)
    sd = None if none else laplace_sd(space, best.u, errors)  # no spread at a point that is no peak
    unconstrained, jacobian_result = map_unconstrained(space, errors)
    _add_no_mode_flags(flags, estimate, rising, unbounded)

    counted = [s for s in usable if s.peak]
    agree = [s.start for s in counted if same_mode(s, best, sd)]
    distinct = [s for s in counted if s.start not in agree]
    estimates = {"map": estimate}
    if sd is not None:
        estimates["laplace_sd"] = sd
    if unconstrained is not None:
        estimates["map_unconstrained"] = unconstrained
    diagnostics = {
        "optimizer": "L-BFGS-B (find_MAP's objective and optimiser, compiled once, no Jacobian); early stops "
        "polished by Newton (trust-exact, exact Hessian), kinks by Powell",
        "no_mode": none,
        "still_rising": rising,
        "unbounded": unbounded,
        "profiles": profiles,
        "starts": [s.audit() for s in starts],
        "n_stationary": len(counted),
        "n_starts_agreeing": len(agree),
        "starts_agree": len(agree) == n_starts,
        "spread": {n: float(np.ptp([s.params[n] for s in usable])) for n in space.names},
        "map_unconstrained": jacobian_result,
        "errors": errors,
    }
    return Fit(
        "map",
        "ok",
        _message(rising, unbounded, best, distinct, errors, sd),
        estimates=estimates,
        converged=best.peak and not none,
        n_iter=best.nit,
        diagnostics=diagnostics,
        flags=flags,
    )


def _no_start(starts: list[Start]) -> Fit:
    """``failed``: no start moved and reported success."""
    why = "; ".join(f"start {s.start}: nit={s.nit}, success={s.success}, {s.message}" for s in starts)
    return Fit(
        "map",
        "failed",
        f"find_MAP stopped at iteration 0 or reported failure from all {len(starts)} "
        f"starts, so there is no mode to report ({why}): the log density may be flat or not "
        "differentiable there; check the model or pass initial values",
        diagnostics={"starts": [s.audit() for s in starts]},
    )


def _add_no_mode_flags(flags: dict[str, list[Flag]], estimate: dict[str, float], rising: dict, unbounded: dict) -> None:
    for name, value in rising.items():
        flags.setdefault(name, []).append(
            Flag(
                "map",
                "no_mode",
                value,
                (
                    f"map: not a mode: the log density is still rising where find_MAP stopped ({name} = "
                    f"{estimate[name]:.4g}; it is higher at {value:.4g}): the density has no maximum in that "
                    "direction (unbounded, or rising towards a limit at infinity); the printed value is where the "
                    "optimiser stopped"
                ),
            )
        )
    for name, info in unbounded.items():
        flags[name] = [f for f in flags.get(name, []) if f.kind != "boundary"]  # the edge is no optimum here
        flags[name].append(
            Flag(
                "map",
                "no_mode",
                info["bound"],
                (
                    f"map: not a mode: the log density is unbounded as {name} -> {info['bound']:g} (with every other "
                    f"parameter re-optimised it still gains {info['rise_per_decade']:.3g} per decade closer): there is "
                    "no peak, and the printed value is only where the optimiser stopped"
                ),
            )
        )


def _message(
    rising: dict,
    unbounded: dict,
    best: Start,
    distinct: list[Start],
    errors: dict[str, str],
    laplace_sd: dict[str, float] | None,
) -> str:
    """The solver's one message: no mode (and why), several local modes, steps that failed."""
    parts = []
    if unbounded:
        parts.append(
            "find_MAP found no mode: the log density is unbounded as "
            + ", ".join(f"{n} -> {u['bound']:g}" for n, u in list(unbounded.items())[:4])
            + " (see the notes)"
        )
    elif rising:
        names = list(rising)
        along = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        parts.append(
            f"find_MAP found no mode: the log density keeps rising beyond where it stopped, along {along} "
            "(see the notes)"
        )
    elif distinct:
        parts.append(
            f"{len(distinct)} find_MAP start(s) reached a different local mode ("
            + "; ".join(_how_far(s, best, laplace_sd) for s in distinct[:3])
            + (f"; and {len(distinct) - 3} more" if len(distinct) > 3 else "")
            + "): the posterior has several local modes"
        )
    parts += [f"{step} could not be computed ({why})" for step, why in errors.items()]
    return "; ".join(parts)


def _how_far(start: Start, best: Start, laplace_sd: dict[str, float] | None) -> str:
    """How a start's peak differs from the best one, in words whose numbers differ (never two equal-looking
    heights): the gap in log density, and the parameter that moved most (in Laplace sds where known)."""
    gap = best.log_density - start.log_density
    sd = laplace_sd or {}

    def moved(n: str) -> float:
        change = abs(start.params[n] - best.params[n])
        return change / sd[n] if sd.get(n, 0.0) > 0 else change / (1.0 + abs(best.params[n]))

    name = max(best.params, key=moved)
    where = (
        f"{name} {moved(name):.3g} Laplace sd away"
        if sd.get(name, 0.0) > 0
        else f"{name} = {start.params[name]:.6g} against {best.params[name]:.6g}"
    )
    return f"start {start.start}: log density {gap:.3g} below the best ({best.log_density:.6g}), {where}"


class MAP(Solver):
    """find_MAP, audited (:func:`fit_map`)."""

    name = "map"
    label = "find_MAP"
    columns = {
        "map": Column(
            "posterior mode on the parameter's own scale (pm.find_MAP, no Jacobian)", marker="MAP (find_MAP)"
        ),
        "map_unconstrained": Column(
            "mode of the unconstrained coordinates (with the log-Jacobian), mapped back",
            marker="MAP, unconstrained + Jacobian",
        ),
        "laplace_sd": Column("sd of the normal approximation at the mode (Hessian, delta method)"),
    }
    options = SOLVER_OPTIONS["map"]

    def fit(self, spec: ModelSpec, *, seed: int, n_starts: int) -> Fit:
        return fit_map(spec, seed=seed, n_starts=n_starts)
