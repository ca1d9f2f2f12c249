"""Missing values as PyMC supports them: masked arrays and NaN in observed data become imputed variables.

PyMC splits an observation with missing entries ``y`` into ``y_observed`` (the data), a free
variable ``y_unobserved`` (one entry per missing value) and a deterministic ``y`` joining the
two. Here modemean finds those triples, maps each entry of ``y_unobserved`` to its position in
``y``, and refuses missing values that PyMC did not impute (NaN in a predictor, say), naming the
data variable: a NaN that is not imputed would otherwise reach the log density.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pymc as pm
from pytensor.graph.traversal import ancestors

from .checks import _positions, missing
from .density.compile import compile_small
from .errors import ModemeanError
from .results.fit import Flag

__all__ = ["Imputed", "imputed_variables", "check_missing", "imputed_notes"]


@dataclass(frozen=True)
class Imputed:
    """One observation with imputed entries.

    Attributes
    ----------
    name : str
        The observation and its deterministic (``y``), which repeats the observed data.
    unobserved : str
        The free variable holding the missing entries (``y_unobserved``).
    mask : ndarray of bool
        Shape of ``y``: True where a value was missing.
    positions : list of tuple of int
        ``positions[j]`` is where ``y_unobserved[j]`` sits in ``y`` (C order, as PyMC splits).
    """

    name: str
    unobserved: str
    mask: np.ndarray
    positions: list[tuple[int, ...]]


def imputed_variables(model: pm.Model) -> list[Imputed]:
    """The model's imputed observations, found from PyMC's ``<y>_observed`` / ``<y>_unobserved`` / ``<y>`` triple."""
    if model not in _IMPUTED:  # found once per model: the search compiles a small function per variable
        _IMPUTED[model] = _find_imputed(model)
    return list(_IMPUTED[model])


_IMPUTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _find_imputed(model: pm.Model) -> list[Imputed]:
    observed = {rv.name for rv in model.observed_RVs}
    deterministics = {d.name: d for d in model.deterministics}
    out = []
    for rv in model.free_RVs:
        base = rv.name.removesuffix("_unobserved")
        if base == rv.name or base not in deterministics or f"{base}_observed" not in observed:
            continue
        value = model.rvs_to_values[rv]
        joined = model.replace_rvs_by_values([deterministics[base]])[0]
        f = compile_small([value], joined, on_unused_input="ignore")
        start = np.asarray(model.initial_point()[value.name])
        # the entries that move with the unobserved value are the missing ones
        mask = np.asarray(f(start)) != np.asarray(f((start + 1 + np.abs(start)).astype(start.dtype)))
        positions = [tuple(int(i) for i in p) for p in np.argwhere(mask)]
        out.append(Imputed(base, rv.name, mask, positions))
    return out


def check_missing(data: dict[str, np.ndarray], model: pm.Model, name: str) -> list[Imputed]:
    """Raise if a data variable has missing values that no observed variable imputes, or imputes as discrete.

    A data variable's missing values count as imputed when an imputed observation has the same
    pattern of missing entries (or the same name and as many missing entries).

    Returns
    -------
    list of Imputed
    """
    imputed = imputed_variables(model)
    for key, arr in data.items():
        gaps = missing(arr)
        if not gaps.any():
            continue
        if not any(
            np.array_equal(gaps.ravel(), imp.mask.ravel())
            or (imp.name == key and int(gaps.sum()) == len(imp.positions))
            for imp in imputed
        ):
            raise ModemeanError(
                f"model {name!r}: data {key!r} has missing values (NaN or masked) at position(s) "
                f"{_positions(arr, gaps)} that PyMC does not impute (it imputes only data passed as "
                "observed= of a distribution): remove or fill them"
            )
    discrete = set(model.discrete_value_vars)
    labels = [model.values_to_rvs[v] for v in discrete]
    for imp in imputed:
        rv = model[imp.unobserved]
        given = [z.name for z in labels if z is not rv and z in set(ancestors([rv]))]
        if given:
            raise ModemeanError(
                f"model {name!r}: the observation {imp.name!r} has missing values and depends on the "
                f"discrete {', '.join(given)}: summing out {given[0]!r} with imputed entries is not "
                "supported; remove the missing entries"
            )
        if model.rvs_to_values[rv] in discrete:
            where = ", ".join(str(p[0]) if len(p) == 1 else str(p) for p in imp.positions[:5])
            raise ModemeanError(
                f"model {name!r}: the observation {imp.name!r} is discrete "
                f"({type(rv.owner.op).__name__.removesuffix('RV')}) and has missing values at "
                f"position(s) {where}: their imputed values would be discrete parameters, which "
                "find_MAP and NUTS cannot handle; remove those entries"
            )
    return imputed


def imputed_notes(model: pm.Model) -> dict[str, list[Flag]]:
    """``imputed`` flags for the table: ``{"y_unobserved[j]": [Flag(text="imputed: missing observation of y at
    position i")]}``."""
    notes = {}
    for imp in imputed_variables(model):
        for j, position in enumerate(imp.positions):
            where = ", ".join(map(str, position))
            notes[f"{imp.unobserved}[{j}]"] = [
                Flag(None, "imputed", None, f"imputed: missing observation of {imp.name} at position {where}")
            ]
    return notes
