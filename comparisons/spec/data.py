"""The data a model is given: checked before any solver, and its missing values as PyMC imputes them.

:func:`check_data` returns the data as numeric arrays or raises naming the variable and the bad
positions (the starting point is checked in :mod:`comparisons.density.start`). Each failure is a
:class:`ModemeanError` whose one-line message names what is wrong and what to do.

Missing values (masked arrays and NaN in observed data) become imputed variables: PyMC splits an
observation with missing entries ``y`` into ``y_observed`` (the data), a free variable
``y_unobserved`` (one entry per missing value) and a deterministic ``y`` joining the two. Here
modemean finds those triples (:func:`imputed_variables`), maps each entry of ``y_unobserved`` to its
position in ``y``, and refuses missing values that PyMC did not impute (NaN in a predictor, say),
naming the data variable (:func:`check_missing`): a NaN that is not imputed would otherwise reach
the log density.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
from pytensor.graph.traversal import ancestors

from ..density.compile import compile_small
from ..errors import ModemeanError
from ..results.fit import Flag

__all__ = ["check_data", "missing", "positions", "Imputed", "imputed_variables", "check_missing", "imputed_notes"]

KINDS = {"float": "biuf", "int": "biu"}


def check_data(
    data: Any, name: str, declared: dict[str, tuple[str, tuple[str, ...]]] | None = None
) -> dict[str, np.ndarray]:
    """Return ``data`` as numeric arrays, or raise naming the variable and the bad positions.

    Parameters
    ----------
    data : dict of str to array-like
        What the model's ``load_data()`` returned (or what a user passed).
    name : str
        The model, for the message.
    declared : dict, optional
        The model's ``DATA``: ``{variable: (kind, dims)}`` with kind ``"float"`` or ``"int"`` and
        dims a tuple of dimension names, e.g. ``{"y": ("float", ("school",)), "sigma": ("float",
        ("school",))}``; variables sharing a dimension name must agree on its length.

    Raises
    ------
    ModemeanError
        Not a dict; a missing or non-numeric variable; NaN/inf; integers expected but fractions
        found; a shape that does not match the declared dimensions.
    """
    if not isinstance(data, dict):
        raise ModemeanError(f"model {name!r}: the data must be a dict of arrays, got {type(data).__name__}")
    out = {}
    for key, value in data.items():
        try:
            arr = _as_array(value)
        except (TypeError, ValueError) as exc:
            raise ModemeanError(f"model {name!r}: data {key!r} is not an array ({exc})") from exc
        if arr.dtype.kind not in "biuf":
            raise ModemeanError(f"model {name!r}: data {key!r} has dtype {arr.dtype}, expected numbers")
        if arr.dtype.kind == "f":
            # missing values (NaN, masked entries) stay: PyMC imputes them where the data are observed=
            # (check_missing refuses them after build where they are not); infinities are never data
            _fail_at(
                name,
                key,
                arr,
                np.isinf(np.ma.getdata(arr)) & ~np.ma.getmaskarray(arr),
                "inf",
                "remove them, or mark them missing (NaN or a masked array) for PyMC to impute them",
            )
        out[key] = arr
    _check_declared(out, declared or {}, name)
    return out


def _check_declared(out: dict[str, np.ndarray], declared: dict, name: str) -> None:
    """Raise unless the arrays ``out`` have the kinds and dimensions the model's ``DATA`` declares."""
    lengths: dict[str, tuple[int, str]] = {}
    for key, (kind, dims) in declared.items():
        if key not in out:
            raise ModemeanError(f"model {name!r}: data {key!r} is missing (the model declares {sorted(declared)})")
        arr = out[key]
        if kind == "int" and arr.dtype.kind == "f":
            values = np.ma.getdata(arr)
            _fail_at(
                name,
                key,
                arr,
                (values != np.round(values)) & ~missing(arr),
                "non-integer values",
                "counts must be whole numbers",
            )
        if arr.ndim != len(dims):
            raise ModemeanError(
                f"model {name!r}: data {key!r} has shape {arr.shape}, expected {len(dims)} "
                f"dimension(s) ({', '.join(dims)})"
            )
        for dim, size in zip(dims, arr.shape, strict=True):
            seen = lengths.setdefault(dim, (size, key))
            if seen[0] != size:
                raise ModemeanError(
                    f"model {name!r}: data {key!r} has {size} entries along {dim!r} but "
                    f"{seen[1]!r} has {seen[0]}: they must match"
                )


def _as_array(value: Any) -> np.ndarray:
    """``value`` as an array; a masked array keeps its mask (PyMC imputes the masked entries).

    NaN in a masked array's unmasked entries is missing too, so it joins the mask; a mask that
    hides nothing is dropped (a plain array).
    """
    if not isinstance(value, np.ma.MaskedArray):
        return np.asarray(value)
    arr = np.ma.array(value, copy=True)
    if arr.dtype.kind == "f":
        arr[np.isnan(np.ma.getdata(arr))] = np.ma.masked
    return arr if np.ma.getmaskarray(arr).any() else np.asarray(np.ma.getdata(arr))


def missing(arr: np.ndarray) -> np.ndarray:
    """Boolean array: True where ``arr`` has a missing value (masked, or NaN)."""
    mask = np.ma.getmaskarray(arr).copy()
    values = np.ma.getdata(arr)
    if values.dtype.kind in "fc":
        mask |= np.isnan(values)
    return mask


def positions(arr: np.ndarray, bad: np.ndarray) -> str:
    """Where ``bad`` is True in ``arr``, for a message: the first five (``"3, 7"``, ``"(0, 1), (2, 0)"``) and how
    many more."""
    where = np.argwhere(bad)
    shown = ", ".join(str(tuple(int(i) for i in w)) if arr.ndim > 1 else str(int(w[0])) for w in where[:5])
    return shown + (f" and {len(where) - 5} more" if len(where) > 5 else "")


def _fail_at(name: str, key: str, arr: np.ndarray, bad: np.ndarray, what: str, todo: str) -> None:
    if np.any(bad):
        raise ModemeanError(f"model {name!r}: data {key!r} has {what} at position(s) {positions(arr, bad)}: {todo}")


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
                f"{positions(arr, gaps)} that PyMC does not impute (it imputes only data passed as "
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
