"""Is there a mode at all? Decided from the density, not from where the optimiser stopped.

No mode when the log density still rises beyond the stopping point (a ridge to infinity,
:func:`still_rising`), or is unbounded as a scale goes to its boundary (the centred hierarchy, whose
joint density grows without limit as ``tau -> 0``, :func:`profile`); a density that stays finite at
the boundary (the non-centred eight schools) has its mode there.
"""

from __future__ import annotations

import math

import numpy as np

from ...density.bounds import support_bounds
from ...density.optimize import newton
from ...density.space import ValueSpace, shape_of
from ...results.fit import Flag, flat_names
from ...spec.model_spec import ModelSpec
from .starts import agrees

__all__ = ["no_mode", "hyper_scales", "profile", "still_rising"]

PROFILE_NEWTON = {"gtol": 1e-8, "maxiter": 20}  # each profile point starts from the previous one
PROFILE_DECADES = (2, 3, 4)  # profile points: this many decades from the initial point towards the bound
UNBOUNDED_RISE = 0.05  # nats per decade that the profile must keep gaining, undiminished, to be unbounded
LN10 = math.log(10.0)


def no_mode(
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
            rising = still_rising(space, u, estimate)
        except Exception as exc:  # noqa: BLE001 -- the check is lost, never the mode
            errors["still_rising"] = f"{type(exc).__name__}: {exc}"
        if rising:  # no mode already; profiles from a runaway point would measure nothing
            return rising, {}, {}
    candidates = on_boundary + [n for n in hyper_scales(spec) if n not in on_boundary]
    profiles = {}
    for name in candidates:
        c = space.coordinate(name)
        bounds = bound_of(spec, name)
        if c is None or bounds is None:
            continue
        try:
            profiles[name] = profile(space, u, initial_u, c, bounds, name)
        except Exception as exc:  # noqa: BLE001
            errors[f"profile {name}"] = f"{type(exc).__name__}: {exc}"
        if profiles.get(name, {}).get("unbounded"):  # one unbounded direction settles it: no mode
            break
    unbounded = {
        n: {"bound": p["bound"], "rise_per_decade": p["rise_per_decade"]} for n, p in profiles.items() if p["unbounded"]
    }
    return rising, unbounded, profiles


def hyper_scales(spec: ModelSpec) -> list[str]:
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


def bound_of(spec: ModelSpec, name: str) -> tuple[float, float] | None:
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


def profile(
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
            best = newton(space, point, free, PROFILE_NEWTON)
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


def still_rising(space: ValueSpace, u: np.ndarray, estimate: dict[str, float]) -> dict[str, float]:
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
            return {n: ahead[n] for n in estimate if not agrees({n: ahead[n]}, {n: estimate[n]})}
        step = step / 2
    return {}
