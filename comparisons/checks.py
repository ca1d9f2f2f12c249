"""Checks that run before any solver: the data (the starting point: :mod:`comparisons.density.start`).

Each failure is a :class:`ModemeanError` whose one-line message names what is wrong (the
variable, the positions) and what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ModemeanError

__all__ = ["check_data"]

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
    lengths: dict[str, tuple[int, str]] = {}
    declared = declared or {}
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
    return out


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


def _positions(arr: np.ndarray, bad: np.ndarray) -> str:
    where = np.argwhere(bad)
    shown = ", ".join(str(tuple(int(i) for i in w)) if arr.ndim > 1 else str(int(w[0])) for w in where[:5])
    return shown + (f" and {len(where) - 5} more" if len(where) > 5 else "")


def _fail_at(name: str, key: str, arr: np.ndarray, bad: np.ndarray, what: str, todo: str) -> None:
    if np.any(bad):
        raise ModemeanError(f"model {name!r}: data {key!r} has {what} at position(s) {_positions(arr, bad)}: {todo}")
