"""``map``: the posterior mode with ``pm.find_MAP``, audited, plus the Jacobian mode and Laplace sds."""

from __future__ import annotations

import numpy as np
import pymc as pm
from scipy import optimize

from .fit import Fit
from .space import ValueSpace, boundary_flags
from .spec import ModelSpec

__all__ = ["fit_map"]

AGREE_RTOL = 1e-3  # starts agree when every parameter is within this (relative, +abs) of the best
KINK_GTOL = 1e-3  # L-BFGS-B stopped with a gradient above this (relative to the objective): a kink
POWELL = {"xtol": 1e-10, "ftol": 1e-15, "maxiter": 100_000}


def fit_map(spec: ModelSpec, *, seed: int, n_starts: int = 4) -> Fit:
    """Posterior mode by ``pm.find_MAP`` (L-BFGS-B, no Jacobian) from ``n_starts`` starts.

    Start 0 is the model's initial point; the others jitter it by U(-1, 1) in the unconstrained
    space (seeds ``seed + k``). The best successful start is kept. A start that reports failure or
    stops at iteration 0 is never taken as a result.

    L-BFGS-B assumes a smooth density. Where it stops with a gradient that is not small (above
    ``KINK_GTOL`` times ``max(1, |log density|)``), the density has a kink there, e.g. a Laplace
    prior (an L1 penalty) with a coefficient at 0, and L-BFGS-B stalls short of the mode. That
    start is polished by ``pm.find_MAP(method="Powell")`` from where it stopped (derivative-free
    line searches along each coordinate reach a kink); the polished point is kept if its log
    density is not lower.

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
        mode, delta method back to each parameter's scale). ``diagnostics["starts"]`` lists every
        start's optimiser success, iterations, message, log density and parameters.
    """
    model = spec.model
    outputs = [rv.name for rv in model.free_RVs] + [d.name for d in model.deterministics]
    space = ValueSpace(model, outputs)
    starts = []
    for k in range(n_starts):
        fit = pm.find_MAP(model=model, method="L-BFGS-B", jitter=k > 0, random_seed=seed + k,
                          compute_hessian=True, return_inferencedata=True, progressbar=False,
                          idata_kwargs={"include_transformed": True})
        opt = fit.optimizer_result
        polished = False
        if np.max(np.abs(opt["jac"].values)) > KINK_GTOL * max(1.0, abs(float(opt["fun"]))):
            fit_powell = pm.find_MAP(model=model, method="Powell", jitter=False, compute_hessian=True,
                                     initvals={rv.name: fit.posterior[rv.name].values[0, 0] for rv in model.free_RVs},
                                     return_inferencedata=True, progressbar=False,
                                     idata_kwargs={"include_transformed": True}, options=POWELL)
            polished = float(fit_powell.optimizer_result["fun"]) <= float(opt["fun"])
            if polished:
                fit, opt = fit_powell, fit_powell.optimizer_result
        nit, success = int(opt["nit"]), bool(opt["success"])
        u = np.asarray(fit.fit["mean_vector"].values, dtype=float)
        values = space.constrained(u)[0]
        starts.append({
            "start": k, "success": success, "nit": nit, "message": str(opt["message"].values), "polished": polished,
            "log_density": -float(opt["fun"]), "u": u, "params": dict(zip(space.names, values.tolist())),
            "cov": np.asarray(fit.fit["covariance_matrix"].values, dtype=float),
        })
    usable = [s for s in starts if s["success"] and s["nit"] > 0 and np.isfinite(s["log_density"])]
    audit = [{k: s[k] for k in ("start", "success", "nit", "message", "log_density", "polished")} for s in starts]
    if not usable:
        why = "; ".join(f"start {s['start']}: nit={s['nit']}, success={s['success']}, {s['message']}"
                        for s in starts)
        return Fit("map", "failed", f"find_MAP stopped at iteration 0 or reported failure from all {n_starts} "
                   f"starts, so there is no mode to report ({why}): the log density may be flat or not "
                   "differentiable there; check the model or pass initial values", diagnostics={"starts": audit})
    best = max(usable, key=lambda s: s["log_density"])
    agree = [s["start"] for s in usable if _agrees(s["params"], best["params"])]

    values, jac = space.constrained(best["u"])
    cov = jac @ best["cov"] @ jac.T
    laplace_sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))

    # mode of the unconstrained density (with the log-Jacobian), started from the MAP
    res = optimize.minimize(lambda u: tuple(-np.asarray(v) for v in space.logp_jacobian(u)), best["u"],
                            jac=True, method="L-BFGS-B", options={"maxiter": 10_000, "gtol": 1e-9})
    unconstrained = space.constrained(res.x)[0]

    initial = dict(zip(space.names, space.constrained(space.ravel(model.initial_point()))[0].tolist()))
    estimate = dict(zip(space.names, values.tolist()))
    flags = boundary_flags(model, estimate, initial, "map")
    rising = _still_rising(space, best["u"], best["cov"], estimate)
    for name, value in rising.items():
        flags.setdefault(name, []).append(
            f"map: not a mode: the log density is still rising where find_MAP stopped ({name} = "
            f"{estimate[name]:.4g}; it is higher at {value:.4g}): the density has no maximum in that "
            "direction (unbounded, or rising towards a limit at infinity); the printed value is where the "
            "optimiser stopped")
    diagnostics = {
        "optimizer": "L-BFGS-B (scipy, via pm.find_MAP, no Jacobian)",
        "still_rising": rising,
        "starts": audit,
        "n_starts_agreeing": len(agree),
        "starts_agree": len(agree) == n_starts,
        "spread": {n: float(np.ptp([s["params"][n] for s in usable])) for n in space.names},
        "map_unconstrained": {"success": bool(res.success), "nit": int(res.nit), "message": str(res.message)},
    }
    message = ""
    if rising:
        names = list(rising)
        along = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        message = f"find_MAP found no mode: the log density keeps rising beyond where it stopped, along {along} (see the notes)"
    elif len(agree) < n_starts:
        message = (f"only {len(agree)} of {n_starts} find_MAP starts agree with the best mode; "
                   "the posterior may have several local modes")
    return Fit(
        "map", "ok", message,
        estimates={"map": estimate, "map_unconstrained": dict(zip(space.names, unconstrained.tolist())),
                   "laplace_sd": dict(zip(space.names, laplace_sd.tolist()))},
        converged=True, n_iter=best["nit"], diagnostics=diagnostics, flags=flags,
    )


def _still_rising(space: ValueSpace, u: np.ndarray, cov: np.ndarray, estimate: dict[str, float]) -> dict[str, float]:
    """Outputs along which the log density still rises from ``u``, where find_MAP stopped.

    A Newton step ``cov @ grad`` (``cov``: find_MAP's inverse Hessian of the negative log density
    in the unconstrained coordinates, eigenvalues clipped, so the step always points uphill) is
    halved until the log density (no Jacobian) is higher than at ``u`` by more than rounding. At
    a mode the first such point agrees with the estimate (within ``AGREE_RTOL``); where the
    density is unbounded, or rises towards a limit at infinity (a flat ridge), it does not.

    Parameters
    ----------
    space : ValueSpace
    u : ndarray of shape (space.size,)
    cov : ndarray of shape (space.size, space.size)
    estimate : dict of str to float
        The outputs at ``u`` (flat name to value).

    Returns
    -------
    dict of str to float
        Flat name to its value at the higher point, for the outputs that differ from
        ``estimate``; empty at a mode.
    """
    value, grad = space.logp(u)
    step = cov @ grad
    with np.errstate(all="ignore"):
        for _ in range(60):
            higher = space.logp(u + step)[0]
            if np.isfinite(higher) and higher > value + 1e-12 * max(1.0, abs(value)):
                ahead = dict(zip(space.names, space.constrained(u + step)[0].tolist()))
                return {n: ahead[n] for n in estimate if not _agrees({n: ahead[n]}, {n: estimate[n]})}
            step = step / 2
    return {}


def _agrees(a: dict[str, float], b: dict[str, float]) -> bool:
    return all(abs(a[n] - b[n]) <= AGREE_RTOL * (1.0 + abs(b[n])) for n in b)
