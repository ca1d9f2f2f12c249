"""Write a comparison to disk: ``results.json`` (the schema in the README) and ``results.nc``.

Both files are written atomically (to a temporary file in the same folder, then renamed), so an
interrupted run never leaves a truncated file behind.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..solvers import SOLVERS
from .closest import closest_approximation
from .fit import Fit
from .schema import SCHEMA_VERSION
from .table import column_owners, columns

__all__ = [
    "results_dict",
    "results_tree",
    "schema",
    "write_atomic",
    "dump_json",
    "remove_stale_temporaries",
    "versions",
    "jsonable",
]


def versions() -> dict[str, str]:
    """Versions of Python and the libraries that shape the numbers."""
    out = {"python": platform.python_version()}
    for package in ("modemean", "pymc", "pytensor", "arviz", "numpy", "scipy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def schema(solvers: list[str] | None = None) -> dict[str, Any]:
    """What the columns and solvers are, written into ``results.json`` so reports never import the engine.

    ``solvers``: the solvers of the run (default: every registered one); only their columns are listed
    (every registered solver is, with the columns it would fill).

    Returns
    -------
    dict
        ``columns``: in table order, each ``{"solvers", "help", "marker", "check"}`` (``solvers``:
        the owner, or for a derived column every solver it needs); ``solvers``: in run order, each
        ``{"label", "columns", "options", "has_draws", "draws_group", "default"}`` (``default``: run
        when no solvers are named).
    """
    return {
        "columns": column_owners(solvers),
        "solvers": {
            name: {
                "label": s.label,
                "columns": list(s.columns),
                "options": list(s.options),
                "has_draws": s.has_draws,
                "draws_group": s.group,
                "default": s.default,
            }
            for name, s in SOLVERS.items()
        },
    }


def results_dict(
    name: str,
    info: dict,
    settings: dict,
    fits: dict[str, Fit],
    table: pd.DataFrame,
    source: str,
    cache_key: str | None = None,
    highlights: dict | None = None,
    source_id: str | None = None,
) -> dict[str, Any]:
    """Everything a report needs, as plain JSON-able data (``None`` for missing numbers).

    ``source`` is the model file as shown (relative to the working folder, or its name); ``source_id`` what
    identifies it across runs (:func:`comparisons.run.output.source_id`)."""
    solvers = {}
    for method, fit in fits.items():
        solvers[method] = {
            "status": fit.status,
            "message": fit.message,
            "seconds": fit.seconds,
            "converged": fit.converged,
            "n_iter": fit.n_iter,
            "diagnostics": fit.diagnostics,
            "flags": {name: [f.as_dict() for f in flags] for name, flags in fit.flags.items()},
        }
    names = columns(fits)
    parameters = {
        str(p): {
            **{c: row[c] for c in names},
            "gap_kind": row.get("gap_kind"),
            "notes": row["notes"],
            "flags": [f.as_dict() for f in row["flags"]],
        }
        for p, row in table.iterrows()
    }
    return jsonable(
        {
            "schema_version": SCHEMA_VERSION,
            "schema": schema(list(fits)),
            "model": name,
            "title": info.get("title", name),
            "story": info.get("story", ""),
            "why_skewed": info.get("why_skewed", ""),
            "skewed": bool(info.get("skewed", True)),
            "references": list(info.get("references", [])),
            "info_missing": list(info.get("missing", [])),
            "source": source,
            "source_id": source_id,
            "seed": settings["seed"],
            "settings": settings,
            "versions": versions(),
            "cache_key": cache_key,
            "solvers": solvers,
            "parameters": parameters,
            "highlights": highlights or {},
            "closest_approximation": closest_approximation(fits, table),
        }
    )


def results_tree(
    fits: dict[str, Fit], table: pd.DataFrame, payload: dict[str, np.ndarray] | None = None
) -> xr.DataTree:
    """Each solver's draws in its group (the reference posterior at the root), the table's columns (those
    of the solvers in ``fits``) as ``point_estimates``, each solver's objective traces as ``<solver>_trace``
    (EM: ``em_trace``), and the model's ``payload`` arrays (if any) as ``payload`` (dimensions ``<name>_0``,
    ``<name>_1``, ...)."""
    groups: dict[str, xr.DataTree] = {}  # results.nc group -> draws
    for name, fit in fits.items():
        group = SOLVERS[name].group if name in SOLVERS else None
        if group and fit.draws is not None:
            groups[group] = fit.draws
    tree = xr.DataTree()
    for group, draws in sorted(groups.items(), key=lambda item: item[0] != "/"):  # the root first, then the groups
        if group == "/":
            tree = draws.copy()
        else:
            tree[group] = draws.copy()
    estimates = xr.Dataset(
        {c: ("parameter", table[c].to_numpy(dtype=float)) for c in columns(fits)},
        coords={"parameter": table.index.to_numpy(dtype=str)},
    )
    tree["point_estimates"] = xr.DataTree(estimates)
    for name, fit in fits.items():
        if not fit.traces:
            continue
        data = {}
        for run, traces in fit.traces.items():
            padded = np.full((len(traces), max(len(t) for t in traces)), np.nan)
            for i, t in enumerate(traces):
                padded[i, : len(t)] = t
            data[f"objective_{run}"] = ((f"restart_{run}", f"iteration_{run}"), padded)
        tree[f"{name}_trace"] = xr.DataTree(xr.Dataset(data))
    if payload:
        arrays = {k: np.asarray(v) for k, v in payload.items()}
        tree["payload"] = xr.DataTree(
            xr.Dataset({k: ([f"{k}_{i}" for i in range(v.ndim)], v) for k, v in arrays.items()})
        )
    return tree


def write_atomic(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and rename the result onto ``path`` (same folder, so atomic).

    The temporary file is named ``.<name>.<pid>.<random>.tmp``; if the process is killed before
    the rename, :func:`remove_stale_temporaries` deletes it on the next run.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete temporary files left in ``folder`` by runs that were killed (their process is gone).

    Temporaries of a live process (another run writing into the same folder) are left alone.
    """
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        parts = tmp.name.split(".")
        pid = next((int(p) for p in parts if p.isdigit()), None)
        if pid is None or _alive(pid):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dump_json(data: dict, path: Path) -> None:
    """Write ``data`` as strict JSON (no NaN/Infinity tokens), atomically."""
    text = json.dumps(data, indent=2, allow_nan=False)
    write_atomic(path, lambda tmp: tmp.write_text(text + "\n"))


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays as Python numbers and lists, non-finite floats as ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    return value
