"""The fast path: a log joint quadratic in one scalar observation (normal mixtures), in blocks.

The engine reads the polynomial's coefficients off the model's own graph at three probe values,
checks them against the full graph, and then runs the E-step and the weighted moments in
cache-sized blocks -- no hand-written density; on 10^6 points it runs within 4x of one ``exp`` over
K x N values (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pymc as pm
from pymc.logprob.utils import ParameterValueError

from ...spec.observations import share_observed

if TYPE_CHECKING:
    from .engine import DiscreteLatentEM

__all__ = ["BLOCK", "FAST_RTOL", "FAST_SLACK", "FastEStep", "fast_e_step", "blocked_moments"]

BLOCK = 16_384  # points per block on the fast path: the (K, BLOCK) temporaries stay in cache
FAST_RTOL = 1e-9  # the fast path must reproduce the full graph's log joint to this (relative)
FAST_SLACK = 1e-13  # the fast path's rounding bound must stay below this x |log likelihood|


def fast_e_step(engine: DiscreteLatentEM, build: Callable[[dict], pm.Model], data: dict) -> FastEStep | None:
    """The blocked E-step for a log joint quadratic in a scalar observation, or ``None``.

    The coefficients ``C`` (K, 3) of ``log p(z_i = k, y_i) = C[k] @ [1, t_i, t_i^2]``, with
    ``t = (y - mean y) / sd y``, are read off the model's own graph: ``build`` is called once
    more with the observation replaced by three probes t = (0, 1, -1) (held in a shared variable, so
    new observations only move the probes), and that small model's log joint is solved for ``C``.
    The result is checked against the full graph at two parameter points (relative ``FAST_RTOL``);
    ``None`` is returned if it differs (not quadratic in y, a label prior that varies over i, other
    data of length N). At each call, if a rounding bound of the polynomial form exceeds
    ``FAST_SLACK`` x |log likelihood| (a component much narrower than the data), that iteration falls
    back to the graph's E-step. The E-step gives ``moments`` and ``resp=None``: it serves a
    closed-form M-step that reads the moments.

    Parameters
    ----------
    engine : DiscreteLatentEM
        The engine of the model ``build(data)`` built.
    build : callable
        The model file's ``build(data)``.
    data : dict
        The data ``build`` was given.
    """
    if engine.features is None:
        return None
    y = engine.features[:, 1]
    keys = [k for k, v in data.items() if np.shape(v) == y.shape and np.array_equal(np.asarray(v, dtype=float), y)]
    if len(keys) != 1:
        return None
    try:
        centre, half = float(np.mean(y)), float(np.std(y)) or 1.0
        probe_model = build({**data, keys[0]: centre + half * np.array([0.0, 1.0, -1.0])})
        shared = share_observed(probe_model)
        probe = type(engine)(probe_model, engine.latent)
    except Exception:  # noqa: BLE001 -- a model that cannot be rebuilt on three points has no fast path
        return None
    if len(shared) != 1:
        return None
    fast = FastEStep(engine, probe, next(iter(shared.values())))
    return fast if fast.applies else None


class FastEStep:
    """The blocked E-step (:func:`fast_e_step`); :meth:`refresh` after the observations change.

    Attributes
    ----------
    applies : bool
        The polynomial form reproduces the full graph's log joint on the observations the model holds.
    """

    def __init__(self, engine: DiscreteLatentEM, probe: DiscreteLatentEM, probes):
        self.engine, self.probe, self.probes = engine, probe, probes
        self.applies = False
        self.refresh()

    def refresh(self) -> None:
        """Standardise the observations the model holds now, move the probes, and check the form again."""
        engine = self.engine
        if engine.features is None:
            self.applies = False
            return
        y = engine.features[:, 1]
        # probe at the data's centre and +- one sd: the coefficients then multiply O(1) features,
        # so their rounding is not amplified by y^2 (waits of ~80 minutes would lose 4 digits)
        centre, half = float(np.mean(y)), float(np.std(y)) or 1.0
        self.probes.set_value(np.asarray(centre + half * np.array([0.0, 1.0, -1.0]), dtype=self.probes.dtype))
        t = (y - centre) / half
        standard = np.column_stack([np.ones_like(t), t, t * t])
        # [1, y, y^2] moments from [1, t, t^2] moments: y = centre + half t
        self._back = np.array([[1.0, 0.0, 0.0], [centre, half, 0.0], [centre**2, 2 * centre * half, half**2]])
        self._features = np.ascontiguousarray(standard.T)  # (3, N)
        self._feature_sums = np.abs(standard).sum(axis=0)  # sum_i [1, |t_i|, t_i^2]
        self.applies = self._check(standard)

    def _coefficients(self, params: dict) -> np.ndarray:
        return np.linalg.solve(DESIGN, self.probe.log_joint(params).T).T  # (K, 3), in t = (y - centre) / half

    def _check(self, standard: np.ndarray) -> bool:
        engine = self.engine
        u0 = engine.space.ravel(engine.space.initial_point)
        jitter = np.random.default_rng(0).uniform(-0.5, 0.5, u0.shape)
        for params in (engine.space.point(u0), engine.space.point(u0 + jitter)):
            try:
                fast = self._coefficients(params) @ standard.T
            except Exception:  # noqa: BLE001
                return False
            full = engine.log_joint(params)
            if not np.all(np.isfinite(full)) or not np.allclose(
                fast, full, rtol=FAST_RTOL, atol=FAST_RTOL * np.max(np.abs(full))
            ):
                return False
        return True

    def __call__(self, params: dict) -> tuple[dict, float]:
        engine = self.engine
        try:
            C = self._coefficients(params)
        except ParameterValueError as exc:
            raise engine.degeneracy.refused(params, exc) from exc
        moments, loglik = blocked_moments(C, self._features)
        # a + b t + c t^2 cancels when a component is much narrower than the data (|c| large):
        # where its rounding could exceed the monotonicity check's slack, use the graph instead
        bound = 8 * np.finfo(float).eps * float(np.abs(C).max(axis=0) @ self._feature_sums)
        if bound > FAST_SLACK * max(1.0, abs(loglik)):
            return engine.e_step(params)
        moments = moments @ self._back.T
        loglik += engine.rest_loglik(params)
        engine.degeneracy.check(loglik, moments[:, 0], params)
        return {"resp": None, "moments": moments, "params": params}, loglik


DESIGN = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, -1.0, 1.0]])  # [1, t, t^2] at the probes t = 0, 1, -1


def blocked_moments(C: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, float]:
    """Responsibility-weighted moments and log likelihood of a quadratic log joint, in blocks.

    Parameters
    ----------
    C : ndarray of shape (K, 3)
        ``log p(z = k, y) = C[k] @ [1, y, y^2]``.
    features : ndarray of shape (3, N)
        ``[1, y, y^2]`` per point, C-contiguous.

    Returns
    -------
    moments : ndarray of shape (K, 3)
        ``sum_i r_ik [1, y_i, y_i^2]``.
    log_likelihood : float
    """
    K, N = C.shape[0], features.shape[1]
    moments = np.zeros((K, 3))
    loglik = 0.0
    L = np.empty((K, BLOCK))
    peak = np.empty(BLOCK)
    total = np.empty(BLOCK)
    for start in range(0, N, BLOCK):
        X = features[:, start : start + BLOCK]
        b = X.shape[1]
        Lb, pb, tb = L[:, :b], peak[:b], total[:b]
        np.matmul(C, X, out=Lb)
        np.max(Lb, axis=0, out=pb)
        Lb -= pb
        np.exp(Lb, out=Lb)
        np.sum(Lb, axis=0, out=tb)
        np.divide(Lb, tb, out=Lb)
        moments += Lb @ X.T
        np.log(tb, out=tb)
        loglik += float(tb.sum() + pb.sum())
    return moments, loglik
