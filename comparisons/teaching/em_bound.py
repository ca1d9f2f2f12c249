"""``em_bound.json``: ``two_gaussians`` again, EM as coordinate ascent on a lower bound.

At each iteration from the seed's start: the log likelihood and the bound
``Q(theta | theta_t) + H(q_t)`` along 1-D slices through ``theta_t``, from the engine's E-step and
log joint (:func:`em_bound_data`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from modemean import models

from ..em.discrete import DiscreteLatentEM
from ..em.engine import EMEngine, require
from ..results.write import jsonable
from ..solvers import SEED
from ..spec.load import load_spec

__all__ = ["em_bound_data", "BOUND_SLICES"]

BOUND_STEPS = 10  # EM iterations drawn on the lower-bound page (the big moves happen early)
SLICE_POINTS = 81  # points along each slice of the lower-bound page
# the slices of the lower-bound page: (key, label); "step" is the line from theta_t through the M-step's theta_{t+1}
BOUND_SLICES = (("mu0", "μ₁"), ("mu1", "μ₂"), ("w0", "w₁"), ("step", "s along the line θ_t + s (θ_t+1 − θ_t)"))
BOUND_RANGES = {"mu0": (-5.0, 4.0), "mu1": (-5.0, 4.0), "w0": (0.02, 0.98), "step": (-0.6, 2.2)}


def em_bound_data(*, seed: int = SEED.default, steps: int = BOUND_STEPS, points: int = SLICE_POINTS) -> dict:
    """EM on ``two_gaussians`` as coordinate ascent on a lower bound, along 1-D slices of the parameters.

    At the EM iterate ``theta_t`` the E-step gives ``q_t(z_i = k) = r_ik``, the responsibilities
    (:meth:`comparisons.em.discrete.DiscreteLatentEM.e_step`). For any ``theta``,

    ``L(q_t, theta) = sum_ik r_ik log p(z_i = k, x_i | theta) + H(q_t)``, with
    ``H(q_t) = -sum_ik r_ik log r_ik``, and ``l(theta) - L(q_t, theta) = sum_i KL(q_t,i || p(z_i | x_i, theta)) >= 0``,

    where ``log p(z_i = k, x_i | theta)`` is the engine's :meth:`~comparisons.em.discrete.DiscreteLatentEM.log_joint`
    (the PyMC model's own graph) and ``l(theta)`` its logsumexp over ``k`` summed over ``i``. The
    first sum is ``Q(theta | theta_t)``. The bound touches ``l`` at ``theta_t``; the M-step (the
    model's closed form) maximises it over all of ``theta`` at once.

    Each slice varies one thing with the rest held at ``theta_t`` (:data:`BOUND_SLICES`): a mean,
    the first weight (the second is ``1 - w_1``), or the step ``theta_t + s (theta_t+1 - theta_t)``.
    The grid holds ``theta_t``'s own coordinate and the bound's maximiser along the slice (found
    by a bounded scalar search), so the drawn curves touch and peak exactly.

    Parameters
    ----------
    seed : int
        As ``modemean run --seed`` (the seed's start does not use it).
    steps : int
        EM iterations from the seed's start (means -0.5, 0.8; weights 0.5, 0.5; sds 1).
    points : int
        Evenly spaced points per slice (two more are inserted).

    Returns
    -------
    dict
        ``slices`` (key, label), ``ranges`` per coordinate slice, and ``steps``: per iteration ``t``
        ``theta`` and ``new`` (``w``, ``mu``, ``sigma`` at ``theta_t`` and after the M-step),
        ``loglik`` (``l(theta_t)``), ``bound_at_theta`` (``L(q_t, theta_t)``), ``entropy``,
        ``loglik_new`` and ``bound_new`` (at ``theta_t+1``), ``kl_new`` (their difference, the KL gap at the
        new theta) and ``slice``: per key ``x``, ``loglik``, ``bound``, ``kl`` (``l - L`` by the KL formula
        itself), ``at`` (``theta_t``'s coordinate), ``argmax`` (of the bound) and ``new`` (``theta_t+1``'s).
    """
    module = models.get("two_gaussians")
    spec = load_spec(module)
    engine = DiscreteLatentEM(module.build(spec.data), "z")
    em = require(spec.em_engine, spec.em_reason)
    theta = em.starts(1, np.random.default_rng(seed))[0]
    record = []
    for _ in range(steps):
        record.append(_step(engine, em, theta, points))
        theta = record[-1]["new"]
    return jsonable(
        {
            "model": "two_gaussians",
            "seed": seed,
            "n_points": len(spec.data["x"]),
            "slices": BOUND_SLICES,
            "ranges": BOUND_RANGES,
            "steps": record,
        }
    )


def _step(engine: DiscreteLatentEM, em: EMEngine, theta: dict, points: int) -> dict:
    """One EM iteration from ``theta``: the E-step's bound, the M-step's ``new``, and every slice through ``theta``."""
    from scipy.special import log_softmax, logsumexp

    expectations, loglik = engine.e_step(theta)
    q = expectations["resp"].T  # (K, N): q_t(z_i = k)
    log_q = np.log(q)
    entropy = float(-(q * log_q).sum())
    new = em.m_step(expectations, None)

    def curves(params):
        joint = engine.log_joint(params)  # (K, N) from the model's graph
        bound = float((q * joint).sum()) + entropy
        kl = float((q * (log_q - log_softmax(joint, axis=0))).sum())
        return float(logsumexp(joint, axis=0).sum()), bound, kl

    ell_new, bound_new, _ = curves(new)
    return {
        "theta": theta,
        "new": new,
        "loglik": loglik,
        "bound_at_theta": curves(theta)[1],
        "entropy": entropy,
        "loglik_new": ell_new,
        "bound_new": bound_new,
        "kl_new": ell_new - bound_new,
        "slice": {key: _slice(curves, theta, new, key, points) for key, _label in BOUND_SLICES},
    }


def _slice(curves: Callable[[dict], tuple[float, float, float]], theta: dict, new: dict, key: str, points: int) -> dict:
    """The log likelihood, bound and KL gap along slice ``key`` through ``theta``, with the bound's maximiser."""
    from scipy.optimize import minimize_scalar

    at = 0.0 if key == "step" else _coordinate(theta, key)
    lo, hi = BOUND_RANGES[key]

    def minus_bound(v):
        return -curves(_slice_point(theta, new, key, v))[1]

    best = minimize_scalar(minus_bound, method="bounded", bounds=(lo, hi), options={"xatol": 1e-10}).x
    x = np.unique(np.concatenate([np.linspace(lo, hi, points), [at, best]]))
    values = np.array([curves(_slice_point(theta, new, key, v)) for v in x])
    return {
        "x": x,
        "loglik": values[:, 0],
        "bound": values[:, 1],
        "kl": values[:, 2],
        "at": at,
        "argmax": float(best),
        "new": 1.0 if key == "step" else _coordinate(new, key),
    }


def _slice_point(theta: dict, new: dict, key: str, value: float) -> dict:
    """The parameters at ``value`` along slice ``key`` through ``theta`` (see :data:`BOUND_SLICES`)."""
    point = {k: np.array(v, dtype=float) for k, v in theta.items()}
    if key == "step":
        return {k: point[k] + value * (np.asarray(new[k], dtype=float) - point[k]) for k in point}
    if key == "w0":
        point["w"] = np.array([value, 1.0 - value])
    else:
        point["mu"][int(key[-1])] = value
    return point


def _coordinate(params: dict, key: str) -> float:
    return float(params["w"][0]) if key == "w0" else float(params["mu"][int(key[-1])])
