"""The support of a free variable (its finite bounds) and the flags of estimates that sit on one."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.logprob.transforms import IntervalTransform, LogOddsTransform, LogTransform, SimplexTransform

from ..results.fit import Flag, flat_names
from .compile import SMALL_GRAPH_MODE
from .space import shape_of

__all__ = ["support_bounds", "boundary_flags"]


def support_bounds(model: pm.Model, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Lower and upper bounds of a free variable's support (flattened), or ``None`` if unbounded."""
    rv = model[name]
    transform = model.rvs_to_transforms.get(rv)
    shape = shape_of(model, name)
    n = int(np.prod(shape))
    if isinstance(transform, LogTransform):
        return np.zeros(n), np.full(n, np.inf)
    if isinstance(transform, (SimplexTransform, LogOddsTransform)):
        return np.zeros(n), np.ones(n)
    if isinstance(transform, IntervalTransform):
        lo, hi = transform.args_fn(*rv.owner.inputs)
        lo = np.broadcast_to(-np.inf if lo is None else _value(lo), shape)
        hi = np.broadcast_to(np.inf if hi is None else _value(hi), shape)
        return np.ravel(lo).astype(float), np.ravel(hi).astype(float)
    return None


def _value(x) -> np.ndarray:
    """A bound's value: a constant's data as it is, anything else evaluated (compiled) once."""
    x = pt.as_tensor(x)
    if isinstance(x, pt.TensorConstant):
        return np.asarray(x.data)
    with pytensor.config.change_flags(cxx=""):
        return np.asarray(x.eval(mode=SMALL_GRAPH_MODE))


def boundary_flags(
    model: pm.Model, estimate: dict[str, float], initial: dict[str, float], who: str, rtol: float = 1e-3
) -> dict[str, list[Flag]]:
    """``boundary`` flags for estimates that sit on the edge of a free variable's support.

    An entry counts as on the boundary when its distance to a finite bound is below ``rtol``
    times the distance of the model's initial point to that bound (the prior's own scale): e.g.
    a scale parameter ``tau`` that an optimiser has driven towards 0.

    Parameters
    ----------
    estimate, initial : dict of str to float
        Flat parameter name to the estimate, and to the model's initial point (constrained).
    who : str
        Column the estimate belongs to (``"map"``, ``"em"``, ...), named in the flag.

    Returns
    -------
    dict of str to list of Flag
        Flat name to its flags (``value``: the bound); names not on a boundary are absent.
    """
    flags: dict[str, list[Flag]] = {}
    for rv in model.free_RVs:
        bounds = support_bounds(model, rv.name)
        if bounds is None:
            continue
        for name, lo, hi in zip(flat_names(rv.name, shape_of(model, rv.name)), *bounds, strict=True):
            if name not in estimate or name not in initial:
                continue
            for bound in (lo, hi):
                scale = max(abs(initial[name] - bound), 1e-12)
                if np.isfinite(bound) and abs(estimate[name] - bound) <= rtol * scale:
                    flags.setdefault(name, []).append(
                        Flag(
                            who,
                            "boundary",
                            float(bound),
                            (
                                f"{who}: on the boundary {name} = {bound:g} (the optimum is at the edge of the "
                                f"support; the printed value {estimate[name]:.3g} is where the iterations stopped)"
                            ),
                        )
                    )
    return flags
