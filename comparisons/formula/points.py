"""A formula model's point estimates as lme4 shows them: ``(Intercept)`` at every point, lme4's row names.

EM reports its parameters only; a deterministic that depends on parameters alone (no latent, no
data) has a value at each of EM's points too. :func:`with_deterministics` adds them to the ``em``
and ``mle`` columns (``map`` has them already). :func:`with_lme4_names` names the rows of a vector
common term as lme4 does (``C(period)[0]`` is ``period2``); the draws keep Bambi's vector variable.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pymc as pm
import pytensor
from pytensor.graph.traversal import ancestors

from ..results.fit import Fit, flat_names

__all__ = ["with_deterministics", "with_lme4_names"]

COLUMNS = ("em", "mle")


def with_deterministics(fits: dict[str, Fit], model: pm.Model, params: list[str]) -> dict[str, Fit]:
    """``fits`` with each parameter-only deterministic's value added to the point estimates lacking it."""
    values_of = [model[name] for name in params]
    others = [rv for rv in model.free_RVs if rv.name not in params]
    dets = [d for d in model.deterministics if not set(ancestors([d])) & set(others)]
    if not dets:
        return fits
    evaluate = pytensor.function(values_of, dets, on_unused_input="ignore", mode="FAST_COMPILE")
    out = {}
    for name, fit in fits.items():
        estimates = dict(fit.estimates or {})
        for column in COLUMNS:
            point = estimates.get(column)
            if not point or any(d.name in point for d in dets):
                continue
            values = [_unflat(point, rv.name, model) for rv in values_of]
            point = dict(point)
            for det, value in zip(dets, evaluate(*values), strict=True):
                shape = tuple(int(s) for s in np.shape(value))
                point.update(zip(flat_names(det.name, shape), np.ravel(value).tolist(), strict=True))
            estimates[column] = point
        out[name] = dataclasses.replace(fit, estimates=estimates) if fit.estimates else fit
    return out


def with_lme4_names(fits: dict[str, Fit], names: dict[str, str]) -> dict[str, Fit]:
    """``fits`` with their estimates' and flags' rows renamed, ``{Bambi's flat name: lme4's name}``."""
    if not names:
        return fits
    out = {}
    for key, fit in fits.items():
        estimates = {c: {names.get(p, p): v for p, v in point.items()} for c, point in (fit.estimates or {}).items()}
        flags = {names.get(p, p): f for p, f in (fit.flags or {}).items()}
        out[key] = dataclasses.replace(fit, estimates=estimates or fit.estimates, flags=flags or fit.flags)
    return out


def _unflat(point: dict[str, float], name: str, model) -> np.ndarray:
    """A parameter's value from its flat names (``beta[0]``, ``beta[1]``) in a point estimate."""
    shape = tuple(int(s) for s in model[name].shape.eval())
    return np.reshape([point[flat] for flat in flat_names(name, shape)], shape).astype(model[name].dtype)
