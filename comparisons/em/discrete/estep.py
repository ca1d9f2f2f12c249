"""The E-step's arithmetic and the degeneracy diagnostics.

The responsibilities are the softmax over ``K`` of the model's log joint and the observed-data log
likelihood the sum of its logsumexp, both done in place in numpy, whose vectorised ``exp`` is
several times faster than a compiled scalar loop. A non-finite likelihood, parameters the model
refuses (a scale of exactly 0) or a positive parameter below ``COLLAPSE`` x its initial-point value
raise :class:`~comparisons.errors.DegenerateFitError` naming the component and what to do.
"""

from __future__ import annotations

import numpy as np

from ...errors import DegenerateFitError

__all__ = ["COLLAPSE", "softmax_in_place", "Degeneracy"]

COLLAPSE = 1e-6  # a positive parameter below this x its initial-point value has collapsed


def softmax_in_place(log_joint: np.ndarray) -> float:
    """Turn ``log_joint`` (shape ``(K, *S)``) into responsibilities over axis 0, in place.

    Returns
    -------
    float
        ``sum_i logsumexp_k log_joint[k, i]``: the log likelihood of the dependent observations.
    """
    peak = log_joint.max(axis=0)
    peak[~np.isfinite(peak)] = 0.0
    log_joint -= peak
    np.exp(log_joint, out=log_joint)
    total = log_joint.sum(axis=0)
    log_joint /= total
    with np.errstate(divide="ignore"):
        return float(np.log(total).sum() + peak.sum())


class Degeneracy:
    """Decides whether a fit has collapsed and says which component and what to do.

    Parameters
    ----------
    latent : str
    support : ndarray of shape (K,)
    positive : list of str
        Log-transformed parameters (sds, rates), which collapse towards 0.
    reference : dict of str to ndarray
        The parameters at the model's initial point (their priors' own scale).

    Attributes
    ----------
    last_counts : ndarray of shape (K,) or None
        Effective points per component at the last checked E-step.
    """

    def __init__(self, latent: str, support: np.ndarray, positive: list[str], reference: dict):
        self.latent, self.support, self.positive, self.reference = latent, support, positive, reference
        self.last_counts: np.ndarray | None = None

    def check(self, loglik: float, counts: np.ndarray, params: dict) -> None:
        """Raise :class:`DegenerateFitError` on a non-finite likelihood or a collapsing scale.

        A positive parameter below ``COLLAPSE`` times its value at the model's initial point counts
        as collapsed: on the way to 0 the likelihood grows without bound and, before it overflows,
        rounding makes EM's objective erratic.
        """
        small = [p for p in self.positive if np.any(np.asarray(params[p]) < COLLAPSE * np.asarray(self.reference[p]))]
        if np.isfinite(loglik) and not small and all(np.all(np.isfinite(np.asarray(v))) for v in params.values()):
            self.last_counts = counts
            return
        what = (
            f"the likelihood is {loglik}"
            if not np.isfinite(loglik)
            else f"{', '.join(small)} fell below {COLLAPSE:g} x its scale at the model's initial point"
        )
        raise DegenerateFitError(self.message(params, what, counts))

    def _kept(self, params: dict, p: str) -> np.ndarray:
        """Entries of ``p`` at or above the collapse threshold (False where NaN), at least 1-D."""
        return np.atleast_1d(params[p]) >= COLLAPSE * np.atleast_1d(self.reference[p])

    def refused(self, params: dict, exc: Exception) -> DegenerateFitError:
        """The error for parameters the model's own checks refuse (a scale of exactly 0)."""
        return DegenerateFitError(self.message(params, f"the model refuses the parameters ({exc})"))

    def message(self, params: dict, what: str, counts: np.ndarray | None = None) -> str:
        """Which component collapsed (fewest effective points, a scale at 0) and what to do."""
        counts = counts if counts is not None else self.last_counts
        zero = [
            f"{p}{np.argwhere(~self._kept(params, p)).ravel().tolist()}"
            for p in self.positive
            if not self._kept(params, p).all()
        ]
        where = ""
        if counts is not None and np.all(np.isfinite(counts)):
            k = int(np.argmin(counts))
            where = f"component {self.latent}={self.support[k]} held {counts[k]:.3g} effective point(s); "
        scales = f"collapsed scale(s): {', '.join(zero)}; " if zero else ""
        return (
            f"{what} at {_short(params)}: {where}{scales}"
            "a component collapsed onto a point and the likelihood is unbounded. What to do: use MAP-EM "
            "(column em) with a prior that keeps scales away from 0 (e.g. Gamma or InverseGamma on the sds), "
            "fewer components, or other starts; this restart is discarded"
        )


def _short(params: dict) -> str:
    return ", ".join(f"{k}={np.array2string(np.asarray(v), precision=3)}" for k, v in params.items())
