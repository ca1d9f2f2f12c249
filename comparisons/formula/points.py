"""The deterministics of a formula model (lme4's ``(Intercept)``) at every point estimate.

EM reports its parameters only; a deterministic that depends on parameters alone (no latent, no
data) has a value at each of EM's points too. :func:`with_deterministics` adds them to the ``em``
and ``mle`` columns (``map`` has them already).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytensor
from pytensor.graph.traversal import ancestors

from ..results.fit import Fit, flat_names
from ..spec.model_spec import ModelSpec

__all__ = ["with_deterministics"]

COLUMNS = ("em", "mle")


def with_deterministics(fits: dict[str, Fit], spec: ModelSpec) -> dict[str, Fit]:
    """``fits`` with each parameter-only deterministic's value added to the point estimates lacking it."""
    model = spec.model
    params = [model[name] for name in spec.params]
    others = [rv for rv in model.free_RVs if rv.name not in spec.params]
    dets = [d for d in model.deterministics if not set(ancestors([d])) & set(others)]
    if not dets:
        return fits
    evaluate = pytensor.function(params, dets, on_unused_input="ignore", mode="FAST_COMPILE")
    out = {}
    for name, fit in fits.items():
        estimates = dict(fit.estimates or {})
        for column in COLUMNS:
            point = estimates.get(column)
            if not point or any(d.name in point for d in dets):
                continue
            values = [_unflat(point, rv.name, model) for rv in params]
            point = dict(point)
            for det, value in zip(dets, evaluate(*values), strict=True):
                shape = tuple(int(s) for s in np.shape(value))
                point.update(zip(flat_names(det.name, shape), np.ravel(value).tolist(), strict=True))
            estimates[column] = point
        out[name] = dataclasses.replace(fit, estimates=estimates) if fit.estimates else fit
    return out


def _unflat(point: dict[str, float], name: str, model) -> np.ndarray:
    """A parameter's value from its flat names (``beta[0]``, ``beta[1]``) in a point estimate."""
    shape = tuple(int(s) for s in model[name].shape.eval())
    return np.reshape([point[flat] for flat in flat_names(name, shape)], shape).astype(model[name].dtype)
