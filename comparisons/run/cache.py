"""Reuse stored results when nothing that shapes them has changed.

A run's *cache key* hashes the model file's source and the catalog files it imports from, the data
(names, dtypes, shapes, bytes, missing-value mask), the run options, the library versions and the
engine's own source (``comparisons/**/*.py``). It is stored in ``results.json``; a later run with the
same key reads ``results.json`` and ``results.nc`` instead of solving again (``--force`` /
``force=True`` recomputes).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..results.fit import Fit, Flag
from ..results.read import payload, read_json, read_tree, solver_draws, traces
from ..results.table import columns
from ..solvers import SOLVERS
from ..spec.model_spec import ModelSpec
from .hashing import hash_code, hash_data, hash_settings, hash_source

__all__ = ["cache_key", "load_cached"]


def cache_key(spec: ModelSpec, settings: dict[str, Any], build=None) -> str | None:
    """SHA-256 over everything that shapes the results, or ``None`` when the source is unknown.

    Parameters
    ----------
    spec : ModelSpec
    settings : dict
        seed, draws, tune, chains, n_init, solvers.
    build : callable, optional
        For a model given as a function: its source is hashed instead of a file.

    A formula's model is keyed by ``spec.info["formula"]`` (formula, family, priors, levels, Bambi's
    version) and its data, every column as read from the CSV file or data frame (``hash_data``).
    """
    h = hashlib.sha256()
    formula = spec.info.get("formula")  # a formula's model (comparisons.formula): no file, or a file calling Bambi
    if not hash_source(h, spec.source, build) and formula is None:
        return None
    if formula is not None:  # the formula, family, priors Bambi chose, text columns' levels, Bambi's version
        hash_settings(h, formula)
    hash_data(h, spec.data)
    hash_settings(h, settings)
    hash_code(h)
    return h.hexdigest()


def load_cached(folder: Path, key: str | None) -> tuple[dict[str, Fit], pd.DataFrame, dict, dict] | None:
    """The fits, table, highlights and payload stored in ``folder`` if made with ``key``; else ``None``.

    Results of an interrupted run, or with a missing/unreadable ``results.nc``, are never reused.
    """
    if key is None:
        return None
    try:
        results = read_json(folder)
    except (OSError, ValueError):
        return None
    if results.get("cache_key") != key or results.get("settings", {}).get("interrupted"):
        return None
    try:  # everything but the table (read from results.json)
        tree = read_tree(folder, lambda group: group != "point_estimates")
    except (OSError, ValueError):
        return None
    names = columns(results["solvers"])
    rows = results["parameters"].values()
    if not set(results["solvers"]) <= set(SOLVERS) or any(set(names) - set(row) for row in rows):
        return None  # made with solvers or columns this engine does not have
    table = pd.DataFrame.from_dict(results["parameters"], orient="index")
    table[names] = table[names].astype(float)
    table["flags"] = [[Flag(**f) for f in row["flags"]] for row in rows]
    table["gap_kind"] = [row.get("gap_kind") for row in rows]
    table = table[[*names, "flags", "notes", "gap_kind"]]
    table.index.name = "parameter"
    fits = {}
    others = (
        {s.group for s in SOLVERS.values() if s.group}
        | {f"{s}_trace" for s in SOLVERS}
        | {"point_estimates", "payload"}
    )
    for method, entry in results["solvers"].items():
        estimates = {}
        if entry["status"] == "ok":
            estimates = {c: {p: v for p, v in table[c].items() if not np.isnan(v)} for c in SOLVERS[method].columns}
            estimates = {c: v for c, v in estimates.items() if v}
        trace = tree[f"{method}_trace"].to_dataset() if f"{method}_trace" in tree.children else None
        draws = solver_draws(tree, SOLVERS[method].group, others)
        fits[method] = Fit(
            method,
            entry["status"],
            entry["message"],
            entry["seconds"],
            estimates,
            draws,
            {} if trace is None else traces(trace),
            entry["converged"],
            entry["n_iter"],
            entry["diagnostics"],
            {name: [Flag(**f) for f in flags] for name, flags in entry["flags"].items()},
        )
    return fits, table, results.get("highlights", {}), payload(tree)
