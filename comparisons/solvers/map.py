"""``map``: the posterior mode with ``pm.find_MAP``, audited, plus the Jacobian mode and Laplace sds.

The steps, in order (each a function below):

1. :func:`_run_start`: find_MAP (L-BFGS-B) from each start, its objective compiled once for all
   of them (:class:`_Objective`); a start that stopped before
   a stationary point (L-BFGS-B's relative-reduction test fires early on a badly conditioned
   density) is polished by Newton's method with the exact Hessian, and a start at a kink (an L1
   penalty) by Powell's method.
2. :func:`_no_mode`: is there a mode at all? Decided from the density, not from where the
   optimiser stopped: the log density still rising beyond the stopping point (a ridge to
   infinity), or unbounded as a scale goes to its boundary (the centred hierarchy, whose joint
   density grows without limit as ``tau -> 0``); a density that stays finite at the boundary (the
   non-centred eight schools) has its mode there.
3. :func:`_laplace_sd` and :func:`_jacobian_mode`: each fills its own column or leaves it empty
   with a reason; neither can discard the mode.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pymc as pm
from pymc.blocking import DictToArrayBijection
from pymc.initial_point import make_initial_point_fns_per_chain
from pymc.tuning.starting import scipy_optimize_funcs_from_loss
from scipy import optimize

from ..checks import discrete_message, free_discrete
from ..compiled import cached, initial_point
from ..fit import Fit, Flag, flat_names
from ..space import ValueSpace, boundary_flags, model_space, shape_of, support_bounds
from ..spec import ModelSpec
from .base import Column, Option, Solver

__all__ = ["MAP", "fit_map", "same_mode"]

AGREE_RTOL = 1e-3  # starts agree when every parameter is within this (relative, +abs) of the best
SAME_MODE_SD = 0.01  # ... or within this fraction of its Laplace sd (a parameter near 0, a wide posterior)
KINK_GTOL = 1e-3  # L-BFGS-B stopped with a gradient above this (relative to the objective): maybe a kink
DECREMENT_TOL = 1e-6  # stationary: a Newton step would raise the log density by less than this (nats)
POWELL = {"xtol": 1e-10, "ftol": 1e-15, "maxiter": 100_000}
NEWTON = {"gtol": 1e-10, "maxiter": 50}
PROFILE_NEWTON = {"gtol": 1e-8, "maxiter": 20}  # each profile point starts from the previous one
PROFILE_DECADES = (2, 3, 4)  # profile points: this many decades from the initial point towards the bound
UNBOUNDED_RISE = 0.05  # nats per decade that the profile must keep gaining, undiminished, to be unbounded
LN10 = math.log(10.0)
# two peaks whose log densities differ by less than this are one height: each stationary start is within
# DECREMENT_TOL of its peak, and the log density itself is rounded to about 1e-12 of its size
SAME_HEIGHT = 2 * DECREMENT_TOL


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
    # compiled once per model (and shared by the specs with_data derives, comparisons.compiled)
    space = model_space(spec)
    objective = cached(spec.compiled, "find_MAP objective", lambda: _Objective(model))
    starts = [_run_start(objective, space, seed, k) for k in range(n_starts)]
    audit = [
        {k: s[k] for k in ("start", "success", "nit", "message", "log_density", "polished", "stationary")}
        for s in starts
    ]
    usable = [s for s in starts if s["success"] and s["nit"] > 0 and np.isfinite(s["log_density"])]
    if not usable:
        why = "; ".join(f"start {s['start']}: nit={s['nit']}, success={s['success']}, {s['message']}" for s in starts)
        return Fit(
            "map",
            "failed",
            f"find_MAP stopped at iteration 0 or reported failure from all {n_starts} "
            f"starts, so there is no mode to report ({why}): the log density may be flat or not "
            "differentiable there; check the model or pass initial values",
            diagnostics={"starts": audit},
        )
    best = max(usable, key=lambda s: s["log_density"])
    values = space.constrained(best["u"])[0]
    estimate = dict(zip(space.names, values.tolist(), strict=True))
    initial_u = space.ravel(space.initial_point)
    initial = dict(zip(space.names, space.constrained(initial_u)[0].tolist(), strict=True))
    flags = boundary_flags(model, estimate, initial, "map")
    errors: dict[str, str] = {}

    rising, unbounded, profiles = _no_mode(spec, space, best["u"], initial_u, estimate, flags, errors)
    no_mode = bool(rising or unbounded)
    laplace_sd = None if no_mode else _laplace_sd(space, best["u"], errors)  # no spread at a point that is no peak
    unconstrained, jacobian_result = _jacobian_mode(space, best["u"], errors)
    _add_no_mode_flags(flags, estimate, rising, unbounded)

    counted = [s for s in usable if _is_peak(s)]
    agree = [s["start"] for s in counted if same_mode(s, best, laplace_sd)]
    distinct = [s for s in counted if s["start"] not in agree]
    estimates = {"map": estimate}
    if laplace_sd is not None:
        estimates["laplace_sd"] = laplace_sd
    if unconstrained is not None:
        estimates["map_unconstrained"] = unconstrained
    diagnostics = {
        "optimizer": "L-BFGS-B (find_MAP's objective and optimiser, compiled once, no Jacobian); early stops "
        "polished by Newton (trust-exact, exact Hessian), kinks by Powell",
        "no_mode": no_mode,
        "still_rising": rising,
        "unbounded": unbounded,
        "profiles": profiles,
        "starts": audit,
        "n_stationary": len(counted),
        "n_starts_agreeing": len(agree),
        "starts_agree": len(agree) == n_starts,
        "spread": {n: float(np.ptp([s["params"][n] for s in usable])) for n in space.names},
        "map_unconstrained": jacobian_result,
        "errors": errors,
    }
    return Fit(
        "map",
        "ok",
        _message(rising, unbounded, best, distinct, errors, laplace_sd),
        estimates=estimates,
        converged=_is_peak(best) and not no_mode,
        n_iter=best["nit"],
        diagnostics=diagnostics,
        flags=flags,
    )


# ------------------------------------------------------------------------------------------ 1. the starts


class _Objective:
    """find_MAP's objective, compiled once per model and shared by every start, polish, fit and spec that
    ``with_data`` derives (:mod:`comparisons.compiled`).

    This is the one density compiled twice per model, on purpose: the starts run find_MAP's own loss in
    PyMC's default (compiled) mode, so that start 0 is bitwise ``pm.find_MAP(jitter=False)``; the audit
    (Newton polish, Hessians, profiles, the still-rising check, the Jacobian mode, the Laplace sds) runs
    the parameter space's density (:func:`comparisons.space.model_space`), which ``laplace``, ``advi``
    and ``pathfinder`` share.

    ``pm.find_MAP`` compiles its loss again on every call (6–10 s of graph rewriting and cache
    loading per call on a mixture, for an optimisation that takes 0.1 s), so the starts call
    find_MAP's own pieces instead: the same loss (``-model.logp(jacobian=False)`` over the
    continuous value variables, :func:`pymc.tuning.starting.scipy_optimize_funcs_from_loss`), the
    same starting points (PyMC's initial-point function, jittered by U(-1, 1), seeded as find_MAP
    seeds it) and the same optimiser call (``better_optimize.minimize``, as find_MAP). Start 0
    is therefore exactly ``pm.find_MAP(jitter=False)`` (tested).
    """

    def __init__(self, model: pm.Model):
        self.vars = [v for v in model.value_vars if v in set(model.continuous_value_vars)]
        self.fused, _ = scipy_optimize_funcs_from_loss(
            -model.logp(jacobian=False),
            self.vars,
            initial_point(model),
            use_grad=True,
            use_hess=False,
            use_hessp=False,
        )
        jitter = {model.values_to_rvs[v] for v in self.vars}
        self._plain = make_initial_point_fns_per_chain(model=model, overrides=None, jitter_rvs=set(), chains=1)[0]
        self._jittered = make_initial_point_fns_per_chain(model=model, overrides=None, jitter_rvs=jitter, chains=1)[0]

    def start(self, seed: int, jitter: bool) -> np.ndarray:
        """find_MAP's starting vector for ``random_seed=seed`` (redrawn while the loss is not finite)."""
        rng = np.random.default_rng(seed)
        make = self._jittered if jitter else self._plain
        x0 = self._ravel(make(int(rng.integers(2**30))))
        for _ in range(10 if jitter else 0):
            if np.isfinite(self.fused(x0)[0]):
                break
            x0 = self._ravel(make(int(rng.integers(2**30))))
        return x0

    def minimize(self, x0: np.ndarray, method: str, **options):
        """``better_optimize.minimize`` of the loss from ``x0`` (gradient used unless ``method="Powell"``)."""
        from better_optimize import minimize

        if method == "Powell":
            return minimize(f=lambda x: self.fused(x)[0], x0=x0, method=method, progressbar=False, options=options)
        return minimize(f=self.fused, x0=x0, method=method, progressbar=False, **options)

    def _ravel(self, point: dict) -> np.ndarray:
        return DictToArrayBijection.map({v.name: point[v.name] for v in self.vars}).data


def _run_start(objective: _Objective, space: ValueSpace, seed: int, k: int) -> dict:
    """One find_MAP start, polished where it stopped short of a stationary point.

    Returns
    -------
    dict
        ``start``, ``success`` (L-BFGS-B's, or the polish's where it reached a peak), ``nit``
        (L-BFGS-B's iterations, plus Powell's where it polished),
        ``message`` (L-BFGS-B's), ``polished`` (``""``,
        ``"newton"`` or ``"powell"``), ``stationary`` (a strict local maximum: the Hessian is
        negative definite and a Newton step would gain less than ``DECREMENT_TOL``),
        ``log_density``, ``u`` and ``params`` (outputs at ``u``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow far out on a ridge: reported as no mode
        opt = objective.minimize(objective.start(seed + k, jitter=k > 0), "L-BFGS-B")
    u = np.asarray(opt.x, dtype=float)
    start: dict[str, Any] = {
        "start": k,
        "success": bool(opt.success),
        "nit": int(opt.nit),
        "message": str(opt.message),
        "polished": "",
        "u": u,
        "log_density": space.logp(u)[0],
    }
    decrement = _newton_decrement(space, u)
    if decrement is None:  # not in a bowl (a ridge, a boundary, a runaway): no nearby peak to polish towards
        start.update(stationary=False, params=_params(space, u))
        return start
    if decrement >= DECREMENT_TOL:
        polished = _newton(space, u, np.arange(space.size))
        if polished is not None and polished[1] >= start["log_density"]:
            start.update(u=polished[0], log_density=polished[1], polished="newton")
    if not _stationary(space, start["u"]) and np.max(np.abs(opt.jac)) > KINK_GTOL * max(1.0, abs(float(opt.fun))):
        # a gradient that stays large where no Newton step helps: a kink, e.g. an L1 penalty at 0;
        # Powell's derivative-free line searches along each coordinate reach it
        powell = objective.minimize(start["u"], "Powell", **POWELL)
        u_powell = np.asarray(powell.x, dtype=float)
        if space.logp(u_powell)[0] >= start["log_density"]:
            start.update(
                u=u_powell,
                log_density=space.logp(u_powell)[0],
                polished="powell",
                success=start["success"] or bool(powell.success),
                nit=start["nit"] + int(powell.nit),
            )
    start.update(stationary=_stationary(space, start["u"]), params=_params(space, start["u"]))
    # L-BFGS-B's "abnormal termination in line search" near a peak is no failure once polished there
    start["success"] = start["success"] or (start["polished"] == "newton" and start["stationary"])
    return start


def _is_peak(start: dict) -> bool:
    """A start ended at a peak: a strict local maximum, or a kink Powell's search reached (an L1 penalty at 0)."""
    return bool(start["stationary"] or start["polished"] == "powell")


def _params(space: ValueSpace, u: np.ndarray) -> dict[str, float]:
    return dict(zip(space.names, space.constrained(u)[0].tolist(), strict=True))


def _newton_decrement(space: ValueSpace, u: np.ndarray) -> float | None:
    """What a Newton step would gain, ``g' (-H)^-1 g / 2`` (nats); ``None`` unless ``-H`` is positive definite."""
    value, grad = space.logp(u)
    hess = space.hessian(u)
    if not (np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        return None
    try:
        chol = np.linalg.cholesky(-hess)
    except np.linalg.LinAlgError:
        return None
    half = np.linalg.solve(chol, grad)
    return 0.5 * float(half @ half)


def _stationary(space: ValueSpace, u: np.ndarray) -> bool:
    """A strict local maximum: ``-H`` positive definite and the Newton decrement below ``DECREMENT_TOL``."""
    decrement = _newton_decrement(space, u)
    return decrement is not None and decrement < DECREMENT_TOL


def _newton(
    space: ValueSpace, u: np.ndarray, free: np.ndarray, options: dict = NEWTON
) -> tuple[np.ndarray, float] | None:
    """Maximise the log density over the coordinates ``free`` (the rest held at ``u``) by trust-exact.

    Newton's method with the exact Hessian is invariant to the scaling of the coordinates, so it
    reaches the mode of a badly conditioned density where L-BFGS-B's relative-reduction test stops
    early. Returns the point and its log density, or ``None`` if the optimiser raised.
    """

    def full(x):
        v = u.copy()
        v[free] = x
        return v

    def negative(x):
        value, grad = space.logp(full(x))
        return (-value, -grad[free]) if np.isfinite(value) else (np.inf, np.zeros(free.size))

    def negative_hessian(x):
        hess = -space.hessian(full(x))[np.ix_(free, free)]
        return hess if np.all(np.isfinite(hess)) else np.eye(free.size)

    try:
        with np.errstate(all="ignore"):
            res = optimize.minimize(
                negative, u[free], jac=True, hess=negative_hessian, method="trust-exact", options=options
            )
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return None
    point = full(res.x)
    return point, space.logp(point)[0]


# ------------------------------------------------------------------------------------------ 2. is there a mode?


def _no_mode(
    spec: ModelSpec,
    space: ValueSpace,
    u: np.ndarray,
    initial_u: np.ndarray,
    estimate: dict[str, float],
    flags: dict[str, list[Flag]],
    errors: dict[str, str],
) -> tuple[dict, dict, dict]:
    """Whether the density has no mode: still rising from ``u``, or unbounded at a boundary.

    Where find_MAP left parameters on a boundary, their profiles decide; otherwise an uphill
    Newton step first tests for a ridge to infinity. The profiles are computed for every parameter
    find_MAP left on a boundary and for every
    *hyper-scale* (a positive parameter of another free variable's distribution, like ``tau`` in
    ``theta ~ N(mu, tau)``), where it stopped or not: a centred hierarchy's density is unbounded
    as ``tau -> 0`` even when an optimiser settles at a local mode inside.

    Returns
    -------
    rising : dict of str to float
        Outputs along which the density is higher a Newton step on, and their value there.
    unbounded : dict of str to dict
        Outputs whose profile rises without limit towards a bound: ``bound``, ``rise_per_decade``.
    profiles : dict of str to dict
        Every profile computed: ``bound``, ``values`` (parameter values), ``log_density`` (the
        maximum over the other coordinates at each), ``unbounded``.
    """
    on_boundary = [n for n, notes in flags.items() if any(f.kind == "boundary" for f in notes)]
    rising = {}
    if not on_boundary:  # at a boundary the density rises towards the edge by definition: the profiles decide
        try:
            rising = _still_rising(space, u, estimate)
        except Exception as exc:  # noqa: BLE001 -- the check is lost, never the mode
            errors["still_rising"] = f"{type(exc).__name__}: {exc}"
        if rising:  # no mode already; profiles from a runaway point would measure nothing
            return rising, {}, {}
    candidates = on_boundary + [n for n in _hyper_scales(spec) if n not in on_boundary]
    profiles = {}
    for name in candidates:
        c = space.coordinate(name)
        bounds = _bound_of(spec, name)
        if c is None or bounds is None:
            continue
        try:
            profiles[name] = _profile(space, u, initial_u, c, bounds, name)
        except Exception as exc:  # noqa: BLE001
            errors[f"profile {name}"] = f"{type(exc).__name__}: {exc}"
        if profiles.get(name, {}).get("unbounded"):  # one unbounded direction settles it: no mode
            break
    unbounded = {
        n: {"bound": p["bound"], "rise_per_decade": p["rise_per_decade"]} for n, p in profiles.items() if p["unbounded"]
    }
    return rising, unbounded, profiles


def _hyper_scales(spec: ModelSpec) -> list[str]:
    """Flat names of positive free parameters that set the distribution of another free variable."""
    from pytensor.graph.traversal import ancestors

    model = spec.model
    out = []
    for rv in model.free_RVs:
        bounds = support_bounds(model, rv.name)
        if bounds is None or not np.all(bounds[0] == 0) or not np.all(np.isinf(bounds[1])):
            continue
        if any(rv in set(ancestors(other.owner.inputs)) for other in model.free_RVs if other is not rv):
            out += flat_names(rv.name, shape_of(model, rv.name))
    return out


def _bound_of(spec: ModelSpec, name: str) -> tuple[float, float] | None:
    """The finite bound of ``name``'s support that a profile should approach, and the direction in ``u``."""
    base = name.split("[")[0]
    bounds = support_bounds(spec.model, base)
    if bounds is None:
        return None
    index = flat_names(base, shape_of(spec.model, base)).index(name)
    lo, hi = float(bounds[0][index]), float(bounds[1][index])
    if np.isfinite(lo):
        return lo, -1.0
    if np.isfinite(hi):
        return hi, 1.0
    return None


def _profile(
    space: ValueSpace, u: np.ndarray, initial_u: np.ndarray, c: int, bound: tuple[float, float], name: str
) -> dict:
    """The profile log density of coordinate ``c`` approaching its bound, and whether it is unbounded.

    The coordinate is fixed at ``PROFILE_DECADES`` decades from the initial point towards the bound
    (log or log-odds coordinates: each decade brings the parameter ten times closer) and the log
    density maximised over every other coordinate (Newton, continuing from the previous point).
    The density is unbounded there when the profile keeps gaining at least ``UNBOUNDED_RISE``
    nats per decade without slowing (a centred hierarchy gains one log-decade per group); where
    it tends to a finite limit the gains shrink geometrically.
    """
    value, direction = bound
    free = np.setdiff1d(np.arange(space.size), [c])
    point, heights, where = u.copy(), [], []
    for decades in PROFILE_DECADES:
        point[c] = initial_u[c] + direction * decades * LN10
        if free.size:
            best = _newton(space, point, free, PROFILE_NEWTON)
            if best is not None and np.isfinite(best[1]):
                point = best[0]
        heights.append(space.logp(point)[0])
        where.append(float(space.constrained(point)[0][space.names.index(name)]))
    gains = np.diff(heights)
    rising = bool(
        np.all(np.isfinite(heights))
        and gains.size >= 2
        and gains[-1] > UNBOUNDED_RISE
        and gains[-2] > UNBOUNDED_RISE
        and gains[-1] >= 0.5 * gains[-2]
    )
    return {
        "bound": value,
        "values": where,
        "log_density": heights,
        "unbounded": rising,
        "rise_per_decade": float(gains[-1]) if gains.size else None,
    }


def _still_rising(space: ValueSpace, u: np.ndarray, estimate: dict[str, float]) -> dict[str, float]:
    """Outputs along which the log density still rises from ``u``, where find_MAP stopped.

    An uphill Newton step (the Hessian's eigenvalues made negative, so the step always points
    uphill) is halved until the log density (no Jacobian) is higher than at ``u`` by more than
    rounding. At a mode the first such point agrees with the estimate (within ``AGREE_RTOL``);
    where the density is unbounded, or rises towards a limit at infinity (a flat ridge), it does not.

    Returns
    -------
    dict of str to float
        Flat name to its value at the higher point, for the outputs that differ from
        ``estimate``; empty at a mode.
    """
    value, grad = space.logp(u)
    hess = space.hessian(u)
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return {}
    if np.all(np.isfinite(hess)):
        eigenvalues, vectors = np.linalg.eigh(-hess)
        floor = max(float(np.max(np.abs(eigenvalues))) * 1e-12, 1e-300)
        step = vectors @ ((vectors.T @ grad) / np.maximum(np.abs(eigenvalues), floor))
    else:  # far out on a ridge the curvature overflows: go uphill along the gradient, one unit of u
        step = grad / max(float(np.linalg.norm(grad)), 1e-300)
    for _ in range(60):
        higher = space.logp(u + step)[0]
        if np.isfinite(higher) and higher > value + 1e-12 * max(1.0, abs(value)):
            ahead = dict(zip(space.names, space.constrained(u + step)[0].tolist(), strict=True))
            return {n: ahead[n] for n in estimate if not _agrees({n: ahead[n]}, {n: estimate[n]})}
        step = step / 2
    return {}


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
    best: dict,
    distinct: list[dict],
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


# ------------------------------------------------------------------------------------------ 3. spread and Jacobian mode


def _laplace_sd(space: ValueSpace, u: np.ndarray, errors: dict[str, str]) -> dict[str, float] | None:
    """sd of the normal approximation at ``u``: ``(-H)^-1`` in ``u``, delta method back; ``None`` if undefined."""
    hess = space.hessian(u)
    values, jac = space.constrained(u)
    if not np.all(np.isfinite(hess)) or not np.all(np.isfinite(jac)):
        errors["laplace_sd"] = "the Hessian is not finite where find_MAP stopped"
        return None
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        errors["laplace_sd"] = "the Hessian is singular where find_MAP stopped"
        return None
    sd = np.sqrt(np.clip(np.diag(jac @ cov @ jac.T), 0.0, None))
    return dict(zip(space.names, sd.tolist(), strict=True))


def _jacobian_mode(space: ValueSpace, u: np.ndarray, errors: dict[str, str]) -> tuple[dict[str, float] | None, dict]:
    """Mode of the unconstrained density (with the log-Jacobian), started from the MAP, mapped back."""

    def negative(x):
        value, grad = space.logp_jacobian(x)
        return (-value, -grad) if np.isfinite(value) else (np.inf, np.zeros_like(x))

    try:
        with np.errstate(all="ignore"):
            res = optimize.minimize(negative, u, jac=True, method="L-BFGS-B", options={"maxiter": 10_000, "gtol": 1e-9})
    except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
        errors["map_unconstrained"] = f"{type(exc).__name__}: {exc}"
        return None, {}
    result = {"success": bool(res.success), "nit": int(res.nit), "message": str(res.message)}
    values = space.constrained(res.x)[0]
    if not np.isfinite(res.fun) or not np.all(np.isfinite(values)):
        errors["map_unconstrained"] = "the log density with the Jacobian is not finite where its optimiser stopped"
        return None, result
    return dict(zip(space.names, values.tolist(), strict=True)), result


def _agrees(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(abs(a[n] - b[n]) <= AGREE_RTOL * (1.0 + abs(b[n])) for n in b)


def same_mode(start: dict, best: dict, laplace_sd: dict[str, float] | None) -> bool:
    """Whether two starts reached one mode: the same height and the same point.

    The same height: log densities within :data:`SAME_HEIGHT` nats (each stationary start is within
    ``DECREMENT_TOL`` of its own peak). The same point: every parameter within ``AGREE_RTOL`` of the best
    start's (relative, plus absolute), or within ``SAME_MODE_SD`` of its Laplace sd at the best start (an
    optimiser's tolerance on a wide posterior moves a parameter near 0 by more than ``AGREE_RTOL``: dyestuff's
    four starts end 3e-8 nats and 2e-4 sd apart).

    Parameters
    ----------
    start, best : dict
        Starts with ``log_density`` and ``params`` (flat name to value on its own scale).
    laplace_sd : dict of str to float, optional
        The Laplace sd of each parameter at ``best``; ``None`` where it could not be computed.
    """
    height = abs(start["log_density"] - best["log_density"])
    if not height <= SAME_HEIGHT + 1e-12 * abs(best["log_density"]):
        return False
    sd = laplace_sd or {}
    return all(
        abs(start["params"][n] - value) <= max(AGREE_RTOL * (1.0 + abs(value)), SAME_MODE_SD * sd.get(n, 0.0))
        for n, value in best["params"].items()
    )


def _how_far(start: dict, best: dict, laplace_sd: dict[str, float] | None) -> str:
    """How a start's peak differs from the best one, in words whose numbers differ (never two equal-looking
    heights): the gap in log density, and the parameter that moved most (in Laplace sds where known)."""
    gap = best["log_density"] - start["log_density"]
    sd = laplace_sd or {}

    def moved(n: str) -> float:
        change = abs(start["params"][n] - best["params"][n])
        return change / sd[n] if sd.get(n, 0.0) > 0 else change / (1.0 + abs(best["params"][n]))

    name = max(best["params"], key=moved)
    where = (
        f"{name} {moved(name):.3g} Laplace sd away"
        if sd.get(name, 0.0) > 0
        else f"{name} = {start['params'][name]:.6g} against {best['params'][name]:.6g}"
    )
    return f"start {start['start']}: log density {gap:.3g} below the best ({best['log_density']:.6g}), {where}"


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
    options = {
        "n_starts": Option(int, 4, "find_MAP starts (start 0: the model's initial point, the others jittered)", low=1)
    }

    def fit(self, spec: ModelSpec, *, seed: int, n_starts: int) -> Fit:
        return fit_map(spec, seed=seed, n_starts=n_starts)
