"""The one reader of ``results.json`` and ``results.nc``: used by the cache and by the reports (no PyMC)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .fit import flat_names
from .netcdf import read_groups

__all__ = ["read_json", "read_tree", "flat_draws", "traces", "solver_draws", "payload"]


def read_json(folder: str | Path) -> Any:
    """The content of ``folder/results.json``.

    Raises
    ------
    OSError, ValueError
        No file, or not JSON.
    """
    return json.loads((Path(folder) / "results.json").read_text())


def read_tree(folder: str | Path, keep: Callable[[str], bool]) -> xr.DataTree:
    """The groups of ``folder/results.nc`` that ``keep(group path)`` accepts, read into memory.

    Raises
    ------
    OSError, ValueError
        No file, or not a results file.
    """
    return read_groups(Path(folder) / "results.nc", keep)


def flat_draws(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """Each scalar parameter's draws, chains concatenated, named like the results' parameters."""
    out = {}
    for name, da in posterior.data_vars.items():
        values = np.asarray(da.transpose("chain", "draw", ...).values, dtype=float)
        shape = values.shape[2:]
        columns = values.reshape(values.shape[0] * values.shape[1], -1)
        for i, flat in enumerate(flat_names(str(name), shape)):
            out[flat] = columns[:, i]
    return out


def traces(trace: xr.Dataset) -> dict[str, list[np.ndarray]]:
    """A ``<solver>_trace`` group's ``objective_<run>`` (restart x iteration, NaN-padded) to one unpadded array
    per restart, keyed by run."""
    out = {}
    for name, da in trace.data_vars.items():
        run = str(name).removeprefix("objective_")
        out[run] = [row[~np.isnan(row)] for row in np.atleast_2d(np.asarray(da.values, dtype=float))]
    return out


def solver_draws(tree: xr.DataTree, group: str | None, others: Iterable[str]) -> xr.DataTree | None:
    """A solver's draws: its own group, or for ``"/"`` the root without ``others`` (every other group)."""
    if group is None:
        return None
    if group != "/":
        return tree.children[group].copy() if group in tree.children else None
    if "posterior" not in tree.children:
        return None
    draws = tree.copy()
    for name in set(others) & set(draws.children):
        del draws[name]
    return draws


def payload(tree: xr.DataTree) -> dict[str, np.ndarray]:
    """The model's ``payload`` arrays (empty when it has none)."""
    if "payload" not in tree.children:
        return {}
    return {str(name): np.asarray(da.values) for name, da in tree["payload"].to_dataset().data_vars.items()}
